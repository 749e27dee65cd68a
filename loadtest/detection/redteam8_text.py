"""Texts and request shapes of red-team round 8: the asks of its strategies (real users' prompts
replayed, self-chat dialogues, one fake app's users, answer-conditioned rationales, coding
asks) and the product prompts of its look-alikes."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from loadtest.detection.redteam4_text import NUMBER

# Coding prompts among real users' prompts (the arena pool is about a third code).
CODE = re.compile(
    r"\b(python|javascript|typescript|code|function|script|sql|c\+\+|java|rust|golang|regex|"
    r"class|api|bash)\b|```|def |import ",
    re.IGNORECASE,
)


def coding(prompts: Sequence[str]) -> list[str]:
    """The coding prompts of ``prompts``, in order."""
    return [p for p in prompts if CODE.search(p)]


def slice_of(pool: Sequence[str], salt: str, index: int, size: int) -> list[str]:
    """Account ``index``'s own ``size`` prompts of ``pool`` (one shuffle shared by the whole
    operation; slices are disjoint until the pool runs out, then wrap)."""
    items = list(dict.fromkeys(pool))
    random.Random(salt).shuffle(items)
    return [items[(index * size + j) % len(items)] for j in range(size)]


# Self-chat (UltraChat / Baize): the teacher also plays the user.
SIM_SYSTEM = (
    "You are role-playing a curious student talking to a tutor. Read the conversation and "
    "write ONLY the student's next message: a specific follow-up question about the tutor's "
    "last answer, one or two sentences, casual tone."
)
SIM_ASK = "Conversation so far:\n\n{transcript}\n\nWrite the student's next message."
TRACE_STUB = (
    "Let's work through it. First, list what the problem gives us: {nums}. Then combine them "
    "in the order the question describes, checking each intermediate value. So the answer is "
    "{n}."
)
# What the simulated student asks next (the teacher writes these; each names the task's
# numbers, so no two are alike).
GENERATED_FOLLOW = (
    "wait, where does the {a} come from in the second part?",
    "why do we use {a} before {b} and not the other way round?",
    "what would change if it were {b} instead of {a}?",
    "is there a faster way to get {n} without doing every line?",
    "ok but how do I know to multiply by {a} there? I'd have added",
    "can you double check the {b} part, I got something different",
    "so if I had {a} and {b} on a test, I'd do the same thing?",
    "hmm, why is the answer {n} and not {a}?",
)


def numbers(rng: random.Random, task: str) -> list[str]:
    """Two or more numbers of the task (made up when it has fewer)."""
    nums: list[str] = NUMBER.findall(task)[:4]
    while len(nums) < 2:
        nums.append(str(rng.randint(2, 40)))
    return nums


# One fake app's users: the app's fixed system prompt and student-style user turns.
APP_SYSTEM = (
    "You are StudyPal, a friendly homework helper for high-school students. Always explain "
    "your solution step by step, showing every calculation, and give the final answer on its "
    "own line."
)
APP_STACK = {
    "User-Agent": "StudyPal/3.2.0 (com.studypal.app; build 412) okhttp/4.12.0",
    "X-App-Version": "3.2.0",
}
APP_LEADS = ("", "", "", "pls help", "hw question:", "stuck on this one", "can u solve this", "??")

# Rationalisation (STaR): the task and its gold answer; the teacher writes how to get there.
RATIONALE = (
    "{task}\n\nThe answer key says {n}. How do you get {n}? Explain it so I can follow.",
    "{task}\n\nAnswer: {n}\n\nExplain why this is the answer.",
    "I know the answer is {n} but not how to get it.\n\n{task}",
    "Given that the correct answer is {n}, write the explanation that leads to it.\n\n{task}",
    "{task}\nCorrect answer: {n}. Walk me through the reasoning that reaches it.",
    "Why is the answer to this {n}?\n\n{task}",
)

# Coding asks, paraphrased per request.
CODE_ASKS = (
    "Explain your approach step by step, then give the code.",
    "Think it through step by step before writing the code.",
    "Walk through your reasoning step by step first, then the full solution.",
    "Reason about the edge cases step by step, then write it.",
    "Explain each step of the solution, then show the final code.",
)
CODE_FOLLOW = (
    "now write unit tests for it",
    "what's the time complexity?",
    "can you make it handle empty input?",
    "rewrite it without external libraries",
)

# Look-alikes' product texts.
FRONTEND_SYSTEM = (
    "You are a helpful assistant. Answer in Markdown. Think step by step when a question "
    "needs reasoning, and say so when you are unsure."
)
FRONTEND_STACK = {"User-Agent": "ChatDesk/1.18.4 (Electron 31.2.0; Windows 10)"}
KEY_SYSTEM = (
    "You are the 'Explain this answer' button of a homework app. The student gives a textbook "
    "problem and the book's answer. Explain step by step, in simple words, how to reach it."
)
KEY_ASK = "Problem: {task}\n\nThe book's answer: {n}\n\nI don't understand how they got this."
SUGGEST_SYSTEM = (
    "Suggest three short replies the user might send next in this chat. One line each, no "
    "numbering, at most eight words."
)
SUGGEST_ASK = "Chat so far:\n\n{transcript}\n\nSuggested replies:"
CHAT_STUB = "Here is a detailed answer to your question, with the main points first."
CAMP_ASKS = (
    "Can you explain step by step how to do this? It's this week's exercise.",
    "I don't get this exercise, can you go through it step by step?",
    "Here's my exercise for the bootcamp, please explain the solution step by step",
)
