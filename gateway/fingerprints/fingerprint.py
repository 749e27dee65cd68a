"""The fingerprint stage's pure core: request body -> :class:`gateway.model.Fingerprint`.

The fingerprint is of the LAST user turn (the new question), plus a hash of the system
prompt and the system prompt's own elicitation score (an app's style, kept apart from the user
turn's); ``est_tokens`` covers the whole request. The elicitation lexicon reads the user
turn together with the chat's tail (an assistant prefill, tool results after it: see
:mod:`gateway.fingerprints.request`). When the user turn is only a cue (shorter than
:data:`TAIL_CUE_CHARS`: "Next item.") and a tail follows it, the task is in the tail: the
detection fingerprint is then of the cue and the tail together (the request path's novelty
cell stays the user turn's: budgets charge what they always charged).

A continuation ("continue" after a cut answer) is fingerprinted as the ask it continues,
each piece with its own exact hash (the ask's, mixed with the piece count: a piece is not
a resent prompt). A user turn with pictures, recordings or files mixes their digest into
the exact hash; when its text is a short ask (under :data:`MEDIA_ASK_CHARS`: "Solve the
problem in the picture."), the media part is the task: the novelty cell, on the request
path too, is the digest's (see :mod:`gateway.fingerprints.media`).

A prompt holding its task encoded (base64, hex, a letter cipher such as ROT13) or written
with look-alike letters or invisible characters is fingerprinted as its plain text
(:mod:`gateway.fingerprints.reveal`), after the response only: the request path's novelty
cell stays the text's as sent.

Everything is deterministic across processes (no salted ``hash()``) and bounded in cost
(``max_words`` skeleton tokens, 12 characters per word of text). Set
``OPENBLAS_NUM_THREADS=1`` in the serving process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from gateway.apis import Api
from gateway.fingerprints.cells import HyperplaneCells
from gateway.fingerprints.embed import Embedder, HashedNgramEmbedder, Vector
from gateway.fingerprints.estimate import estimate_text_tokens
from gateway.fingerprints.frame import body_segment, frame_hash, framed_body, sentence_frame
from gateway.fingerprints.hashing import hash_sequence, stable_hash64
from gateway.fingerprints.lexicon import Elicitation, Lexicon
from gateway.fingerprints.normalize import normalize
from gateway.fingerprints.product_terms import PRODUCT_TERMS, PRODUCT_WINDOW
from gateway.fingerprints.request import (
    PromptParts,
    first_ask_text,
    prompt_parts,
    request_features,
)
from gateway.fingerprints.reveal import Revealer
from gateway.fingerprints.simhash import bands, ngram_simhash
from gateway.fingerprints.skeleton import Skeleton, Skeletonizer
from gateway.fingerprints.tokens import exact_of
from gateway.memo import BoundedMemo
from gateway.model import BudgetPrint, Fingerprint, RequestFeatures

SYSTEM_LEXICON_CHARS = 4_000
TAIL_LEXICON_CHARS = 4_000  # of the chat's tail (prefill, tool results) the lexicon reads
# A user turn shorter than this carries no task of its own ("Next item.", "go on"; the
# tuning split's tasks: 98.5 % are 40 characters or longer, see fingerprints.value)
TAIL_CUE_CHARS = 40
# A text beside a picture (recording, file) shorter than this is a generic ask ("Help me
# with this question from my worksheet." is 45): the part is the task, its digest the cell
MEDIA_ASK_CHARS = 64
_SYSTEM_SALT = b"dg-system"
# A system prompt recurs (an app sends its own with every request): its hash and lexicon
# evidence are remembered for the SYSTEMS_REMEMBERED latest ones of at most
# SYSTEM_MEMO_CHARS characters (then all forgotten), not made again per request
SYSTEMS_REMEMBERED = 256
SYSTEM_MEMO_CHARS = 8_192
_EXACT_SALT = b"dg-exact-mix"


@dataclass(frozen=True, slots=True)
class BudgetPart:
    """What the request path computed of a prompt: the budgets' part (``print``) and, when
    it computed the cell, the last user turn's skeleton, which the whole fingerprint reuses
    after the response."""

    print: BudgetPrint
    skeleton: Skeleton | None = None


class Fingerprinter:
    """Build once per process (tables, hyperplanes, lexicon); then call per request."""

    def __init__(
        self,
        cell_bits: int = 14,
        embedder: Embedder | None = None,
        max_words: int = 512,
        cell_seed: int = 0xD15C0,
    ) -> None:
        self.skeletonizer = Skeletonizer(max_words=max_words)
        self.embedder: Embedder = embedder or HashedNgramEmbedder(skeletonizer=self.skeletonizer)
        self.cells = HyperplaneCells(self.embedder.dim, cell_bits=cell_bits, seed=cell_seed)
        self.lexicon = Lexicon(skeletonizer=self.skeletonizer)
        self.revealer = Revealer(self.skeletonizer)
        # asks for distillation products besides a trace (data, soft labels, programs,
        # corrections): scored apart, counted by detection only in a sweep
        self.products = Lexicon(
            PRODUCT_TERMS, skeletonizer=self.skeletonizer, whole_text=False, window=PRODUCT_WINDOW
        )
        # every Skeletonizer hashes alike, so the default embedder reuses our skeleton
        self._fast = isinstance(self.embedder, HashedNgramEmbedder)
        self._systems: BoundedMemo[str, tuple[int, Elicitation]] = BoundedMemo(SYSTEMS_REMEMBERED)
        # compile the passes of the cell and the SimHash now, not mid-request
        ngram_simhash(self.skeleton_of("a b").hashes)
        self.cell_of("a: b c\nd")

    def fingerprint(
        self,
        body: Mapping[str, object] | object,
        endpoint: str,
        skeleton: Skeleton | None = None,
        cell: int | None = None,
        *,
        frame_only: bool = False,
        parts: PromptParts | None = None,
    ) -> Fingerprint:
        """Fingerprint a request body (``endpoint``: chat, completions, embeddings, other);
        ``skeleton``: its last user turn's, when the request path already made it, and
        ``cell``: the novelty cell it computed from that skeleton (:meth:`budget_part`).
        ``frame_only``: only what account linking reads (see :meth:`_frame_print`);
        ``parts``: the body's :func:`prompt_parts`, when the request path read them."""
        if parts is None:
            parts = prompt_parts(body, endpoint)
        if frame_only:
            return self._frame_print(parts, skeleton, cell)
        fp = self._fingerprint(parts, skeleton, cell)
        first = first_ask_text(body, endpoint, parts.opened) if parts.user_turns > 1 else ""
        if not first:
            return fp
        thread, thread_cell = self.thread_of(first)
        return replace(fp, thread=thread, thread_cell=thread_cell)

    def thread_of(self, first: str) -> tuple[int, int]:
        """A conversation's identity: the exact hash and the cell of its first real ask, as
        that ask's own single-turn fingerprint has them."""
        tokens = self.skeletonizer.tokenize(first)
        return tokens.exact, self._cell(self.skeletonizer.from_tokens(tokens))

    def _fingerprint(
        self, parts: PromptParts, skeleton: Skeleton | None, cell: int | None
    ) -> Fingerprint:
        if parts.ask:  # a continuation: the ask it continues, this piece's own exact hash
            fp = self._with_media(
                self.fingerprint_text(parts.ask, parts.system, parts.est_tokens), parts.ask, parts
            )
            return replace(fp, exact=mix(fp.exact, parts.continued))
        if parts.tail and len(parts.last_user.strip()) < TAIL_CUE_CHARS:
            task = f"{parts.last_user}\n{parts.tail}"  # a cue, then the task in a tool result
            fp = self.fingerprint_text(task, parts.system, parts.est_tokens)
            return self._with_media(fp, parts.last_user, parts)
        fp = self.fingerprint_text(
            parts.last_user, parts.system, parts.est_tokens, skeleton, cell, tail=parts.tail
        )
        return self._with_media(fp, parts.last_user, parts)

    def _with_media(self, fp: Fingerprint, text: str, parts: PromptParts) -> Fingerprint:
        """``fp`` with the user turn's media parts: their digest mixed into the exact hash
        and, beside a short ask, the novelty cell the digest's."""
        if not parts.media:
            return fp
        if len(text.strip()) < MEDIA_ASK_CHARS:
            return replace(fp, exact=mix(fp.exact, parts.media), cell=self.media_cell(parts))
        return replace(fp, exact=mix(fp.exact, parts.media))

    def media_cell(self, parts: PromptParts) -> int:
        """The novelty cell of a short ask's media parts: their digest's low bits."""
        return parts.media % (1 << self.cells.cell_bits)

    def budget_part(
        self,
        body: Mapping[str, object] | object,
        endpoint: str,
        *,
        cell: bool,
        parts: PromptParts | None = None,
    ) -> BudgetPart:
        """The request path's part: the token estimate and, when ``cell``, the novelty cell
        (equal to the whole fingerprint's ``cell``; nothing else is computed), with the
        skeleton the cell was computed from. ``parts``: the body's :func:`prompt_parts`,
        when the caller read them."""
        if parts is None:
            parts = prompt_parts(body, endpoint)
        if not cell:
            return BudgetPart(BudgetPrint(parts.est_tokens))
        sk = self.skeleton_of(parts.last_user)
        if parts.media and not parts.ask and len(parts.last_user.strip()) < MEDIA_ASK_CHARS:
            return BudgetPart(BudgetPrint(parts.est_tokens, self.media_cell(parts)), sk)
        return BudgetPart(BudgetPrint(parts.est_tokens, self._cell(sk)), sk)

    def budget_print(
        self, body: Mapping[str, object] | object, endpoint: str, *, cell: bool
    ) -> BudgetPrint:
        """:meth:`budget_part` without the skeleton."""
        return self.budget_part(body, endpoint, cell=cell).print

    def skeleton_of(self, text: str) -> Skeleton:
        """The skeleton of one prompt text, its tokens without the exact hash."""
        return self.skeletonizer.from_tokens(self.skeletonizer.tokenize(text, exact=False))

    def cell_of(self, text: str) -> int:
        """The novelty cell of one prompt text: tokens without the exact hash, the body
        segment when there is a frame (not its hash), the embedding, the cell."""
        return self._cell(self.skeleton_of(text))

    def _cell(self, sk: Skeleton) -> int:
        return self.cells.cell(self.embedding(sk, framed_body(sk)))

    def features(
        self,
        body: Mapping[str, object] | object,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        client_stack: int = 0,
        parts: PromptParts | None = None,
        api: Api | None = None,
    ) -> RequestFeatures:
        return request_features(body, endpoint, headers, client_stack, parts, api)

    def fingerprint_text(
        self,
        text: str,
        system: str = "",
        est_tokens: int | None = None,
        skeleton: Skeleton | None = None,
        cell: int | None = None,
        *,
        tail: str = "",
        reveal: bool = True,
    ) -> Fingerprint:
        """Fingerprint one prompt text (``est_tokens``: by default the estimate of these two
        texts; ``skeleton``: the text's own from :meth:`skeleton_of`, reused; ``cell``: the
        novelty cell :meth:`_cell` made of that skeleton, reused, only with ``skeleton``;
        ``tail``: the chat's text after the user turn, read by the elicitation lexicon as
        the user turn's own wording; ``reveal``: a text with encoded spans, base64 or a
        letter cipher, is fingerprinted as its plain text, see :mod:`.reveal`).
        The stages are timed one by one in ``loadtest.bench_fingerprint``."""
        if skeleton is None:
            tokens = self.skeletonizer.tokenize(text)
            sk = self.skeletonizer.from_tokens(tokens)
            exact = tokens.exact
        else:
            sk, tokens = skeleton, skeleton.tokens
            exact = exact_of(tokens, self.skeletonizer.tables)
        plain = self.revealer.reveal(tokens) if reveal else None
        if plain is not None:  # what the model is asked: the encoded task, made plain
            if est_tokens is None:
                est_tokens = estimate_text_tokens(text) + estimate_text_tokens(system)
            return self.fingerprint_text(plain, system, est_tokens, tail=tail, reveal=False)
        segment = body_segment(sk)
        frame = frame_hash(sk, segment)
        select = segment if frame else None
        sim = ngram_simhash(sk.hashes)
        elicit = self.lexicon.match_tokens(tokens)
        frame = frame or _sentence_frame(sk, elicit.anchor)
        product = self.products.match_tokens(tokens)
        if tail:  # a prefill or a tool result carrying the ask: the user turn's wording
            after = self.lexicon.score(tail[:TAIL_LEXICON_CHARS])
            if after.terms:
                elicit = self.lexicon.combine(elicit.terms + after.terms)
            also = self.products.score(tail[:TAIL_LEXICON_CHARS])
            if also.terms:
                product = self.products.combine(product.terms + also.terms)
        terms, system_score, system_print = elicit.terms, 0.0, 0
        if system:  # an app's style: kept apart from the user turn's own wording
            system_print, extra = self.system_part(system)
            if extra.terms:
                system_score = extra.score
                terms = self.lexicon.combine(elicit.terms + extra.terms).terms
        words = len(tokens)
        if len(text) > self.skeletonizer.max_chars:
            words = round(words * len(text) / self.skeletonizer.max_chars)
        if est_tokens is None:
            est_tokens = estimate_text_tokens(text) + estimate_text_tokens(system)
        return Fingerprint(
            exact=exact,
            skeleton=hash_sequence(sk.hashes) if len(sk) else 0,
            simhash=sim,
            bands=bands(sim),
            cell=self.cells.cell(self.embedding(sk, select))
            if cell is None or skeleton is None
            else cell,
            system=system_print,
            words=words,
            est_tokens=est_tokens,
            elicitation=elicit.score,
            elicitation_terms=terms,
            frame=frame,
            system_elicitation=system_score,
            product=product.score,
        )

    def system_part(self, system: str) -> tuple[int, Elicitation]:
        """A system prompt's hash (:func:`system_hash`) and its lexicon evidence (of its
        first ``SYSTEM_LEXICON_CHARS`` characters), remembered for recurring ones."""
        found = self._systems.get(system)
        if found is None:
            found = (system_hash(system), self.lexicon.score(system[:SYSTEM_LEXICON_CHARS]))
            if len(system) <= SYSTEM_MEMO_CHARS:
                self._systems.put(system, found)
        return found

    def _frame_print(
        self, parts: PromptParts, skeleton: Skeleton | None, cell: int | None
    ) -> Fingerprint:
        """What account linking alone reads of a request (``fingerprint(frame_only=True)``):
        the template ``frame`` (the whole fingerprint's), the token estimate and, with the
        request path's skeleton, its cell; every other hash is 0. The elicitation lexicon
        runs only for a prompt without a segment frame (its matched phrase's sentence may
        be the frame)."""
        sk = skeleton if skeleton is not None else self.skeleton_of(parts.last_user)
        frame = frame_hash(sk, body_segment(sk))
        if not frame:
            frame = _sentence_frame(sk, self.lexicon.anchor(sk.tokens))
        return Fingerprint(
            exact=0, skeleton=0, simhash=0, bands=(0, 0, 0, 0),
            cell=cell if cell is not None and skeleton is not None else 0, system=0, words=0,
            est_tokens=parts.est_tokens, elicitation=0.0, frame=frame,
        )  # fmt: skip

    def embedding(self, sk: Skeleton, segment: int | None) -> Vector:
        """The embedding of one segment of a skeleton (all of it when None)."""
        if self._fast and isinstance(self.embedder, HashedNgramEmbedder):
            return self.embedder.embed_skeleton(sk, segment)
        return self.embedder.embed(_segment_text(sk, segment))


def _sentence_frame(sk: Skeleton, anchor: int) -> int:
    """The frame of a prompt without a segment frame: the sentence of the lexicon's matched
    phrase (``anchor``; -1: none, no frame)."""
    return sentence_frame(sk, anchor) if anchor >= 0 else 0


def mix(exact: int, value: int) -> int:
    """An exact hash mixed with another value (a picture's digest, a piece count)."""
    raw = exact.to_bytes(8, "little") + (value & (2**64 - 1)).to_bytes(8, "little")
    return stable_hash64(raw, _EXACT_SALT)


def system_hash(system: str) -> int:
    """64-bit hash of the normalised system prompt (0 when blank)."""
    return stable_hash64(normalize(system), _SYSTEM_SALT) if system.strip() else 0


def _segment_text(sk: Skeleton, segment: int | None) -> str:
    """The lower-cased text of one segment (all the capped text when None)."""
    index = sk.token_index
    if segment is not None:
        index = index[sk.tokens.segment[index] == segment]
    if len(index) == 0:
        return ""
    start, end = int(sk.tokens.starts[index[0]]), int(sk.tokens.ends[index[-1]])
    return sk.tokens.text[start:end].lower()
