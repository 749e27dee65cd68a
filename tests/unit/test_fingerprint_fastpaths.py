"""The vectorised fast paths of the fingerprint pipeline equal their plain definitions.

Each fast path (bytes.translate tables for ASCII text, packed counters, uint16 pair lookups,
uint8-lane SimHash counts, integer bincount embeddings, contiguous body segments) is checked
here against a straightforward re-statement of what it computes, on real corpus prompts and
on edge cases; ``test_fingerprint_golden`` checks the end results against recorded values.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from gateway.fingerprints import chars as C
from gateway.fingerprints.cells import HyperplaneCells, _margin_cell
from gateway.fingerprints.embed import HashedNgramEmbedder
from gateway.fingerprints.frame import body_segment, frame_hash, frame_range, framed_body
from gateway.fingerprints.hashing import PrefixHasher, fmix64, hash_sequence, stable_hash64
from gateway.fingerprints.lexicon import Lexicon, bitmap_hits
from gateway.fingerprints.simhash import simhash
from gateway.fingerprints.skeleton import Skeletonizer, premask_spans
from gateway.fingerprints.skeleton import _www as www_spans
from gateway.fingerprints.tokens import _Chars, exact_hash, exact_of
from loadtest.corpus import load_prompts

EDGE = [
    "",
    " ",
    "A",
    "a1",
    "Hello. World: Janet\nhas 3 apples! NASA iPhone A中 Ab中 中A 中Ab x",
    "İstanbul Σίσυφος ΣΑΣ 😀 Straße ǅungla ﬁne ＡＢＣ１２３: x",
    "一步一步地思考。请解释你的推理过程：小明有3个苹果。",
    'He said "it is 3:30. ok" then: next\nline: «a: b» and www.X.org/a:b 10:45',
    "\x1cA\x1db\x1e\x1fc\t\v\fd\r\ne",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    prompts = load_prompts(full=False)
    return [p.text for p in prompts[::5]] + EDGE


@pytest.fixture(scope="module")
def skz() -> Skeletonizer:
    return Skeletonizer()


def _reference_tokens(text: str) -> list[dict[str, object]]:
    """Tokens by their definition, one character at a time (flags from ``chars``)."""
    table = C.char_tables().flags
    flags = [int(table[ord(c)]) if ord(c) < C.TABLE_SIZE else 0 for c in text]
    spans = premask_spans(text) or []
    inside = [False] * len(text)
    for lo, hi, _ in spans:
        inside[lo:hi] = [True] * (hi - lo)
    single = [bool(f & C.SINGLE) for f in flags]
    out: list[dict[str, object]] = []
    i = 0
    sent = brk = 0  # sentence ends and breaks outside literals so far
    prev = (0, 0)
    while i < len(text):
        if not flags[i] & C.WORD:
            if not inside[i]:
                sent += bool(flags[i] & C.SENT_END)
                brk += bool(flags[i] & C.BREAK)
            i += 1
            continue
        j = i + 1
        if not single[i]:
            while j < len(text) and flags[j] & C.WORD and not single[j]:
                j += 1
        d = sum(1 for k in range(i, j) if flags[k] & C.DIGIT and not inside[k])
        first, second = flags[i], flags[i + 1] if i + 1 < len(text) else 0
        out.append(
            {
                "span": (i, j),
                "has_digit": d > 0,
                "titlecase": bool(first & C.UPPER) and j - i > 1 and not second & C.UPPER,
                "sentence_initial": not out or sent > prev[0],
                "new_segment": brk > prev[1],
            }
        )
        prev = (sent, brk)
        i = j
    return out


def test_tokens_match_their_definition(texts: list[str], skz: Skeletonizer) -> None:
    for text in texts:
        prepared = skz.prepare(text)
        tokens = skz.tokenize(text)
        ref = _reference_tokens(prepared)
        assert [t["span"] for t in ref] == list(
            zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)
        ), text[:40]
        for key in ("has_digit", "titlecase", "sentence_initial"):
            assert [t[key] for t in ref] == getattr(tokens, key).tolist(), (key, text[:40])
        segment = np.cumsum([bool(t["new_segment"]) for t in ref]).tolist()
        assert tokens.segment.tolist() == segment, text[:40]
        lowered = prepared.lower()
        if len(lowered) == len(prepared) and all(ord(c) < C.TABLE_SIZE for c in prepared):
            kept = "".join(low for c, low in zip(prepared, lowered, strict=True) if not c.isspace())
            raw = kept.encode("utf-16-le", "surrogatepass")
            assert tokens.exact == ((stable_hash64(raw) or 1) if raw else 0), text[:40]


def test_an_exact_hash_made_later_equals_the_tokenisations(
    texts: list[str], skz: Skeletonizer
) -> None:
    """The request path tokenises without the exact hash; made afterwards from the kept
    characters (``exact_of``) it is the one a tokenisation with it gives, for ASCII, other
    BMP, longer lower case and beyond-BMP text alike."""
    for text in texts:
        prepared = skz.prepare(text)
        whole = skz.tokenize_prepared(prepared, premask_spans(prepared))
        light = skz.tokenize_prepared(prepared, premask_spans(prepared), exact=False)
        assert whole.chars is None and light.chars is not None and light.exact == 0
        assert exact_of(light, skz.tables) == whole.exact == exact_hash(prepared, skz.tables)
        assert exact_of(whole, skz.tables) == whole.exact, text[:40]


def test_the_scans_token_hashes_are_prefix_hashes(texts: list[str], skz: Skeletonizer) -> None:
    """The compiled scan hashes each token as ``PrefixHasher`` defines it (below)."""
    hasher = PrefixHasher(skz.max_chars + 16)
    for text in texts:
        prepared = skz.prepare(text)
        tokens = skz.tokenize(text)
        lower = _Chars(prepared, C.char_tables(), exact=False).lower
        want = fmix64(hasher.span(hasher.prefix(lower), tokens.starts, tokens.ends))
        assert tokens.hashes.tolist() == want.tolist(), text[:40]


def test_token_hashes_equal_the_prefix_hash_definition() -> None:
    hasher = PrefixHasher(600)
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 17, 600):
        for dtype, top in ((np.uint8, 128), (np.uint32, 0x10FFFF)):
            cps = rng.integers(0, top, n).astype(dtype)
            cuts = np.unique(rng.integers(0, n + 1, 2 * (n // 3)))
            edges = cuts[: len(cuts) // 2 * 2].astype(np.intp)
            starts, ends = edges[0::2], edges[1::2]
            want = fmix64(hasher.span(hasher.prefix(cps), starts, ends))
            assert hasher.token_hashes(cps, edges).tolist() == want.tolist()


@pytest.mark.parametrize("n", [1, 2, 254, 255, 256, 510, 511, 700, 1023])
def test_simhash_majority_across_lane_chunks(n: int) -> None:
    rng = np.random.default_rng(n)
    feats = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(n & 1)
    feats[: n // 3] = np.uint64(0xFFFF_FFFF_0000_0000)  # skewed bits: counts near n and 0
    value = simhash(feats)
    for bit in range(64):
        ones = int(((feats >> np.uint64(bit)) & np.uint64(1)).sum())
        assert bool(value >> bit & 1) == (ones * 2 > n)


def test_www_search_equals_the_case_insensitive_regex() -> None:
    pattern = re.compile(r"\bwww\.\S+", re.I)
    rng = random.Random(7)
    pieces = ["www.", "WWW.", "wWw.", "awww.x", " ", "\n", "x", "www.a.b/c", "ww", "."]
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        want = [(*m.span(), 2) for m in pattern.finditer(text)]
        assert www_spans(text) == want, text
    for text in ("www.ﬁ.com Www.x", "İ www.a.b WWW.b"):  # non-ASCII: the regex itself
        assert www_spans(text) == [(*m.span(), 2) for m in pattern.finditer(text)]


def test_embedding_equals_signed_float_feature_hashing(texts: list[str]) -> None:
    emb = HashedNgramEmbedder()
    mix, shift = np.uint64(0xD6E8FEB86659FD93), np.uint64(55)
    for text in texts:
        sk = emb.skeletonizer.skeleton(text)
        idx = emb.content(sk)
        got = emb.embed_skeleton(sk)
        if len(idx) == 0:
            assert not got.any()
            continue
        mixed = sk.tokens.hashes[idx] * mix
        signs = np.where((mixed >> np.uint64(54)) & np.uint64(1), -1.0, 1.0)
        vec = np.bincount((mixed >> shift).astype(np.intp), weights=signs, minlength=512)
        norm = float(np.sqrt(vec @ vec))
        want = (vec / norm if norm > 0 else vec).astype(np.float32)
        if not sk.tokens.cjk:
            assert got.tobytes() == want.tobytes(), text[:40]


@pytest.mark.parametrize("dim", [512, 64, 8])
def test_the_compiled_embedding_pass_equals_content_then_vector(
    texts: list[str], skz: Skeletonizer, dim: int
) -> None:
    """The one compiled pass of ``embed_skeleton`` (text without CJK) gives the vector that
    ``content`` then ``_vector`` give, bit for bit, for the whole text and per segment, also
    for a text longer than the skeleton's cap."""
    emb = HashedNgramEmbedder(dim=dim, skeletonizer=skz)
    long = " ".join(f"Word{i % 7} topic{i} about: the" for i in range(skz.max_words))
    checked = 0
    for text in [*texts, long]:
        sk = skz.skeleton(text)
        if sk.tokens.cjk:
            continue
        for segment in (None, body_segment(sk), 0, 1, 2):
            idx = emb.content(sk, segment)
            want = emb._vector(sk.tokens.hashes[idx]) if len(idx) else np.zeros(dim, np.float32)
            got = emb.embed_skeleton(sk, segment)
            assert got.dtype == np.float32 and got.tobytes() == want.tobytes(), text[:40]
            checked += len(idx) > 0
    assert checked > 100


def test_the_framed_body_equals_body_segment_and_frame_range(
    texts: list[str], skz: Skeletonizer
) -> None:
    """The compiled test of the novelty cell (``framed_body``) gives the body segment exactly
    when ``frame_range`` finds a frame, for several minimum frame sizes."""
    framed = 0
    for text in [*texts, "a: b", "a: b c", "x\ny\nz", "a b: c d\ne f g: h"]:
        sk = skz.skeleton(text)
        for min_tokens in (0, 1, 2, 3, 5):
            body = body_segment(sk)
            want = body if frame_range(sk, body, min_tokens) is not None else None
            assert framed_body(sk, min_tokens) == want, (text[:40], min_tokens)
            framed += want is not None
    assert framed > 50


@pytest.mark.parametrize("cell_bits", [14, 10, 5, 1])
def test_margin_cells_equal_the_per_group_rule(cell_bits: int) -> None:
    """The compiled margin cell: per group the first largest absolute projection (numpy's
    argmax) and its side; ties included (the zero vector, repeated values)."""
    cells = HyperplaneCells(64, cell_bits=cell_bits, seed=3)
    sizes = [7] * (cell_bits // 7) + ([cell_bits % 7] if cell_bits % 7 else [])
    rng = np.random.default_rng(3)
    vectors = [rng.standard_normal(64).astype(np.float32) for _ in range(300)]
    projections = [cells.projections(v) for v in vectors]
    projections.append(np.zeros(len(projections[0]), np.float32))
    projections += [np.round(p / 4) for p in projections[:20]]  # many equal absolute values
    groups = np.array(sizes, dtype=np.intp)
    for i, proj in enumerate(projections):
        got = cells.cell(vectors[i]) if i < len(vectors) else _margin_cell(proj, groups)
        want, pos = 0, 0
        for bits in sizes:
            group = proj[pos : pos + (1 << (bits - 1))]
            pos += len(group)
            top = int(np.argmax(np.abs(group)))
            want = (want << bits) | (top << 1) | int(group[top] > 0.0)
        assert got == want


def test_frame_hash_equals_the_masked_definition(texts: list[str], skz: Skeletonizer) -> None:
    body_marker = np.array([0xB0D7B0D7B0D7B0D7], dtype=np.uint64)
    framed = 0
    for text in texts + [f"Question: {t}\nAnswer: think step by step" for t in texts[:40]]:
        sk = skz.skeleton(text)
        segments = sk.tokens.segment[sk.index]
        assert sk.segments.tolist() == segments.tolist()
        got = frame_hash(sk)
        if len(segments) == 0 or segments[0] == segments[-1]:
            assert got == 0
            continue
        body = segments == body_segment(sk)
        if int((~body).sum()) < 2:
            assert got == 0
            continue
        first = int(np.argmax(body))
        seq = np.concatenate(
            (sk.hashes[:first][~body[:first]], body_marker, sk.hashes[first:][~body[first:]])
        )
        assert got == (hash_sequence(seq) or 1)
        framed += 1
    assert framed > 20


def test_the_lexicons_candidates_equal_the_bitmap_lookup(
    texts: list[str], skz: Skeletonizer
) -> None:
    """The compiled anchor search: the tokens whose hash's low 16 bits the bitmap holds, in
    order, as the numpy lookup finds them."""
    lexicon = Lexicon(skeletonizer=skz)
    rng = np.random.default_rng(5)
    cases = [skz.tokenize(t).hashes for t in texts]
    cases += [rng.integers(0, 2**64, size=n, dtype=np.uint64) for n in (0, 1, 5000)]
    bitmap = lexicon._bitmap.copy()
    bitmap[::3] = True  # a denser bitmap: random hashes hit it too
    found = 0
    for hashes in cases:
        for table in (lexicon._bitmap, bitmap):
            want = np.flatnonzero(table[hashes.astype(np.uint16)])
            got = bitmap_hits(hashes, table)
            assert got.tolist() == want.tolist()
            found += len(want)
    assert found > 1000
