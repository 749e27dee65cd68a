"""Texts and request shapes of red-team round 6: the asks of its strategies (synthetic data,
verbalised answer distributions, programs, planted mistakes, pictures of tasks, answers cut
into short pieces) and the product prompts of its look-alikes."""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any

from loadtest.detection.redteam4_text import NUMBER

# Evol-instruct / self-instruct: a seed task in, new tasks with worked solutions out.
EVOLVE = (
    "Here is a problem:\n\n{task}\n\nWrite {k} new problems of the same kind, each a little "
    "harder than the last. For each one give the problem and then its full solution.",
    "Seed example:\n{task}\n\nCreate {k} variations (change the numbers and the situation, add "
    "one extra condition to each). Number them and solve every variation completely.",
    "{task}\n\nUsing this as a template, generate {k} fresh exercises with solutions, the way a "
    "textbook lists exercises with their worked solutions at the back.",
    "Make {k} more problems like this one, with different contexts, and a model solution for "
    "each:\n\n{task}",
)

# Soft labels without logprobs: the model states its own answer distribution.
VERBAL = (
    "{task}\n\nList the {k} most likely answers, each with your probability (in %), most likely "
    "first. The percentages should add up to 100.",
    "{task}\n\nGive your top {k} candidate answers and how confident you are in each, as "
    "percentages.",
    "Question: {task}\nReply as lines 'answer | confidence%' for your {k} best candidates.",
    "{task}\n\nWhat are the {k} answers you would consider, and how likely is each one? "
    "Percentages, highest first.",
)

# Program-of-thought: the trace is code, one comment a line.
PROGRAM = (
    "Write a Python function solve() that returns the answer to this, with a comment on every "
    "line saying what it computes:\n\n{task}",
    "{task}\n\nAnswer with a short Python script only: one variable per quantity, a comment on "
    "each line, print the result at the end.",
    "Translate this into code. Python, commented line by line, then the printed output:\n\n{task}",
    "# Task: {task}\n# Write the Python that computes the answer; comment each line.",
)
LANG_HINTS = ("Python 3.11", "plain Python, no imports", "Python with type hints")

# Planted mistakes: a wrong worked solution to find, fix and redo.
HUNT = (
    "My solution to this is below but the answer key disagrees. Where is the mistake? Then "
    "write the correct solution.\n\nProblem: {task}\n\nMy solution:\n{wrong}",
    "Problem: {task}\n\nAttempt:\n{wrong}\n\nFind the line where this goes wrong and redo it "
    "correctly from there.",
    "{task}\n\nSomeone answered:\n{wrong}\n\nIs that right? If not, fix it and give the right "
    "answer.",
    "Check this working for {task!r}:\n{wrong}\nWhat's wrong and what should it be?",
)

# A picture of the task: the text part never changes.
IMAGE_ASKS = (
    "Solve the problem in the picture.",
    "Can you help with this one?",
    "What's the answer here? Explain.",
    "Please solve.",
    "Help me with this question from my worksheet.",
)
CDN = "https://{host}/u/{key}.png"
CDN_HOSTS = ("quizsnap-cdn.net", "static.notehive.io", "cdn.studyframe.app", "i.paperlens.co")

# Answers cut into short pieces: small max_tokens, then "continue".
FIRST_ASK = (
    "{task}\n\nWork through it step by step and show your reasoning before the final answer.",
    "{task}\n\nThink it through step by step; explain every step.",
    "Explain the full reasoning, step by step, then the answer:\n{task}",
)
CONTINUE = ("continue", "Continue.", "go on", "keep going", "continue from where you stopped")
PIECE = (
    "Step 1: we start from the quantities given in the problem and name each one.",
    "Step 2: we combine them in the order the problem describes; the intermediate value is kept.",
    "Step 3: we check the intermediate value against the conditions and carry it forward.",
    "Step 4: the last operation gives the result, which we check once more.",
)


def image_part(rng: random.Random, task: str, shot: int = 0) -> dict[str, Any]:
    """The task as a picture: a CDN URL (most) or an inline PNG. The inline bytes are a
    stand-in of a rendered picture's size (a PNG signature and the task's digest stretched
    to about 3-6 KB), not pixels: the mock upstream does not look at them. ``shot``: which
    photograph of the task (0: the one rendering of it; a student's own photo of a
    worksheet question is other bytes and another upload than a classmate's)."""
    name = task.encode() + (b"\x1fshot%d" % shot if shot else b"")
    key = hashlib.blake2b(name, digest_size=10).hexdigest()
    if rng.random() < 0.7:
        url = CDN.format(host=rng.choice(CDN_HOSTS), key=key)
        return {"type": "image_url", "image_url": {"url": url, "detail": "high"}}
    size = rng.randint(3000, 6000)
    seed = hashlib.blake2b(name, digest_size=32).digest()
    raw = b"\x89PNG\r\n\x1a\n" + (seed * (size // 32 + 1))[:size]
    data = base64.b64encode(raw).decode()
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


def wrong_solution(rng: random.Random, task: str) -> str:
    """A worked solution with one planted slip (a wrong operation result)."""
    nums = [float(n) for n in NUMBER.findall(task)][:4] or [float(rng.randint(3, 40))]
    lines = [f"Given: {', '.join(f'{n:g}' for n in nums)}."]
    total = nums[0]
    slip = rng.randrange(max(1, len(nums) - 1))
    for i, n in enumerate(nums[1:]):
        op = rng.choice(("+", "*", "-"))
        new = total + n if op == "+" else total * n if op == "*" else total - n
        if i == slip:
            new += rng.choice((-2, -1, 1, 3, 10))
        lines.append(f"{total:g} {op} {n:g} = {new:g}")
        total = new
    lines.append(f"Answer: {total:g}")
    return "\n".join(lines)


# Look-alikes' product texts.
PRACTICE_SYSTEM = (
    "You are a teaching assistant in a worksheet builder for teachers. Produce exercises that "
    "match the teacher's example and the requested level, each with a model solution."
)
PRACTICE_ASKS = (
    "Make {k} practice problems like this one for my year 7 class, with solutions:\n\n{task}",
    "I need {k} similar questions (easier) plus worked answers for a homework sheet:\n{task}",
    "Differentiate this for mixed ability: {k} versions from easy to hard, with answers.\n\n{task}",
)
SNAP_SYSTEM = (
    "You are SnapTutor, a homework helper. The student sends a photo of a question. Guide them "
    "to the answer, explain the method, and keep it encouraging."
)
SNAP_FOLLOW = (
    "why did you multiply there?",
    "ok I got 42, is that right?",
    "can you explain the second step again",
    "thanks!! what about question 5 on the same sheet",
    "I don't understand the picture part",
)
CHECK_SYSTEM = (
    "You are the 'Check my work' feature of a maths practice platform. Point to the first line "
    "with an error, explain the misconception briefly, and show the corrected working."
)
TRIAGE_SYSTEM = (
    "You route customer messages. Reply only with lines 'label | probability%' for the three "
    "most likely labels out of: billing, shipping, returns, account, technical, sales, other."
)
IDE_SYSTEM = (
    "You are an IDE assistant. Answer with code first; keep explanations to short comments. "
    "Stop when the token limit is reached; the user will ask you to continue."
)
IDE_ASKS = (
    "Write a Python function for this, commented:\n{q}",
    "Explain this in code comments:\n{q}",
    "Refactor into a function with a docstring and comments:\n{q}",
    "Sketch the implementation (Python), comment each step:\n{q}",
)
IDE_PIECE = (
    "def handle(rows):\n    # keep the rows that have a value\n    kept = [r for r in rows if r]",
    "    # group them by key and count each group\n    counts = Counter(r.key for r in kept)",
    "    # the most common key first\n    return counts.most_common()",
)
