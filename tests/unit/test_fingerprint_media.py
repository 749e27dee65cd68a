"""Media parts (pictures, recordings, files): a bounded digest of the URL, file id or inline
bytes (never decoded) that is the novelty cell of a short ask beside them
(gateway.fingerprints.media, fingerprint)."""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from gateway.clock import FakeClock
from gateway.detection import detectors
from gateway.detection.config import DetectionPolicy
from gateway.detection.memory_state import MemoryStateStore
from gateway.detection.observation import observation
from gateway.detection.types import EntityState, Finding
from gateway.fingerprints import media
from gateway.fingerprints.fingerprint import Fingerprinter

POLICY = DetectionPolicy()
CTX = detectors.Context(min_requests=30)
QUESTION = "Natalia sold clips to 48 of her friends in April. How many clips did she sell?"


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def _url(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, "detail": "high"}}


def _png(seed: int, size: int = 4000) -> str:
    raw = b"\x89PNG\r\n\x1a\n" + random.Random(seed).randbytes(size)
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def _ask(text: str, *parts: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "text", "text": text}, *parts]
    return {"model": "gpt-x", "messages": [{"role": "user", "content": content}]}


def test_references_of_every_part_shape() -> None:
    assert media.reference(_url("https://cdn.example/u/1.png")) == "https://cdn.example/u/1.png"
    flat = {"type": "input_image", "image_url": "https://cdn.example/u/2.png"}
    assert media.reference(flat) == "https://cdn.example/u/2.png"
    source = {"type": "image", "source": {"type": "base64", "data": "iVBORw0KGgo"}}
    assert media.reference(source) == "iVBORw0KGgo"
    assert media.reference({"type": "input_image", "file_id": "file-9"}) == "file-9"
    assert media.reference({"type": "image_url"}) == ""
    assert media.media_digest([{"type": "image_url"}]) == 0


def test_digest_of_urls_and_inline_bytes() -> None:
    a, b = _url("https://cdn.example/u/a.png"), _url("https://cdn.example/u/b.png")
    assert media.media_digest([a]) == media.media_digest([dict(a)]) != media.media_digest([b])
    one, other = _url(_png(1)), _url(_png(2))
    assert media.media_digest([one]) == media.media_digest([_url(_png(1))])
    assert media.media_digest([one]) != media.media_digest([other])
    assert media.media_digest([_url(_png(1, 4000))]) != media.media_digest([_url(_png(1, 4001))])
    assert media.media_digest([one, other]) != media.media_digest([other, one])


def test_inline_pictures_are_hashed_by_a_bounded_sample() -> None:
    huge = _png(3, 3_000_000)  # a 4 MB data URL
    sampled = media.sample(huge)
    assert len(sampled) <= media.WINDOWS * (media.WINDOW_CHARS + 1) + 16
    assert sampled.startswith(f"{len(huge)}\x1f")
    assert huge[-media.WINDOW_CHARS :] in sampled  # the end is read, not only the header
    assert media.sample("https://cdn.example/u/a.png") == "https://cdn.example/u/a.png"


def test_a_short_ask_beside_a_picture_takes_the_pictures_cell(fp: Fingerprinter) -> None:
    pics = [_ask("Solve the problem in the picture.", _url(_png(i))) for i in range(40)]
    prints = [fp.fingerprint(b, "chat") for b in pics]
    assert len({p.cell for p in prints}) >= 38  # 40 pictures: about 40 cells of 2**14
    assert len({p.exact for p in prints}) == 40
    assert len({p.skeleton for p in prints}) == 1  # the text is the same ask
    again = fp.fingerprint(_ask("Solve the problem in the picture.", _url(_png(0))), "chat")
    assert (again.cell, again.exact) == (prints[0].cell, prints[0].exact)
    # the request path's novelty cell is the same cell, and reused by the whole fingerprint
    part = fp.budget_part(pics[0], "chat", cell=True)
    assert part.print.cell == prints[0].cell
    reused = fp.fingerprint(pics[0], "chat", part.skeleton, part.print.cell)
    assert reused == prints[0]
    text_only = fp.fingerprint(_ask("Solve the problem in the picture."), "chat")
    assert text_only.cell == fp.cell_of("Solve the problem in the picture.")


def test_a_full_question_beside_a_picture_keeps_its_own_cell(fp: Fingerprinter) -> None:
    got = fp.fingerprint(_ask(QUESTION, _url("https://cdn.example/u/a.png")), "chat")
    alone = fp.fingerprint_text(QUESTION)
    assert got.cell == alone.cell and got.exact != alone.exact


async def _stream(fp: Fingerprinter, bodies: list[dict[str, Any]]) -> EntityState:
    clock = FakeClock()
    store = MemoryStateStore(clock)
    state = EntityState(entity="a:x")
    for body in bodies:
        clock.advance(60.0)
        obs = observation(
            fp.fingerprint(body, "chat"), fp.features(body, "chat"), POLICY, clock.now()
        )
        state = await store.observe("a:x", obs, clock.now(), window=86400, half_life=21600)
    return state


def _coverage(state: EntityState) -> Finding:
    return next(f for f in detectors.assess(state, CTX) if f.family == "coverage")


async def test_never_repeated_pictures_under_one_short_text_are_coverage(
    fp: Fingerprinter,
) -> None:
    pictures = await _stream(fp, [_ask("Please solve.", _url(_png(i))) for i in range(120)])
    assert _coverage(pictures).score > 0.5
    one = await _stream(fp, [_ask("Please solve.", _url(_png(7)))] * 120)
    assert _coverage(one).score == 0.0
    text = await _stream(fp, [_ask("Please solve.")] * 120)
    assert _coverage(text).score == 0.0


def _audio(i: int) -> dict[str, Any]:
    raw = bytes((i * 37 + k * 11) % 256 for k in range(6_000))
    data = base64.b64encode(raw).decode()
    return {"type": "input_audio", "input_audio": {"data": data, "format": "mp3"}}


def test_references_of_recordings_and_files() -> None:
    assert media.reference({"type": "input_audio", "input_audio": {"data": "SUQz"}}) == "SUQz"
    chat_file = {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}}
    assert media.reference(chat_file) == "data:application/pdf;base64,JVBE"
    assert media.reference({"type": "file", "file": {"file_id": "file-1"}}) == "file-1"
    assert media.reference({"type": "input_file", "file_url": "https://x.example/a.pdf"}) == (
        "https://x.example/a.pdf"
    )
    assert media.reference({"type": "input_file", "file_id": "file-2"}) == "file-2"
    assert media.is_media(_audio(1)) and not media.is_image(_audio(1))


def test_a_short_ask_beside_a_recording_takes_the_recordings_cell(fp: Fingerprinter) -> None:
    asks = [_ask("Answer the question in the recording.", _audio(i)) for i in range(40)]
    prints = [fp.fingerprint(b, "chat") for b in asks]
    assert len({p.cell for p in prints}) >= 38 and len({p.exact for p in prints}) == 40
    part = fp.budget_part(asks[3], "chat", cell=True)
    assert part.print.cell == prints[3].cell  # the request path's cell too
    # a recording adds no estimated tokens (settled from usage), a picture its constant
    text_only = fp.budget_part(_ask("Answer the question in the recording."), "chat", cell=False)
    assert part.print.est_tokens == text_only.print.est_tokens


async def test_never_repeated_recordings_under_one_short_text_are_coverage(
    fp: Fingerprinter,
) -> None:
    recordings = await _stream(fp, [_ask("Please answer.", _audio(i)) for i in range(120)])
    assert _coverage(recordings).score > 0.5
    one = await _stream(fp, [_ask("Please answer.", _audio(7))] * 120)
    assert _coverage(one).score == 0.0
