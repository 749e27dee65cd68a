"""The distillation-product lexicon: asks for what a distillation pipeline trains on besides a
chain-of-thought trace, in the wording such pipelines use (no CoT words needed):

* ``synth``: new training items with their solutions (self-instruct, Evol-Instruct: "write
  4 new problems of the same kind, each with its solution", "#Rewritten Prompt#");
* ``soft``: soft labels in words (an answer distribution: "your 3 most likely answers with
  a probability each", "confidence in %");
* ``program``: program-of-thought / PAL (the task as a program: "write a Python function
  solve() that returns the answer", "translate this into code");
* ``critique``: correction and process-supervision data ("where is the mistake? then write
  the correct solution", "label each step correct or incorrect").

Honest products ask the same (a worksheet builder, a ticket router, an IDE plugin, a "check
my work" button): one hit says little on its own. The detector counts these asks only from
an entity whose own traffic is a sweep (see ``gateway.detection.detectors.product_part``).
Same :class:`~gateway.fingerprints.term.Term` format and matcher as the CoT lexicon
(anchors, then a regex on the folded window around them); kept in a lexicon of its own so
the CoT score, its cohorts and the system-prompt rules stay what they were, and built with
``whole_text=False`` (many anchors are common words: only the windows of the first and last
few occurrences are searched, so the cost stays bounded on long texts).
"""

from __future__ import annotations

from gateway.fingerprints.term import Term, alt

# Characters each side of an anchor the regex reads: the words of one ask ("the 4 most likely
# answers, each with your probability") lie within 80 characters of each other in every
# wording above; narrower than the CoT lexicon's 120, for a cheaper search.
PRODUCT_WINDOW = 80

_COUNT = alt(
    r"\d+", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty",
    "a few", "several", "some", "many", "a set of", "a list of", "a batch of", "a series of",
)  # fmt: skip
_QUALITY = alt(
    "new", "more", "similar", "fresh", "additional", "different", "diverse", "varied",
    "harder", "easier", "original", "novel", "related", "extra", "other",
)  # fmt: skip
_MAKE = alt(
    "write", "create", "generate", "make", "produce", "come up with", "design", "compose",
    "invent", "draft", "give me", "synthesi[sz]e", "construct",
)  # fmt: skip
_ITEM_WORDS = (
    "problems?", "questions?", "exercises?", "tasks?", "examples?", "instructions?",
    "prompts?", "variations?", "variants?", "puzzles?", "items?", "samples?", "versions?",
    "scenarios?", "word problems?", "test cases?", "q&a pairs?", "qa pairs?",
)  # fmt: skip
_ITEMS = alt(*_ITEM_WORDS)
_CANDIDATE_WORDS = (
    "answers", "candidates", "labels", "options", "guesses", "choices", "classes",
    "categories", "interpretations", "hypotheses", "predictions", "outcomes",
)  # fmt: skip
_CANDIDATES = alt(*_CANDIDATE_WORDS)
# what every one of _ITEMS contains (a Term's ``needs``: no match without one of them): each
# item's last word without its optional plural
_ITEM_STEMS = tuple(dict.fromkeys(w.removesuffix("s?").split()[-1] for w in _ITEM_WORDS))
_LIKELIHOOD = alt(
    r"probabilit(?:y|ies)", r"confiden(?:ce|t)", r"likelihoods?", "how likely", "how sure",
    r"percentages?", r"in %", r"percent", r"\d+ ?%",
)  # fmt: skip
_WRONG = alt("mistakes?", "errors?", "wrong", "slips?", "flaws?", "bugs?", "incorrect")

EN: tuple[Term, ...] = (
    # data generation: make N new/similar items (the count or a "new" word is required)
    Term("en.generate_items", "synth", 0.55,
         ("write", "create", "generate", "make", "produce", "come", "design", "compose",
          "invent", "draft", "give", "synthesise", "synthesize", "construct"),
         r"\b" + _MAKE + r" (?:\w+ ){0,2}?" + alt(_COUNT, _QUALITY) + r" (?:\w+ ){0,3}?"
         + _ITEMS + r"\b", needs=_ITEM_STEMS),
    Term("en.with_solutions", "synth", 0.3, ("solution", "solutions", "answers", "solve"),
         r"\b(?:each|every|all|them|one) (?:\w+ ){0,3}?(?:with|and) (?:its |their |a |the )?"
         r"(?:full |complete |worked |model |step-by-step |detailed )?(?:solutions?|answers?)\b"
         r"|\bsolve every (?:one|variation|variant|problem|question)\b"
         r"|\bwith (?:full |worked |model )?(?:solutions|answers)\b"),
    Term("en.evol_prompt", "synth", 0.7, ("prompt", "rewriter", "creator", "complex"),
         r"#(?:given|rewritten|created|new) prompt#|\bprompt (?:rewriter|creator)\b"
         r"|\bmore complex version\b|\brewrite the (?:given )?prompt\b"),
    # soft labels: a list of candidates with a likelihood each
    Term("en.answer_distribution", "soft", 0.6,
         ("probability", "probabilities", "confidence", "confident", "likelihood", "likely",
          "sure", "percentages", "percentage", "percent"),
         r"\b" + _CANDIDATES + r"\b.{0,100}?" + _LIKELIHOOD + "|" + _LIKELIHOOD
         + r".{0,100}?\b" + _CANDIDATES + r"\b", needs=_CANDIDATE_WORDS),
    Term("en.distribution_over", "soft", 0.5, ("distribution", "calibrated", "verbalized",
                                                "verbalised"),
         r"\bprobability distribution (?:over|across|for)\b|\bcalibrated (?:probabilit|confiden)"
         r"|\bverbali[sz]ed (?:probabilit|confiden)"),
    # program of thought: the task as a program that computes the answer
    Term("en.program_answer", "program", 0.5,
         ("python", "code", "program", "script", "function", "translate"),
         r"\b(?:python|code|program|script|function)\b(?: \S+){0,8}? "
         + alt("returns", "computes", "calculates", "prints", "print", "solves", "outputs")
         + r" (?:\w+ ){0,2}?(?:answer|result|solution)\b"
         r"|\b(?:translate|turn|convert) (?:this|it|the (?:problem|question|task)) into "
         r"(?:python|code|a program)\b|\banswer with (?:a |only )?(?:\w+ )?(?:python|code)\b",
         needs=("answer", "result", "solution", "into")),
    # Not "comment every line" on its own: commented code is what a code assistant's users
    # ask for all day (an IDE plugin's "comment each step"); the program-of-thought product is
    # code that computes a task's answer, read by the terms around this one.
    Term("en.solve_function", "program", 0.5, ("solve", "solution"),
         r"\bsolve\(\)|\bdef solution\("),
    Term("en.program_of_thought", "program", 0.7, ("program", "pal"),
         r"\bprogram[- ]of[- ]thoughts?\b|\bprogram[- ]aided\b"),
    # correction / process supervision: find the error in a given solution, then redo it
    Term("en.find_mistake", "critique", 0.5,
         ("mistake", "mistakes", "error", "errors", "wrong", "incorrect", "slip", "flaw"),
         r"\b(?:where|what)(?:'s| is| was| did| are)? (?:the |my |this |it |i |they )?"
         r"(?:\w+ )?" + _WRONG + r"\b|\bfind (?:the |any |all )?(?:\w+ )?(?:line|step)s? "
         r"(?:where|that|with)\b|\b(?:find|identify|spot|locate) (?:the |any |all )?"
         r"(?:first )?" + _WRONG + r"\b"),
    Term("en.correct_solution", "critique", 0.35,
         ("correct", "corrected", "right", "fix", "redo"),
         r"\b(?:write|give|show|redo|provide)(?: \w+){0,2}? (?:correct|corrected|right) "
         r"(?:solution|answer|working|version|steps?)\b|\b(?:fix|redo|correct) (?:it|this|that)"
         r"(?: correctly)?\b|\bredo it correctly\b"),
    Term("en.step_labels", "critique", 0.6, ("step", "steps", "label", "first"),
         r"\b(?:label|mark|rate|classify) (?:each|every) step\b|\bfirst (?:incorrect|wrong|"
         r"erroneous) step\b|\beach step (?:as )?(?:correct|right) or (?:incorrect|wrong)\b",
         needs=("step",)),
)  # fmt: skip

OTHER: tuple[Term, ...] = (
    Term("es.generar", "synth", 0.55, ("genera", "crea", "escribe", "redacta", "inventa"),
         r"\b(?:genera|crea|escribe|redacta|inventa)\w* (?:\w+ ){0,2}?(?:\d+|nuev[oa]s|más|"
         r"similares|otr[oa]s) (?:\w+ ){0,2}?(?:problemas|preguntas|ejercicios|ejemplos|"
         r"variantes|tareas)\b"),
    Term("es.error", "critique", 0.5, ("error", "equivocación", "fallo"),
         r"\b(?:dónde|donde|cuál|encuentra)\w* (?:\w+ ){0,2}?(?:error|equivocación|fallo)\b"),
    Term("fr.generer", "synth", 0.55, ("génère", "générez", "crée", "créez", "écris", "rédige"),
         r"\b(?:génère|générez|crée|créez|écris|écrivez|rédige|rédigez) (?:\w+ ){0,2}?"
         r"(?:\d+|nouveaux|nouvelles|autres|similaires) (?:\w+ ){0,2}?(?:problèmes|questions|"
         r"exercices|exemples|variantes)\b"),
    Term("fr.erreur", "critique", 0.5, ("erreur", "faute"),
         r"\b(?:où|trouve|trouvez|quelle) (?:\w+ ){0,2}?(?:erreur|faute)\b"),
    Term("de.erstellen", "synth", 0.55, ("erstelle", "erstellen", "schreibe", "generiere"),
         r"\b(?:erstelle|erstellen sie|schreibe|generiere) (?:\w+ ){0,2}?(?:\d+|neue|weitere|"
         r"ähnliche) (?:\w+ ){0,2}?(?:aufgaben|fragen|übungen|beispiele|varianten)\b"),
    Term("de.fehler", "critique", 0.5, ("fehler",),
         r"\b(?:wo|finde|welcher) (?:\w+ ){0,2}?fehler\b"),
    Term("soft.wahrscheinlichkeit", "soft", 0.5,
         ("wahrscheinlichkeit", "probabilidad", "probabilité", "概率", "置信"),
         r"wahrscheinlichkeit|probabilidad|probabilité|概率|置信度"),
    Term("zh.generate", "synth", 0.55, ("生", "编", "出"),
         r"(?:生成|编写|编|出)\s*\d*\s*(?:道|个)?\s*(?:新的|类似的|相似的)?\s*(?:题目|问题|练习题|习题)"),
    Term("zh.error", "critique", 0.5, ("哪", "错", "找"),
         r"哪里错|哪一步错|错在哪|找出(?:其中的)?错误"),
    Term("zh.program", "program", 0.5, ("写", "用", "编"),
         r"(?:写|用|编写)\s*(?:一个)?\s*python\s*(?:函数|程序|代码)"),
)  # fmt: skip

PRODUCT_TERMS: tuple[Term, ...] = EN + OTHER
