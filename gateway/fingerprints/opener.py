"""Openers: a greeting exchange before the first real ask is not a conversation (pure).

Many chats start with a pleasantry ("hi", "are you there?", "hello! can you help me with
some homework?") and a stock reply ("Of course! What would you like help with?") before
the user asks anything. The ask that follows is the conversation's first: it is no
follow-up of an answer. Counting it as a second turn hides a single-turn stream from
every check that needs one (shape, ask and newcomer cohorts, synchrony): red round 7's
``twoturn_drip`` hid 40 throw-away accounts that cohorts throttle 20-35 % single-turn
behind one such exchange.

:func:`opener_exchanges` counts the (pleasantry, short reply) pairs at the start of a chat
(after system / developer messages) before its last user turn. A pleasantry is a short
user text (at most :data:`MAX_CHARS`) whose every word is a greeting, a courtesy or a
word of a content-free request for help (:data:`WORDS`, several languages), or which is
one of :data:`PHRASES` (scripts written without spaces). A real question always carries
a word of its own ("What is the capital of France?": "capital", "france"), so it is never
a pleasantry, however short. The reply must be a short text (at most
:data:`MAX_REPLY_CHARS`): an answer to something is longer.

Cost: a length check of the first user message for most chats; at most
:data:`MAX_EXCHANGES` pairs looked at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

MAX_CHARS = 64  # "hello! can you help me with some homework?" is 42
MAX_REPLY_CHARS = 160  # "Of course! What would you like help with?" is 41
MAX_EXCHANGES = 3  # pleasantry exchanges counted at a chat's start
_SYSTEM_ROLES = ("system", "developer")

# Words of greetings, courtesies and content-free requests for help (normalised: lower
# case, apostrophes dropped). A word outside this set makes the turn a real one.
_WORD_LIST = """
    hi hello hey heya hiya howdy yo greetings morning afternoon evening good day there hii
    ok okay hmm um so well yes yeah sure thanks thank thx ty please pls plz again back
    how hows whats up sup are is it going doing you u ur your youre im i am me my we us our
    can could would will might may do does did
    help assist support favour favor question questions quick small little something
    some few couple a an of with for to on in about ask have got need want one more thing
    homework assignment task tasks problem problems exercise exercises stuff work
    anyone anybody still around awake available online here free busy
    assistant bot ai chatgpt claude friend buddy mate sir madam
    hola buenas buenos dias tardes noches gracias por favor puedes ayudar ayudarme ayuda
    una pregunta tengo
    bonjour salut coucou bonsoir merci stp svp peux tu aider maider aide jai question
    hallo moin servus guten tag morgen abend danke bitte kannst du mir helfen hilfe habe
    eine frage
    ciao buongiorno buonasera grazie puoi aiutarmi aiuto ho una domanda
    olá ola oi bom dia boa tarde noite obrigado obrigada podes pode ajudar ajudarme
    hej hei hallå god dag tack
    привет здравствуйте здравствуй добрый день утро вечер спасибо пожалуйста помоги
    помогите можешь можете помочь мне меня у есть вопрос
    cześć dzień dobry dziękuję proszę pomóż
    merhaba selam günaydın teşekkürler yardım eder misin
    γεια σου σας καλημέρα ευχαριστώ
    xin chào chao cảm ơn halo hai selamat pagi siang malam tolong bantu terima kasih
    مرحبا السلام عليكم اهلا أهلا شكرا ساعدني שלום היי תודה سلام درود नमस्ते नमस्कार
"""
WORDS = frozenset(_WORD_LIST.split())
# Pleasantries of scripts written without spaces (normalised, whole turn)
PHRASES = frozenset(
    {
        "你好", "您好", "嗨", "在吗", "在嗎", "你好在吗", "你好，在吗", "能帮我吗", "你能帮我吗",
        "こんにちは", "おはよう", "おはようございます", "こんばんは", "すみません",
        "手伝ってください", "안녕", "안녕하세요", "도와주세요", "สวัสดี", "สวัสดีครับ",
        "สวัสดีค่ะ",
    }
)  # fmt: skip
_SPLIT = re.compile(r"[\s.,!?¡¿;:…。！？、，~\-\"()]+")
_APOSTROPHE = re.compile(r"['’]")


def is_pleasantry(text: str) -> bool:
    """``text`` greets or offers to ask, and asks nothing yet."""
    if not text or len(text) > MAX_CHARS:
        return False
    folded = _APOSTROPHE.sub("", text.casefold())
    words = [w for w in _SPLIT.split(folded) if w]
    if not words:
        return False
    if all(w in WORDS for w in words):
        return True
    return "".join(words) in PHRASES


def _get(value: object, key: str) -> object:
    if type(value) is dict:
        return value.get(key)
    return value.get(key) if isinstance(value, Mapping) else None


def _short_text(content: object, limit: int) -> str | None:
    """The text of a message ``content`` when it is at most ``limit`` characters."""
    if type(content) is str:
        return content if len(content) <= limit else None
    if not isinstance(content, Sequence) or isinstance(content, bytes) or len(content) != 1:
        return None
    text = _get(content[0], "text")
    return text if isinstance(text, str) and len(text) <= limit else None


def first_ask(messages: Sequence[object], opened: int) -> int:
    """The index of the conversation's first real ask: its first user turn after the system
    messages and ``opened`` pleasantry exchanges (-1: none)."""
    skip = opened
    for i, msg in enumerate(messages):
        if _get(msg, "role") != "user":
            continue
        if skip <= 0:
            return i
        skip -= 1
    return -1


def opener_exchanges(messages: Sequence[object]) -> int:
    """The (pleasantry, short reply) exchanges at the start of ``messages`` before its last
    user turn (0: the chat starts with a real ask)."""
    start, count = 0, 0
    while start < len(messages) and _get(messages[start], "role") in _SYSTEM_ROLES:
        start += 1
    while count < MAX_EXCHANGES and start + 2 < len(messages):
        user, reply = messages[start], messages[start + 1]
        if _get(user, "role") != "user" or _get(reply, "role") != "assistant":
            break
        if _get(reply, "tool_calls"):
            break
        text = _short_text(_get(user, "content"), MAX_CHARS)
        if text is None or not is_pleasantry(text):
            break
        answer = _short_text(_get(reply, "content"), MAX_REPLY_CHARS)
        if not answer:
            break
        count += 1
        start += 2
    if not count:
        return 0
    # only exchanges before a later user turn: a chat that is only a greeting is its own ask
    if not any(_get(m, "role") == "user" for m in messages[start:]):
        return count - 1
    return count
