"""Image parts: a cheap digest of the picture a user turn carries (pure, never decoded).

A request can carry its task as a picture (``image_url``: a CDN URL or an inline
``data:`` URL; the Responses API's ``input_image``; an ``image`` part with a base64
``source``) beside a short text ("Solve the problem in the picture."). The text is then not
the task: its fingerprint is the same for every picture. The digest stands for the picture:
the URL, or the inline data, hashed. Nothing is decoded: an inline picture longer than
:data:`WHOLE_CHARS` is hashed by :data:`WINDOWS` evenly spaced windows of
:data:`WINDOW_CHARS` characters and its length (about 1 KB read, whatever its size): two
uploads of different pictures differ in their length or in the sampled bytes (compressed
image data changes all along), one picture sent again gives the same digest.

What it cannot tell: one worksheet question photographed by two students is two digests
(different bytes), and a client can re-encode one picture into many digests. The digest is a
picture's identity, not its content: see ``gateway.fingerprints.fingerprint`` for where it
is used (the novelty cell of a short ask with a picture, the exact hash).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.fingerprints.hashing import stable_hash64

IMAGE_TYPES = ("image_url", "input_image", "image")
WHOLE_CHARS = 1_024  # a reference up to this long (a URL, a file id) is hashed whole
WINDOWS = 8
WINDOW_CHARS = 96
MAX_IMAGES = 16  # image parts of one user turn digested
_SALT = b"dg-image"


def _get(value: object, key: str) -> object:
    if type(value) is dict:
        return value.get(key)
    return value.get(key) if isinstance(value, Mapping) else None


def reference(part: object) -> str:
    """The string that identifies an image part's picture: its URL (a ``data:`` URL holds
    the bytes), file id or base64 source data ("" when none)."""
    url = _get(part, "image_url")
    if isinstance(url, str):
        return url  # the Responses API's input_image, or a flat image_url
    inner = _get(url, "url")
    if isinstance(inner, str):
        return inner
    source = _get(part, "source")  # an "image" part: {type: base64, data} or {type: url, url}
    for key in ("data", "url"):
        value = _get(source, key)
        if isinstance(value, str):
            return value
    file_id = _get(part, "file_id")
    return file_id if isinstance(file_id, str) else ""


def sample(ref: str) -> str:
    """What is hashed of one reference: all of it when short, else evenly spaced windows
    and the length (bounded: ``WINDOWS * WINDOW_CHARS`` characters)."""
    n = len(ref)
    if n <= WHOLE_CHARS:
        return ref
    starts = [i * (n - WINDOW_CHARS) // (WINDOWS - 1) for i in range(WINDOWS)]
    windows = [ref[s : s + WINDOW_CHARS] for s in starts]  # the first and the last included
    return f"{n}\x1f" + "\x1f".join(windows)


def image_digest(parts: Sequence[object]) -> int:
    """The 64-bit digest of the pictures of one user turn's image ``parts`` (0: none with a
    reference)."""
    refs = [sample(r) for p in parts[:MAX_IMAGES] if (r := reference(p))]
    if not refs:
        return 0
    return stable_hash64("\x1e".join(refs), _SALT) or 1


def is_image(part: object) -> bool:
    """An image content part."""
    return _get(part, "type") in IMAGE_TYPES
