"""The elicitation lexicon in more languages: "step by step" and, where one phrase says it,
"show your reasoning", in the languages with the most speakers and web users besides the
ten of :mod:`gateway.fingerprints.lexicon_terms` (Dutch, the Nordic languages, Polish,
Czech, Slovak, Ukrainian, Romanian, Hungarian, Finnish, Greek, Turkish, Indonesian and
Malay, Vietnamese, Tagalog, Swahili, Arabic, Persian, Urdu, Hebrew, Hindi, Bengali, Tamil,
Thai).

A request for a step-by-step answer is as much a value signal in Swahili as in English, and
as little proof on its own (content never acts alone; a pupil asking "hatua kwa hatua" is
not a harvester). Patterns follow the format of :class:`~gateway.fingerprints.term.Term`:
the text is NFKC and casefolded; Indic vowel signs are not letters to the tokenizer (an
anchor is then its consonants' tokens) nor to ``\\b``, so those patterns have no ``\\b``; Thai
writes no spaces, so its term is a literal. Casefolding writes a final sigma as "σ" ("προσ").
"""

from __future__ import annotations

from gateway.fingerprints.term import Term, alt

STEP = 0.6  # as "step by step" in the other languages
REASONING = 0.65

WORLD: tuple[Term, ...] = (
    # Germanic and Nordic
    Term("nl.stap_voor_stap", "cot", STEP, ("stap",), r"\bstap voor stap\b"),
    Term("nl.redenering", "cot", REASONING, ("redenering", "denkproces", "denkwijze"),
         r"\b(?:leg|toon|laat|beschrijf)\w* " + r"(?:\w+ ){0,3}?"
         + alt("redenering", "denkproces", "denkwijze") + r"\b"),
    Term("sv.steg_for_steg", "cot", STEP, ("steg",), r"\bsteg f[öo]r steg\b"),  # and Norwegian
    Term("da.trin_for_trin", "cot", STEP, ("trin",), r"\btrin for trin\b"),
    # Slavic, Romanian, Hungarian, Finnish, Greek
    Term("pl.krok_po_kroku", "cot", STEP, ("krok",), r"\bkrok po kroku\b"),
    Term("cs.krok_za_krokem", "cot", STEP, ("krok",), r"\bkrok za krokem\b|\bkrok za krokom\b"),
    Term("uk.step", "cot", STEP, ("крок", "покроково"), r"\bкрок за кроком\b|\bпокроково\b"),
    Term("ro.pas_cu_pas", "cot", STEP, ("pas",), r"\bpas cu pas\b"),
    Term("hu.lepesrol_lepesre", "cot", STEP, ("lépésről",), r"\blépésről lépésre\b"),
    Term("fi.vaihe_vaiheelta", "cot", STEP, ("vaihe", "askel"),
         r"\bvaihe vaiheelta\b|\baskel askeleelta\b"),
    Term("el.step", "cot", STEP, ("βήμα",), r"\bβήμα (?:προσ |με )?βήμα\b|\bβήμα-βήμα\b"),
    # Turkish, Austronesian, Vietnamese, Swahili
    Term("tr.adim_adim", "cot", STEP, ("adım", "adim"), r"\bad[ıi]m ad[ıi]m\b"),
    Term("tr.cozum", "cot", REASONING, ("çözüm", "akıl", "düşünce"),
         r"\b" + alt("çözüm yolunu", "çözüm adımlarını", "akıl yürütmeni", "akıl yürütmenizi",
                     "düşünce sürecini")
         + r" " + alt("göster", "açıkla", "yaz") + r"\w*"),
    Term("id.langkah_demi_langkah", "cot", STEP, ("langkah", "selangkah"),
         r"\b(?:se)?langkah demi (?:se)?langkah\b"),
    Term("id.penalaran", "cot", REASONING, ("penalaran", "pemikiran", "cara"),
         r"\b(?:jelaskan|tunjukkan|tuliskan|uraikan) " + r"(?:\w+ ){0,2}?"
         + alt("penalaran", "proses pemikiran", "cara pengerjaan", "cara penyelesaian")),
    Term("vi.tung_buoc", "cot", STEP, ("bước",), r"\btừng bước\b"),
    Term("vi.lap_luan", "cot", REASONING, ("lập", "suy"),
         r"\b(?:giải thích|trình bày|nêu) " + r"(?:\w+ ){0,2}?" + alt("lập luận", "suy luận")),
    Term("tl.hakbang", "cot", STEP, ("hakbang",),
         r"\bhakbang[- ](?:por[- ])?hakbang\b|\bisa-?isang hakbang\b"),
    Term("sw.hatua_kwa_hatua", "cot", STEP, ("hatua",), r"\bhatua kwa hatua\b"),
    # Semitic, Persian, Urdu
    Term("ar.step", "cot", STEP, ("خطوة", "بخطوة"), r"خطوة (?:ب)?خطوة"),
    Term("ar.reasoning", "cot", REASONING, ("تفكيرك", "استدلالك", "منطقك"),
         r"(?:اشرح|وضح|أظهر|بين)\w* (?:\w+ ){0,2}?" + alt("تفكيرك", "استدلالك", "منطقك")),
    Term("fa.step", "cot", STEP, ("گام", "قدم"), r"گام به گام|قدم به قدم"),
    Term("ur.step", "cot", STEP, ("قدم", "مرحلہ"), r"قدم بہ قدم|مرحلہ وار"),
    Term("he.step", "cot", STEP, ("צעד", "שלב"), r"צעד אחר(?:י)? צעד|שלב אחר(?:י)? שלב"),
    # Indic, Thai
    Term("hi.step", "cot", STEP, ("चरण", "कदम", "क़दम", "स्टेप"),
         r"चरण दर चरण|क़?दम दर क़?दम|कदम दर कदम|स्टेप बाय स्टेप|चरणबद्ध"),
    Term("bn.step", "cot", STEP, ("ধাপে",), r"ধাপে ধাপে"),
    Term("ta.step", "cot", STEP, ("படிப்படியாக",), r"படிப்படியாக"),
    Term("th.step", "cot", STEP, (), r"ทีละขั้น", literal="ทีละขั้น"),
)  # fmt: skip
