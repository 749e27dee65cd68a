"""Property tests of the path rule (``gateway.http.paths``) and the forwarded URL."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from yarl import URL

from gateway.errors import InvalidRequest
from gateway.http.paths import checked_path, encoded_path
from gateway.proxy.forward import Forwarder

PREFIX = "/v1/"
PIECES = [
    "", ".", "..", "...", "%2e", "%2E", "%2e%2e", ".%2e", "%2f", "%2F", "%5c", "%5C", "\\",
    ";", "..;", "%3b", "%25", "%252e", "%252f", "%00", "\x00", "\x01", "%0a", "\n", "%c0%ae",
    "%c0%af", "%e0%80%ae", "%ff", "é", " ", "%20", "%41", "%", "%z", "%4", "?", "%3f", "#",
    "%23", "v1", "models", "chat", "completions", "mock", "stats", "a.b", ".hidden", "~u",
    "a:b", "@", "+", "=", "&",
]  # fmt: skip

segment = st.one_of(st.sampled_from(PIECES), st.text(max_size=6))
raw_paths = st.one_of(
    st.lists(segment, max_size=8).map(lambda parts: PREFIX + "/".join(parts)),
    st.lists(segment, max_size=8).map(lambda parts: "/" + "/".join(parts)),
    st.text(max_size=40),
)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: what a URL resolver (or an upstream) makes of the path."""
    out: list[str] = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    return "/" + "/".join(out)


@settings(max_examples=400, deadline=None)
@given(raw_paths)
@example("/v1/../mock/stats")
@example("/v1/%2e%2e/mock/stats")
@example("/v1/..%2fmock/stats")
@example("/v1/./../mock/stats")
@example("/v1/%252e%252e/mock/stats")
def test_a_path_is_refused_with_400_or_stays_under_the_prefix(raw: str) -> None:
    try:
        path = checked_path(raw, PREFIX)
    except InvalidRequest as error:
        assert (error.status, error.type) == (400, "invalid_request_error")
        assert error.code == "invalid_path"
        return
    assert path.startswith(PREFIX)
    segments = path.split("/")
    assert "." not in segments and ".." not in segments
    assert "//" not in path and "\\" not in path and ";" not in path and "%" not in path
    assert all(0x20 <= ord(c) < 0x7F for c in path)
    # every decoder and resolver downstream sees the same path
    assert remove_dot_segments(path) == path
    wire = encoded_path(path)
    assert unquote(wire) == path
    assert checked_path(wire, PREFIX) == path  # idempotent: the wire form passes as itself
    assert URL("http://upstream" + wire, encoded=True).path == path


@settings(max_examples=200, deadline=None)
@given(raw_paths, st.sampled_from(["http://up", "http://up/v1", "http://up/base"]))
def test_the_forwarded_url_is_the_checked_path(raw: str, base: str) -> None:
    try:
        path = checked_path(raw, PREFIX)
    except InvalidRequest:
        return
    forwarder = Forwarder(
        cast(Any, None),
        base,
        upstream_key=None,
        route_prefix=PREFIX,
        connect_timeout=1,
        read_timeout=1,
        account_header=None,
    )
    url = forwarder.url_for(path, "a=%26b")
    base_path = URL(base).path.rstrip("/")
    expected = path if base_path == "/v1" else base_path + path
    assert url.path == expected
    assert url.raw_query_string == "a=%26b"
    assert (url.scheme, url.host) == ("http", "up")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/v1/models/mock%2Dgpt", "/v1/models/mock-gpt"),
        ("/v1/models/ft:gpt-4o:org:x", "/v1/models/ft:gpt-4o:org:x"),
        ("/v1/files/file-abc/content", "/v1/files/file-abc/content"),
        ("/v1/", "/v1/"),
    ],
)
def test_ordinary_paths_are_accepted(raw: str, expected: str) -> None:
    assert checked_path(raw, PREFIX) == expected


@settings(max_examples=400, deadline=None)
@given(st.one_of(raw_paths, st.text(alphabet="/v1abZ09-_~:@!$&'()*+,=.%;\\ ", max_size=30)))
def test_the_fast_path_agrees_with_the_full_rule(raw: str) -> None:
    """Plain paths skip decoding; the full rule must accept them as they are."""
    from gateway.http.paths import _PLAIN, _decoded

    if _PLAIN.fullmatch(raw) is None or "//" in raw:
        return
    assert _decoded(raw) == raw
