"""The elicitation lexicon: hits in many languages, few on ordinary prompts."""

from __future__ import annotations

import re

import pytest

from gateway.fingerprints.lexicon import default_lexicon, elicitation_score
from gateway.fingerprints.lexicon_terms import TERMS
from loadtest.corpus import load_prompts

ELICITING = {
    "en": "Solve this. Let's think step by step and show your work.",
    "en2": "Articulate the internal reasoning behind your answer step by step.",
    "en3": "Walk me through your thought process before answering.",
    "es": "Resuelve el problema paso a paso y explica tu razonamiento.",
    "fr": "Explique ton raisonnement étape par étape.",
    "de": "Erkläre deinen Gedankengang Schritt für Schritt.",
    "pt": "Pense passo a passo e explique seu raciocínio.",
    "it": "Spiega il tuo ragionamento passo dopo passo.",
    "zh": "请一步一步地思考，并展示你的推理过程。",
    "ja": "ステップバイステップで考えて、思考過程を説明してください。",
    "ru": "Объясни ход решения шаг за шагом.",
    "ko": "단계별로 생각하고 추론 과정을 설명해 주세요.",
}
RUBRIC = [
    "Grade this answer on a scale of 1-10 according to the rubric.",
    "Evaluate the response against the following criteria: accuracy, clarity.",
    "You are an impartial judge. Which assistant's answer is better? Output [[A]] or [[B]].",
    "Califica la respuesta en una escala del 1 al 10 según la rúbrica.",
    "请根据评分标准对以下回答打分。",
]
ORDINARY = [
    "What is the capital of France?",
    "Write a short poem about the sea at night.",
    "Translate 'good morning' into Japanese.",
    "How do I reverse a list in Python?",
    "Recommend three books about the history of Rome.",
    "¿Cuál es la receta tradicional de la paella?",
    "Écris une lettre de motivation pour un poste de boulanger.",
    "Wie spät ist es gerade in Tokio?",
    "Qual é a melhor época para visitar Lisboa?",
    "Come si prepara il tiramisù?",
    "写一首关于春天的诗。",
    "東京でおすすめのラーメン屋を教えてください。",
    "Какая погода будет завтра в Москве?",
    "서울에서 가볼 만한 곳을 추천해 주세요.",
    "My job interview is tomorrow; what should I wear?",
]


@pytest.mark.parametrize("lang", sorted(ELICITING))
def test_chain_of_thought_requests_hit_in_each_language(lang: str) -> None:
    score, ids = elicitation_score(ELICITING[lang])
    assert score >= 0.5
    assert any(i.startswith(lang[:2] + ".") for i in ids)


@pytest.mark.parametrize("text", RUBRIC)
def test_rubric_grading_prompts_hit(text: str) -> None:
    score, ids = elicitation_score(text)
    kinds = {t.kind for t in TERMS if t.id in ids}
    assert score >= 0.5 and "rubric" in kinds


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_prompts_do_not_hit(text: str) -> None:
    assert elicitation_score(text) == (0.0, ())


def test_ids_are_short_identifiers_never_prompt_text() -> None:
    ids = {t.id for t in TERMS}
    assert len(ids) == len(TERMS)
    assert all(re.fullmatch(r"[a-z]{2}\.[a-z_]{2,24}", i) for i in ids)
    langs = {i.split(".")[0] for i in ids}
    assert {"en", "es", "fr", "de", "pt", "it", "zh", "ja", "ru", "ko"} <= langs
    _, got = elicitation_score(ELICITING["en"] + " " + RUBRIC[0])
    assert set(got) <= ids and len(got) <= 8


def test_more_evidence_scores_higher() -> None:
    one, _ = elicitation_score("Explain step by step.")
    two, _ = elicitation_score("Explain step by step and show your work.")
    three, _ = elicitation_score(
        "Let's think step by step, show your work, explain your reasoning."
    )
    assert 0 < one < two < three <= 1


def test_false_hit_rate_on_the_benign_sample_is_bounded() -> None:
    """Measured on the shipped sample: 2.0 % of arena prompts and 4.1 % of awesome-chatgpt
    prompts contain a real CoT request ("think step by step"): 15 of 518 (2.9 %)."""
    lexicon = default_lexicon()
    rates = {}
    for file in ("benign_arena_hard_user_prompts.jsonl", "benign_awesome_chatgpt_prompts.jsonl"):
        prompts = [p.text for p in load_prompts(files=[file], full=False)]
        rates[file] = sum(bool(lexicon.score(t).terms) for t in prompts) / len(prompts)
    assert all(rate <= 0.06 for rate in rates.values()), rates
    assert sum(rates.values()) / len(rates) <= 0.045


def test_raw_benchmark_questions_do_not_hit() -> None:
    prompts = [p.text for p in load_prompts(files=["harvest_gsm8k.jsonl"], full=False)]
    assert sum(bool(elicitation_score(t)[1]) for t in prompts) <= 3


def test_phrases_far_apart_in_long_text_still_match() -> None:
    filler = " ".join(["The committee reviewed the annual budget for the library."] * 40)
    score, ids = elicitation_score(filler + " Now think step by step. " + filler)
    assert "en.step_by_step" in ids and score >= 0.5
    many = " ".join(["a step forward"] * 20) + " step by step"  # more anchors than windows
    assert "en.step_by_step" in elicitation_score(many)[1]


def test_the_anchor_alone_is_the_whole_matchs_anchor() -> None:
    """``Lexicon.anchor`` (what a frame-only fingerprint reads) equals ``match_tokens``'
    anchor on corpus prompts, the eliciting phrases and text with more anchors than windows."""
    lexicon = default_lexicon()
    texts = [p.text for p in load_prompts(full=False)] + list(ELICITING.values()) + RUBRIC
    texts.append(" ".join(["a step forward"] * 20) + " step by step")
    anchored = 0
    for text in texts:
        tokens = lexicon.skeletonizer.tokenize(text)
        want = lexicon.match_tokens(tokens).anchor
        assert lexicon.anchor(tokens) == want, text[:40]
        anchored += want >= 0
    assert anchored >= 20
