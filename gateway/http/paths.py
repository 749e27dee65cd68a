"""The request path rule: which paths under the route prefix are proxied, and how.

A strict rule rather than a clever normaliser. The raw path of the request target (before
``?``) is accepted only if

1. it starts with ``/`` and holds printable ASCII only (no control byte, space, NUL or
   non-ASCII byte), and neither ``\\`` nor ``;``;
2. every ``%`` starts an escape ``%HH`` that encodes neither ``.``, ``/``, ``\\``, ``%``
   nor ``;``, nor a control byte or a byte of 0x80 or more (so no double encoding such as
   ``%252e`` and no overlong UTF-8 forms such as ``%c0%ae``);
3. it has no empty segment (``//``) and no dot segment (``.`` or ``..``) anywhere;
4. once decoded, it is still under the route prefix.

Anything else is a 400 ``invalid_request_error`` (code ``invalid_path``). The decoded path
is the one budgets match, logs show and the forwarder sends upstream (re-encoded by
:func:`encoded_path`): checked and forwarded paths are the same string.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from gateway.errors import InvalidRequest

# what an escape may not encode: . / \ % ; controls, DEL and bytes >= 0x80
_BAD_ESCAPE = re.compile(r"%(?:2[eEfF5]|5[cC]|3[bB]|[01][0-9a-fA-F]|7[fF]|[89a-fA-F][0-9a-fA-F])")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_PRINTABLE = re.compile(r"[!-~]*")  # 0x21..0x7e
# the common case: no '.', '%', '\\', ';' or control, so nothing to decode and no dot segment
_PLAIN = re.compile(r"/[A-Za-z0-9_~:@!$&'()*+,=/-]*")
# the characters a path segment may hold unencoded (RFC 3986 pchar, without ';')
_SAFE = "/:@!$&'()*+,="

PATH_REFUSED = (
    "The request path is not allowed: dot segments, empty segments, backslashes, ';', "
    "control or non-ASCII characters, and encoded '.', '/', '\\', '%' or ';' are refused."
)


def _refuse() -> InvalidRequest:
    return InvalidRequest(PATH_REFUSED, code="invalid_path")


def checked_path(raw_path: str, prefix: str) -> str:
    """The decoded path of ``raw_path`` (the target's path, no query) if the rule above
    accepts it; else raises :class:`InvalidRequest`."""
    if _PLAIN.fullmatch(raw_path) is not None and "//" not in raw_path:
        path = raw_path
    else:
        path = _decoded(raw_path)
    if not path.startswith(prefix):
        raise _refuse()
    return path


def _decoded(raw_path: str) -> str:
    """Rules 1 to 3, for a path that may hold '.', escapes or forbidden characters."""
    if not raw_path.startswith("/") or _PRINTABLE.fullmatch(raw_path) is None:
        raise _refuse()
    if "\\" in raw_path or ";" in raw_path or "//" in raw_path:
        raise _refuse()
    if "%" in raw_path:
        if _BAD_ESCAPE.search(raw_path) or raw_path.count("%") != len(_ESCAPE.findall(raw_path)):
            raise _refuse()
        path = unquote(raw_path)
    else:
        path = raw_path
    for segment in path.split("/"):
        if segment in (".", ".."):
            raise _refuse()
    return path


def encoded_path(path: str) -> str:
    """A path accepted by :func:`checked_path`, percent-encoded for the upstream request
    (the upstream decodes it back to exactly ``path``). A plain path is its own encoding."""
    if _PLAIN.fullmatch(path) is not None:
        return path
    return quote(path, safe=_SAFE)
