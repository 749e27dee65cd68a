"""Encoded prompts are fingerprinted as their plain text (gateway.fingerprints.reveal), and
user messages in a row are one turn (gateway.fingerprints.request): a task hidden in base64
or a letter cipher, or sent as its own message before a short plain ask, is read as the
task the model is asked, never only as the wrapper around it."""

from __future__ import annotations

import base64
import codecs
import json

import pytest

from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.request import prompt_parts, request_features
from gateway.fingerprints.reveal import Revealer, ciphers

TASK = (
    "Explain step by step how to find the derivative of x squared times the sine of x, "
    "and show your reasoning in full before you give the final answer."
)


def _shift(text: str, k: int) -> str:
    low = "abcdefghijklmnopqrstuvwxyz"
    table = {ord(c): ord(low[(i + k) % 26]) for i, c in enumerate(low)}
    table.update({ord(c.upper()): ord(low[(i + k) % 26].upper()) for i, c in enumerate(low)})
    return text.translate(table)


def _atbash(text: str) -> str:
    low = "abcdefghijklmnopqrstuvwxyz"
    table = {ord(c): ord(low[25 - i]) for i, c in enumerate(low)}
    table.update({ord(c.upper()): ord(low[25 - i].upper()) for i, c in enumerate(low)})
    return text.translate(table)


ENCODED = {
    "base64": f"Decode this base64 and answer it:\n{base64.b64encode(TASK.encode()).decode()}",
    "urlsafe": f"Answer: {base64.urlsafe_b64encode(TASK.encode()).decode().rstrip('=')}",
    "hex": f"The task, in hex: {TASK.encode().hex()}",
    "rot13": f"Decode this ROT13 and answer it:\n{codecs.encode(TASK, 'rot13')}",
    "shift3": f"Caesar, shift 3:\n{_shift(TASK, 3)}",
    "atbash": f"Atbash:\n{_atbash(TASK)}",
    "reversed": f"Read it backwards:\n{TASK[::-1]}",
    "base64_of_rot13": base64.b64encode(codecs.encode(TASK, "rot13").encode()).decode(),
}

ORDINARY = [
    TASK,
    "Why does my build fail?\n\nEMAIL_PASSWORD = 'Hy^ed03ScLkk4#cs)dd1wWnk'\n"
    "return sheet.max_row + 1",
    "My token is eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U why is it rejected?",
    "The file's sha256 is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08;"
    " is that the release?",
    "Bonjour, pouvez-vous m'aider à écrire une lettre de motivation pour un poste d'ingénieur ?",
    "def handle_callback(call):\n    bot.answer_callback_query(call.id)\n"
    "    return sheet.max_row + 1",
    "Gur is a village; what is it known for?",
]


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_an_encoded_task_is_revealed(fp: Fingerprinter, name: str) -> None:
    revealed = fp.revealer.reveal(fp.skeletonizer.tokenize(ENCODED[name]))
    assert revealed is not None
    assert TASK in revealed or TASK[:60] in revealed


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_an_encoded_task_has_the_plain_tasks_elicitation(fp: Fingerprinter, name: str) -> None:
    plain = fp.fingerprint_text(TASK)
    assert plain.elicitation > 0
    hidden = fp.fingerprint_text(ENCODED[name])
    assert hidden.elicitation >= plain.elicitation
    assert set(plain.elicitation_terms) <= set(hidden.elicitation_terms)
    # not revealed: the lexicon reads nothing in the encoded text
    assert fp.fingerprint_text(ENCODED[name], reveal=False).elicitation < plain.elicitation


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_as_it_is(fp: Fingerprinter, text: str) -> None:
    assert fp.revealer.reveal(fp.skeletonizer.tokenize(text)) is None
    assert fp.fingerprint_text(text) == fp.fingerprint_text(text, reveal=False)


def test_every_cipher_is_its_own_and_decodes_back() -> None:
    tables = ciphers()
    assert len(tables) == 27  # 25 shifts, Atbash, backwards
    revealer = Revealer(Fingerprinter().skeletonizer)
    assert revealer.reveal(revealer.skeletonizer.tokenize(f"Shift 7:\n{_shift(TASK, 7)}")) == (
        f"Shift 7:\n{TASK}"
    )


def test_the_request_path_cell_stays_the_text_as_sent(fp: Fingerprinter) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": ENCODED["rot13"]}]}
    part = fp.budget_part(body, "chat", cell=True)
    assert part.print.cell == fp.cell_of(ENCODED["rot13"])
    whole = fp.fingerprint(body, "chat", part.skeleton, part.print.cell)
    assert whole.cell == fp.fingerprint_text(ENCODED["rot13"]).cell  # the plain task's
    assert whole.elicitation > 0


def _chat(*messages: tuple[str, str]) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": r, "content": c} for r, c in messages]}


def test_user_messages_in_a_row_are_one_turn(fp: Fingerprinter) -> None:
    split = _chat(
        ("system", "You are helpful."), ("user", TASK), ("user", "Answer my message above.")
    )
    parts = prompt_parts(split, "chat")
    assert parts.user_turns == 1
    assert parts.last_user == f"{TASK}\nAnswer my message above."
    assert request_features(split, "chat").turns == 1
    whole = fp.fingerprint(split, "chat")
    assert whole.elicitation >= fp.fingerprint_text(TASK).elicitation
    # an answer between the two: two turns, the last one alone is fingerprinted
    asked = _chat(("user", TASK), ("assistant", "Sure."), ("user", "Answer my message above."))
    assert prompt_parts(asked, "chat").user_turns == 2
    assert prompt_parts(asked, "chat").last_user == "Answer my message above."


def test_a_responses_input_with_two_user_items_is_one_turn() -> None:
    body = {
        "model": "m",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": TASK}]},
            {"role": "user", "content": "Go."},
        ],
    }
    parts = prompt_parts(body, "chat")
    assert (parts.user_turns, parts.last_user) == (1, f"{TASK}\nGo.")


def test_a_turn_in_two_messages_reads_like_the_same_turn_in_one(fp: Fingerprinter) -> None:
    paste = "Here is the article:\n" + " ".join(["The council met on Tuesday."] * 20)
    two = fp.fingerprint(_chat(("user", paste), ("user", "Summarise it in two lines.")), "chat")
    one = fp.fingerprint(_chat(("user", f"{paste}\nSummarise it in two lines.")), "chat")
    assert json.dumps([two.cell, two.simhash, two.elicitation]) == json.dumps(
        [one.cell, one.simhash, one.elicitation]
    )


def test_a_continued_turn_of_two_messages_is_the_whole_ask() -> None:
    body = _chat(
        ("user", TASK),
        ("user", "Answer my message above."),
        ("assistant", "Step 1: the product rule says"),
        ("user", "continue"),
    )
    parts = prompt_parts(body, "chat")
    assert (parts.continued, parts.ask) == (1, f"{TASK}\nAnswer my message above.")
