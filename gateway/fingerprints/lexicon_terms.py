"""The elicitation lexicon: chain-of-thought / reasoning-trace requests and rubric grading.

Each term: a short id ("<lang>.<name>"), a weight (how much one hit says on its own), the
anchor tokens (lower-case words as the tokenizer cuts them; one CJK or kana character is a
token) of which at least one must occur before the pattern is tried (or a literal substring),
and a regex over the normalised text around the anchor (NFKC, casefolded, one space between
words). Avoid "ß" in patterns (casefold turns it into "ss").
"""

from __future__ import annotations

from gateway.fingerprints.lexicon_world import WORLD
from gateway.fingerprints.term import Term, alt

_W = r"(?:\w+ )"  # one word and its space
_REASONING = alt(
    "reasoning", "rationale", "thought process", "thinking process", "chain of thoughts?",
    "thinking",
)  # fmt: skip
_SHOW = alt(
    "explain", "show", "describe", "detail", "articulate", "outline", "share", "give",
    "provide", "include", "present", "justify", "write out", "lay out", "spell out", "state",
    "reveal", "expose", "document",
)  # fmt: skip
_JUDGE = alt("grade", "rate", "score", "evaluate", "assess", "judge")

EN: tuple[Term, ...] = (
    Term("en.step_by_step", "cot", 0.6, ("step",), r"\bstep[- ]by[- ]step\b"),
    Term("en.lets_think", "cot", 0.7, ("think",),
         r"\blet['’]?s think\b|\bthink (?:it )?(?:through )?"
         + alt("carefully", "aloud", "out loud", "step")),
    Term("en.explain_reasoning", "cot", 0.65, ("reasoning", "rationale", "thought", "thinking"),
         _SHOW + r" (?:me |us )?" + alt("your", "the", "its", "all", "each", "every", "my")
         + r"(?: \w+){0,3}? " + _REASONING + r"\b"),
    Term("en.show_work", "cot", 0.65, ("work", "working", "workings", "calculations"),
         r"\bshow (?:all |me )?(?:of )?(?:your|the|all) "
         + alt("work", "working", "workings", "calculations") + r"\b"),
    Term("en.walk_through", "cot", 0.55, ("walk",),
         r"\bwalk (?:me |us )?through (?:your|the|each|every|how)\b"),
    Term("en.chain_of_thought", "cot", 0.8, ("chain", "cot"),
         r"\bchain[- ]of[- ]thoughts?\b|\bcot\b (?:reasoning|prompt)"),
    Term("en.reasoning_trace", "cot", 0.7, ("reasoning", "monologue", "scratchpad", "internal"),
         r"\breasoning (?:trace|process|steps|chain)\b|\binner monologue\b"
         r"|\binternal (?:reasoning|monologue|thoughts)\b|\bscratch ?pad\b"),
    Term("en.think_tags", "cot", 0.75, ("think", "thinking", "reasoning", "thought"),
         r"<(?:think|thinking|reasoning|thought)>"),
    Term("en.before_answer", "cot", 0.6, ("reason", "think"),
         r"\b(?:reason|think) " + _W + r"{0,3}?before "
         + alt("answering", "you answer", "giving", "providing", "responding") + r"\b"),
    Term("en.each_step", "cot", 0.5, ("step", "steps"),
         r"\b" + alt("explain", "justify", "describe", "show", "detail")
         + r" (?:each|every|all(?: the)?|your) (?:intermediate )?steps?\b"),
    Term("en.arrive_at", "cot", 0.5, ("arrive", "arrived", "reached"),
         r"\bhow (?:you|did you) (?:arrive|arrived|reached|got) (?:at|to)\b"),
    Term("en.final_answer", "cot", 0.3, ("final",), r"\b(?:the )?final answer\b"),
    Term("en.reason_through", "cot", 0.5, ("reason",),
         r"\breason (?:through|about|carefully|step)\b"),
    Term("en.scale", "rubric", 0.45, ("scale",),
         r"\bon a scale (?:of|from) \d+ ?(?:-|to|–) ?\d+"),
    Term("en.grade_scale", "rubric", 0.7, ("scale",),
         r"\b" + _JUDGE + " " + _W + r"{0,5}?(?:on|using|with) a (?:\d+-point )?scale\b"),
    Term("en.rubric", "rubric", 0.45, ("rubric", "rubrics"), r"\brubrics?\b"),
    Term("en.criteria", "rubric", 0.65, ("criteria", "rubric", "guidelines", "criterion"),
         r"\b" + _JUDGE + " " + _W + "{0,5}?"
         + alt("against", "according to", "based on", "using", "with respect to")
         + r" (?:the |these |this |following |given |my |our )*"
         + alt("criteria", "rubric", "guidelines", "criterion") + r"\b"),
    Term("en.judge_role", "rubric", 0.55, ("grader", "judge", "evaluator"),
         r"\b(?:you are|act as|serve as) an? " + _W + r"{0,2}?(?:grader|judge|evaluator)\b"),
    Term("en.which_better", "rubric", 0.6, ("better",),
         r"\b(?:which|whether) " + _W + "{0,2}?"
         + alt("response", "answer", "assistant", "completion", "output")
         + r"'?s? (?:\w+ )?(?:is|was) better\b"),
    Term("en.verdict", "rubric", 0.65, (), r"\[\[(?:a|b|c)\]\]", literal="[["),
    Term("en.score_output", "rubric", 0.5, ("score", "rating", "grade"),
         r"\b" + alt("output", "give", "provide", "return", "assign")
         + r" (?:a |your |the )?(?:final )?(?:score|rating|grade) (?:from|between|of|on)\b"),
    Term("en.reference_answer", "rubric", 0.4, ("reference",),
         r"\breference (?:answer|solution)\b"),
)  # fmt: skip

EUROPEAN: tuple[Term, ...] = (
    Term("es.paso_a_paso", "cot", 0.6, ("paso",), r"\bpaso a paso\b"),
    Term("es.razonamiento", "cot", 0.65, ("razonamiento", "pensamiento", "trabajo", "proceso"),
         r"\b" + alt("explica", "explique", "muestra", "muestre", "detalla", "detalle",
                     "describe", "justifica")
         + r"\w* " + _W + "{0,3}?"
         + alt("razonamiento", "proceso de pensamiento", "trabajo", "procedimiento")
         + r"\b|\bcadena de pensamiento\b"),
    Term("es.piensa", "cot", 0.55, ("piensa", "piense", "razona", "razone"),
         r"\b(?:piensa|piense|razona|razone) "
         + alt("paso", "detenidamente", "cuidadosamente", "con cuidado") + r"\b"),
    Term("es.rubrica", "rubric", 0.6, ("rúbrica", "escala", "criterios", "califica", "evalúa"),
         r"\brúbrica\b|\ben una escala de(?:l)? \d|\b(?:evalúa|califica|puntúa)\w* "
         + _W + "{0,4}?(?:según|de acuerdo con) (?:los|la|las|el)"),
    Term("fr.etape_par_etape", "cot", 0.6, ("étape", "pas"),
         r"\bétape par étape\b|\bpas à pas\b"),
    Term("fr.raisonnement", "cot", 0.65, ("raisonnement", "démarche", "réflexion", "pensée"),
         r"\b(?:explique|montre|détaille|décris|justifie)\w* " + _W + "{0,3}?"
         + alt("raisonnement", "démarche", "processus de réflexion")
         + r"\b|\bchaîne de pensées?\b"),
    Term("fr.reflechis", "cot", 0.55, ("réfléchis", "réfléchissez", "pense", "pensez"),
         r"\b(?:réfléchis|réfléchissez|pense|pensez) "
         + alt("étape", "bien", "soigneusement", "attentivement") + r"\b"),
    Term("fr.grille", "rubric", 0.6,
         ("grille", "échelle", "critères", "barème", "évalue", "évaluez"),
         r"\bgrille d'évaluation\b|\bbarème\b|\bsur une échelle de \d"
         r"|\b(?:évalue|évaluez|note|notez) " + _W
         + r"{0,4}?selon (?:les|la|ces) (?:critères|grille)"),
    Term("de.schritt_fuer_schritt", "cot", 0.6, ("schritt",), r"\bschritt für schritt\b"),
    Term("de.gedankengang", "cot", 0.65,
         ("gedankengang", "denkprozess", "lösungsweg", "rechenweg", "begründung",
          "überlegungen", "gedankenkette"),
         r"\b" + alt("erkläre", "erklären", "zeige", "zeigen", "beschreibe", "beschreiben",
                     "lege", "legen")
         + r"\w* " + _W + "{0,3}?"
         + alt("gedankengang", "denkprozess", "lösungsweg", "rechenweg", "begründung",
               "überlegungen")
         + r"\b|\bgedankenkette\b"),
    Term("de.denke", "cot", 0.55, ("denke", "denk", "denken"),
         r"\b(?:denke|denk|denken sie) (?:schritt|sorgfältig|laut|gründlich)\b"),
    Term("de.bewertung", "rubric", 0.6,
         ("bewertungsschema", "bewertungsraster", "bewertungskriterien", "skala", "bewerte",
          "bewerten"),
         r"\bbewertungs(?:schema|raster|kriterien)\b|\bauf einer skala von \d"
         r"|\b(?:bewerte|bewerten sie) " + _W
         + r"{0,4}?(?:anhand|nach) (?:der|den|dieser|folgenden)"),
    Term("pt.passo_a_passo", "cot", 0.6, ("passo",), r"\bpasso a passo\b"),
    Term("pt.raciocinio", "cot", 0.65, ("raciocínio", "pensamento", "trabalho"),
         r"\b" + alt("explique", "explica", "mostre", "mostra", "detalhe", "descreva",
                     "justifique")
         + r"\w* " + _W + "{0,3}?"
         + alt("raciocínio", "processo de pensamento", "trabalho")
         + r"\b|\bcadeia de pensamento\b"),
    Term("pt.pense", "cot", 0.55, ("pense", "raciocine"),
         r"\b(?:pense|raciocine) (?:passo|com cuidado|cuidadosamente)\b"),
    Term("pt.rubrica", "rubric", 0.6, ("rubrica", "escala", "critérios", "avalie"),
         r"\brubrica\b|\b(?:numa|em uma) escala de \d|\bavalie " + _W
         + r"{0,4}?(?:de acordo com|segundo) (?:os|a|as|o)"),
    Term("it.passo_passo", "cot", 0.6, ("passo",), r"\bpasso (?:dopo|per) passo\b"),
    Term("it.ragionamento", "cot", 0.65, ("ragionamento", "procedimento", "pensiero"),
         r"\b(?:spiega|mostra|descrivi|illustra|giustifica)\w* " + _W + "{0,3}?"
         + alt("ragionamento", "procedimento", "processo di pensiero")
         + r"\b|\bcatena di pensiero\b"),
    Term("it.pensa", "cot", 0.55, ("pensa", "ragiona"),
         r"\b(?:pensa|ragiona) (?:passo|attentamente|con attenzione)\b"),
    Term("it.rubrica", "rubric", 0.6, ("griglia", "scala", "criteri", "valuta"),
         r"\bgriglia di valutazione\b|\bsu una scala da \d|\bvaluta " + _W
         + r"{0,4}?secondo (?:i|la|le|questi)"),
    Term("ru.step", "cot", 0.6, ("шаг", "пошагово"), r"\bшаг за шагом\b|\bпошагово\b"),
    Term("ru.reasoning", "cot", 0.65,
         ("рассуждения", "рассуждений", "ход", "мысли", "решения", "цепочка", "цепочку"),
         r"\b(?:объясни|покажи|опиши|распиши|изложи)\w* " + _W + "{0,3}?"
         + alt(r"рассуждени\w*", r"ход (?:мысл|решени)\w*", "мысли", r"решени\w*")
         + r"|\bцепочк\w* рассуждений\b"),
    Term("ru.rubric", "rubric", 0.6, ("шкале", "оцени", "оцените", "критериям", "оценки"),
         r"\bпо шкале от \d|\b(?:оцени|оцените) " + _W
         + r"{0,3}?(?:ответ|по критериям)|\bкритери\w* оценки\b"),
)  # fmt: skip

ASIAN: tuple[Term, ...] = (
    Term("zh.step", "cot", 0.6, ("步",),
         r"一步一步|一步步|逐步|分步(?:骤)?" + alt("解", "思考", "推理", "说明", "說明")),
    Term("zh.reasoning", "cot", 0.65, ("推", "思", "解"),
         alt("推理过程", "推理過程", "思考过程", "思考過程", "思维链", "思維鏈", "解题过程",
             "解題過程")
         + "|" + alt("解释", "解釋", "展示", "说明", "說明", "写出", "寫出")
         + "(?:你的)?" + alt("推理", "思路", "思考")),
    Term("zh.rubric", "rubric", 0.6, ("评", "評", "打", "分"),
         alt("评分标准", "評分標準", "评分细则", "評分細則", "打分")
         + r"|\d+\s*(?:到|至|-)\s*\d+\s*分"
         + "|" + alt("评估", "評估", "评价", "評價") + "(?:这个|該|该|以下)?(?:回答|答案)"),
    Term("ja.step", "cot", 0.6, ("ス", "段", "順", "歩"),
         alt("ステップバイステップ", "段階的に", "順を追って", "一歩ずつ", "ステップごと")),
    Term("ja.reasoning", "cot", 0.65, ("思", "推", "理", "途", "考"),
         alt("思考過程", "推論過程", "思考の連鎖", "途中式", "考え方を(?:説明|示)",
             "理由を(?:説明|述べ)", "推論の過程")),
    Term("ja.rubric", "rubric", 0.6, ("評", "採", "ル"),
         alt("評価基準", "採点基準", "ルーブリック", "回答を評価")
         + r"|\d+\s*(?:から|〜|~|-)\s*\d+\s*(?:点|段階)で評価"),
    Term("ko.step", "cot", 0.6, ("단계별로", "단계적으로", "한", "차근차근"),
         alt("단계별로", "단계적으로", "한 단계씩", "차근차근")),
    Term("ko.reasoning", "cot", 0.65, ("추론", "사고", "풀이", "생각의", "이유를"),
         alt("추론 과정", "사고 과정", "풀이 과정", "생각의 사슬", "이유를 설명")),
    Term("ko.rubric", "rubric", 0.6, ("채점", "평가", "루브릭", "답변을"),
         alt("채점 기준", "평가 기준", "루브릭", r"\d+점 척도", "답변을 평가")),
)  # fmt: skip

TERMS: tuple[Term, ...] = EN + EUROPEAN + ASIAN + WORLD
