"""The elicitation lexicon beyond its first ten languages (gateway.fingerprints.lexicon_world),
and look-alike letters and invisible characters read as the Latin words they imitate
(gateway.fingerprints.lookalikes): "step by step" asked in Swahili, or in Cyrillic letters,
is read as the same ask; ordinary text in those languages and scripts is left alone."""

from __future__ import annotations

import pytest

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.lexicon_terms import TERMS
from gateway.fingerprints.lookalikes import Lookalikes

STEP_ASKS = {
    "nl": "Los dit op en leg het stap voor stap uit.",
    "sv": "Lös uppgiften steg för steg.",
    "da": "Løs opgaven trin for trin.",
    "pl": "Rozwiąż to zadanie krok po kroku.",
    "cs": "Vyřeš tuto úlohu krok za krokem.",
    "uk": "Розв'яжи задачу крок за кроком.",
    "ro": "Rezolvă problema pas cu pas.",
    "hu": "Oldd meg lépésről lépésre.",
    "fi": "Ratkaise tehtävä vaihe vaiheelta.",
    "el": "Λύσε το πρόβλημα βήμα προς βήμα.",
    "tr": "Bu problemi adım adım çöz.",
    "id": "Selesaikan soal ini langkah demi langkah.",
    "vi": "Hãy giải bài toán này từng bước.",
    "tl": "Lutasin ang problemang ito nang hakbang-hakbang.",
    "sw": "Tatua swali hili hatua kwa hatua.",
    "ar": "حل هذه المسألة خطوة بخطوة.",
    "fa": "این مسئله را گام به گام حل کن.",
    "ur": "اس سوال کو قدم بہ قدم حل کریں۔",
    "he": "פתור את הבעיה צעד אחר צעד.",
    "hi": "इस प्रश्न को चरण दर चरण हल करें।",
    "bn": "এই সমস্যাটি ধাপে ধাপে সমাধান করুন।",
    "ta": "இந்த கணக்கை படிப்படியாக தீர்க்கவும்.",
    "th": "แก้โจทย์นี้ทีละขั้นตอน",
}

ORDINARY = [
    "Wat is de hoofdstad van Nederland?",
    "Jaki jest najlepszy sposób na naukę języka?",
    "Bugün hava nasıl olacak?",
    "Apa resep nasi goreng yang enak?",
    "Habari za asubuhi, unaweza kunisaidia kuandika barua?",
    "ما هي عاصمة فرنسا؟",
    "Je ne sais pas, il ne fait pas beau.",  # "pas" without "cu pas"
]


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


@pytest.mark.parametrize("lang", sorted(STEP_ASKS))
def test_a_step_by_step_ask_is_read_in_every_language(fp: Fingerprinter, lang: str) -> None:
    print_ = fp.fingerprint_text(STEP_ASKS[lang])
    assert print_.elicitation >= 0.6
    assert any(t.startswith(f"{lang}.") for t in print_.elicitation_terms)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_in_those_languages_has_no_term(fp: Fingerprinter, text: str) -> None:
    assert fp.fingerprint_text(text).elicitation == 0.0


def test_every_language_has_its_two_letter_id() -> None:
    langs = {t.id.split(".")[0] for t in TERMS}
    assert set(STEP_ASKS) <= langs


LOOKALIKE_ASKS = [
    "Solve it ѕtер bу ѕtер and ѕhоw yоur rеаѕоning.",  # Cyrillic letters mixed in
    "Solve it st\u200bep b\u200by st\u00adep and show your reas\u200coning.",  # invisible
    "Solve it. ехрlаіn уоur rеаѕоnіng ѕtер bу ѕtер.",
]


@pytest.mark.parametrize("text", LOOKALIKE_ASKS)
def test_look_alike_and_invisible_letters_read_as_the_latin_ask(
    fp: Fingerprinter, text: str
) -> None:
    assert fp.fingerprint_text(text).elicitation >= fp.fingerprint_text("step by step").elicitation
    assert fp.fingerprint_text(text, reveal=False).elicitation == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Ответь, пожалуйста: сколько будет 2+2? а с о",  # Russian, one-letter words too
        "def f(x):\n    # возвращает код\n    return x + 1\n",  # code with a Russian comment
        "من می\u200cخواهم",  # a zero-width non-joiner inside a Persian word
        "😀\u200d😀 hello",  # an emoji sequence
        "naïve café résumé",
        "plain ASCII text",
    ],
)
def test_other_scripts_are_left_as_they_are(text: str) -> None:
    assert Lookalikes().plain(text) is None
