"""A one-page PDF written the way every office suite and PDF library writes one (Helvetica
text in a Flate-compressed content stream) and sent as a Chat Completions ``file`` part
(``file_data`` a base64 ``data:`` URL): round 15's worksheets.

The text of such a file is deflated inside base64: reading it needs a PDF reader, not a
base64 or cipher decoder.
"""

from __future__ import annotations

import base64
import textwrap
import zlib
from collections.abc import Sequence
from typing import Any

WIDTH = 88  # characters a line of 11 pt Helvetica holds across an A4 page with margins
MEDIA = "application/pdf"


def _escape(line: str) -> str:
    """A PDF literal string's body: Latin-1 only, backslash and parentheses escaped."""
    safe = line.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(paragraphs: Sequence[str]) -> bytes:
    """The page's drawing operators: each paragraph wrapped, a blank line between them."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "56 790 Td"]
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, WIDTH) or [""]:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def pdf(paragraphs: Sequence[str], title: str = "Worksheet") -> bytes:
    """A valid one-page PDF 1.4 holding ``paragraphs`` (its cross-reference table exact)."""
    stream = zlib.compress(_content(paragraphs), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (%s) /Producer (Microsoft: Print To PDF) >>" % _escape(title).encode(),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for k, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % k + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def file_part(data: bytes, filename: str) -> dict[str, Any]:
    """A Chat Completions content part carrying ``data`` as an inline PDF."""
    url = f"data:{MEDIA};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "file", "file": {"filename": filename, "file_data": url}}


def page_text(data: bytes) -> str:
    """The text a PDF reader gets back from :func:`pdf`'s page (tests, the control script)."""
    start = data.index(b"stream\n") + len(b"stream\n")
    end = data.index(b"\nendstream", start)
    ops = zlib.decompress(data[start:end]).decode("latin-1")
    lines = [op[1 : -len(") Tj T*")] for op in ops.splitlines() if op.endswith(") Tj T*")]
    return " ".join(line.replace("\\(", "(").replace("\\)", ")") for line in lines)
