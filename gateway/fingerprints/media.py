"""Media parts: a cheap digest of the pictures, recordings and files a user turn carries
(pure, never decoded).

A request can carry its task as a picture (``image_url``: a CDN URL or an inline ``data:``
URL; the Responses API's ``input_image``; an ``image`` part with a base64 ``source``), as a
recording (``input_audio``: base64 data) or as a file (``file`` / the Responses API's
``input_file``: inline data, a file id or a URL) beside a short text ("Solve the problem in
the picture.", "Answer the question in the recording."). The text is then not the task: its
fingerprint is the same for every part. The digest stands for what the parts hold: the URL,
the file id or the inline data, hashed. Nothing is decoded: an inline part longer than
:data:`WHOLE_CHARS` is hashed by :data:`WINDOWS` evenly spaced windows of
:data:`WINDOW_CHARS` characters and its length (about 1 KB read, whatever its size): two
uploads of different content differ in their length or in the sampled bytes (compressed
image and audio data change all along), one part sent again gives the same digest.

What it cannot tell: one worksheet question photographed (or read aloud) by two students is
two digests (different bytes), and a client can re-encode one part into many digests. The
digest is a part's identity, not its content: see ``gateway.fingerprints.fingerprint`` for
where it is used (the novelty cell of a short ask beside media, the exact hash).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.fingerprints.hashing import stable_hash64

IMAGE_TYPES = ("image_url", "input_image", "image")
MEDIA_TYPES = (*IMAGE_TYPES, "input_audio", "file", "input_file")
WHOLE_CHARS = 1_024  # a reference up to this long (a URL, a file id) is hashed whole
WINDOWS = 8
WINDOW_CHARS = 96
MAX_MEDIA = 16  # media parts of one user turn digested
_SALT = b"dg-image"  # the salt of the pictures' digests before recordings and files counted


def _get(value: object, key: str) -> object:
    if type(value) is dict:
        return value.get(key)
    return value.get(key) if isinstance(value, Mapping) else None


def reference(part: object) -> str:
    """The string that identifies a media part's content: a picture's URL (a ``data:`` URL
    holds the bytes), a recording's base64 data, a file's inline data, id or URL, or a base64
    ``source`` ("" when none)."""
    url = _get(part, "image_url")
    if isinstance(url, str):
        return url  # the Responses API's input_image, or a flat image_url
    inner = _get(url, "url")
    if isinstance(inner, str):
        return inner
    # a recording {input_audio: {data}}, a chat file {file: {file_data | file_id}}, an image
    # part's source {data | url}; a Responses input_file holds its fields flat
    for holder in (_get(part, "input_audio"), _get(part, "file"), _get(part, "source"), part):
        for key in ("data", "file_data", "url", "file_url", "file_id"):
            value = _get(holder, key)
            if isinstance(value, str):
                return value
    return ""


def sample(ref: str) -> str:
    """What is hashed of one reference: all of it when short, else evenly spaced windows
    and the length (bounded: ``WINDOWS * WINDOW_CHARS`` characters)."""
    n = len(ref)
    if n <= WHOLE_CHARS:
        return ref
    starts = [i * (n - WINDOW_CHARS) // (WINDOWS - 1) for i in range(WINDOWS)]
    windows = [ref[s : s + WINDOW_CHARS] for s in starts]  # the first and the last included
    return f"{n}\x1f" + "\x1f".join(windows)


def media_digest(parts: Sequence[object]) -> int:
    """The 64-bit digest of one user turn's media ``parts`` (0: none with a reference)."""
    refs = [sample(r) for p in parts[:MAX_MEDIA] if (r := reference(p))]
    if not refs:
        return 0
    return stable_hash64("\x1e".join(refs), _SALT) or 1


def is_media(part: object) -> bool:
    """A picture, recording or file content part."""
    return _get(part, "type") in MEDIA_TYPES


def is_image(part: object) -> bool:
    """A picture content part."""
    return _get(part, "type") in IMAGE_TYPES
