"""Function and courtesy words left out of the topic embedding (they say nothing of the topic)."""

from __future__ import annotations

_BY_LANGUAGE: dict[str, str] = {
    "en": """a an the and or but if then else of to in on at by for with from as into onto about
        over under is are was were be been being am do does did done have has had having will
        would shall should can could may might must i me my mine you your yours he him his she
        her hers it its we us our ours they them their theirs this that these those there here
        what which who whom whose when where why how not no nor so than too very just also only
        own same such some any each every all both few more most other again further once out up
        down off s t please let lets give write tell make need want like using use following
        hi hey hello thanks thank kindly pls plz ok okay dear sure""",
    "es": """el la los las un una unos unas y o de del al en con por para que es son se lo le su
        sus como más pero este esta estos estas ese esa""",
    "fr": """le la les un une des et ou de du au aux en dans sur pour par que qui est sont ce cette
        ces il elle ils elles nous vous je tu ne pas avec""",
    "de": """der die das ein eine einen einem einer und oder von zu im in auf für mit ist sind
        nicht den dem des sie er es wir ihr ich du wie was""",
    "pt": """o a os as um uma uns umas e ou de do da dos das em no na nos nas por para com que é
        são""",
    "it": """il lo la gli le un uno una e o di del della dei delle in nel nella su per con che è
        sono""",
    "ru": """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только
        ее мне было вот от меня еще нет о из ему это""",
}


def stopwords() -> tuple[str, ...]:
    """All stop words, every language together (a word is dropped in any language)."""
    return tuple(word for text in _BY_LANGUAGE.values() for word in text.split())
