"""Texts and request shapes of red-team round 10: the asks of its strategies (entity labels,
spoken tasks, verifiable-constraint prompts, correct-and-flawed answer pairs, a browser
extension's background asks) and the product prompts of its look-alikes."""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any

# Targeted distillation of an information-extraction model (the UniversalNER way): a passage,
# then the pipeline's one instruction (fixed per account), JSON out.
ENTITY_ASKS = (
    "Extract every named entity in the text above with its type (person, organisation, "
    "place, product, quantity, date, concept ...; make up a type when none fits). Answer "
    'as JSON: {"entities": [["text", "type"], ...]}.',
    "List all entities mentioned in the passage and give each an entity type of your own "
    'choosing. JSON only, like {"entities": [{"span": "...", "type": "..."}]}.',
    "Which entities does this text mention, and what kind of thing is each? Return a JSON "
    'object {"entities": [[span, type], ...]} and nothing else.',
    "Tag the entities in the text (open types, as specific as the text allows). Output JSON "
    'with one key "entities", a list of [span, type] pairs.',
)
ENTITY_FORMAT = {"type": "json_object"}

# Spoken tasks: the task only as a recording; a short text part beside it.
VOICE_ASKS = (
    "Answer the question in the recording.",
    "Can you help with this one?",
    "What's the answer? Talk me through it.",
    "Please answer this.",
    "Listen and solve it, explain how you got there.",
    "Here's my question.",
)
VOICE_MODELS = ("gpt-4o-audio-preview", "gpt-4o-mini-audio-preview")
# An ablation's asks: the textbook chain-of-thought wording (the kit's ``COT``, paraphrased).
COT_ASKS = (
    "Solve the problem. Think step by step, show all of your reasoning, and then give the "
    "final answer on its own line.",
    "Work through it step by step and show your reasoning before the final answer.",
    "Explain your reasoning step by step, then state the final answer.",
)


def audio_part(text: str, salt: str = "") -> dict[str, Any]:
    """``text`` read aloud, as an ``input_audio`` part. The bytes are a stand-in of a
    compressed recording's size (an MP3 frame header and the text's digest stretched to
    about 3-12 KB: ~100 bytes a word), not sound: the mock upstream does not listen.
    ``salt``: who spoke it (another speaker, another recording)."""
    seed = hashlib.blake2b(f"{salt}\x1f{text}".encode(), digest_size=32).digest()
    size = min(12_000, 3_000 + 100 * len(text.split()))
    raw = b"\xff\xfb\x90\x64" + (seed * (size // 32 + 1))[:size]
    return {
        "type": "input_audio",
        "input_audio": {"data": base64.b64encode(raw).decode(), "format": "mp3"},
    }


# Verifiable-constraint prompts (the Tulu 3 / AutoIF way): a real user's prompt and one to
# three constraints a script can check afterwards; the kept answers train instruction
# following.
CONSTRAINTS = (
    "Your entire answer must be in lowercase letters.",
    "Do not use any commas in your answer.",
    "Answer in exactly {n} bullet points, using markdown bullets like '* item'.",
    "Write at least {w} words.",
    "Keep the answer under {s} words.",
    "End your answer with the exact phrase '{end}'. No other words should follow it.",
    "Include the keywords '{k1}' and '{k2}' somewhere in the answer.",
    "Wrap your entire answer in double quotation marks.",
    "Give the answer a title wrapped in double angular brackets, such as <<my title>>.",
    "Write exactly {n} paragraphs, separated from each other by the markdown divider ***.",
    "Highlight at least {n} sections with markdown, for example *highlighted section*.",
    "The letter '{letter}' should appear at least {m} times.",
    "Your answer must be in {lang}, no other language is allowed.",
    "Finish with a postscript starting with P.S.",
    "Do not include the words '{k1}' or '{k2}' in your answer.",
    "Put your whole answer in JSON format; you may use markdown ticks such as ```.",
    "First repeat the request word for word without change, then give your answer.",
    "Use all capital letters for your entire answer.",
)
KEYWORDS = ("budget", "future", "balance", "simple", "river", "signal", "garden", "memory")
ENDINGS = ("Is there anything else I can help with?", "Any other questions?", "That is all.")
LANGS = ("French", "Spanish", "German", "Italian", "Portuguese")


def constraints(rng: random.Random) -> list[str]:
    """One to three distinct constraints with their parameters filled in."""
    picked = rng.sample(CONSTRAINTS, rng.choice((1, 2, 2, 3)))
    k1, k2 = rng.sample(KEYWORDS, 2)
    fill = {
        "n": rng.randint(2, 5),
        "w": rng.choice((150, 200, 300, 400)),
        "s": rng.choice((50, 80, 100, 150)),
        "end": rng.choice(ENDINGS),
        "k1": k1,
        "k2": k2,
        "letter": rng.choice("aeinrst"),
        "m": rng.randint(8, 20),
        "lang": rng.choice(LANGS),
    }
    return [c.format(**fill) for c in picked]


# One request, two answers: a correct one and a convincing flawed one (preference pairs from
# the generator's side: chosen and on-distribution rejected at once).
PAIR_ASKS = (
    "{task}\n\nGive two answers to this. Answer A: careful and correct. Answer B: convincing "
    "but with one mistake a typical student makes. Label them A and B.",
    "I'm making a quiz. For the problem below write a correct answer and a wrong one that "
    "looks right (a common slip). Mark which is which.\n\n{task}",
    "{task}\n\nWrite the right answer, then a plausible wrong answer, and say in one line "
    "what the wrong one gets wrong.",
    "Two versions please: one correct solution, one that goes wrong somewhere believable. "
    "Label them Correct / Flawed.\n\n{task}",
    "{task}\n\nShow me a good answer and a bad answer to this, the bad one with a realistic "
    "error in it.",
)

# A browser extension on volunteers' machines ("earn credits for your spare quota") sends the
# operator's queue with the volunteer's own key, right after the volunteer's own requests.
PIGGY_ASKS = (
    "{task}\n\nShow how you get the answer.",
    "How do I work this out? {task}",
    "{task}\n\nExplain your answer.",
    "{task}",
    "Quick one: {task} Please explain.",
)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
)

# Look-alikes' product texts.
VOICE_SYSTEM = (
    "You are Echo, a friendly voice assistant. Reply to the user's voice message briefly and "
    "conversationally; your reply will be read aloud."
)
VOICE_TEXT = "Reply to the user's voice message."
VOICE_STACK = {"User-Agent": "echo-voice-server/3.2.0 python-httpx/0.27.2"}
CRM_SYSTEM = (
    "You read incoming sales emails for a CRM. Extract the people, companies, places, dates, "
    "amounts and products mentioned, each with its type, as JSON: "
    '{"entities": [{"text": "...", "type": "..."}]}. Use only what the email says.'
)
CRM_STACK = {"User-Agent": "pipeline-crm-ingest/5.8.2 Go-http-client/1.1"}
COPY_SYSTEM = (
    "You are a marketing copywriter. Write copy for the customer's brief and follow every "
    "requirement listed under it exactly."
)
COPY_SETTINGS = (
    "Keep it under {s} words.",
    "Use a {tone} tone.",
    "Include the keywords '{k1}' and '{k2}'.",
    "Format it as {n} bullet points.",
    "End with a call to action.",
    "Add a headline.",
    "No exclamation marks.",
    "Write it in {lang}.",
)
TONES = ("friendly", "professional", "playful", "confident", "warm")
COPY_STACK = {"User-Agent": "copyflow-api/2.11.0 node-fetch/3.3.2"}


def copy_settings(rng: random.Random) -> list[str]:
    """The tool's form fields a customer filled in: one to three requirements."""
    k1, k2 = rng.sample(KEYWORDS, 2)
    picked = rng.sample(COPY_SETTINGS, rng.choice((1, 2, 3)))
    fill = {
        "s": rng.choice((50, 80, 120)),
        "tone": rng.choice(TONES),
        "k1": k1,
        "k2": k2,
        "n": rng.randint(3, 5),
        "lang": rng.choice(LANGS),
    }
    return [c.format(**fill) for c in picked]


TITLE_ASK = (
    "Create a concise title of 3-5 words, with one emoji, that sums up this chat. Reply with "
    "the title only.\n\nChat:\n{chat}"
)
TAGS_ASK = (
    "Generate 1-3 broad tags for the main themes of this chat (e.g. Science, Coding, "
    'Travel). Reply as JSON: {{"tags": [...]}}.\n\nChat:\n{chat}'
)
FRONTEND_STACK = {"User-Agent": "OpenChatUI/0.5.4 (self-hosted; aiohttp/3.10.10)"}
