"""devstack.heard: a stored transcript compared with what the model heard and said."""

from devstack.heard import Heard, StoredTurn, heard_and_said, unlike_heard

HEARD = [
    Heard("user", "Hello?", 10.0),
    Heard("assistant", "Hi.", 12.0),
    Heard("user", "What happened?", 15.0),
    Heard("assistant", "I lost my job.", 18.0),
]


def stored(*texts: str) -> list[StoredTurn]:
    by_text = {h.text: h.role for h in HEARD}
    return [StoredTurn(by_text[t], t, n) for n, t in enumerate(texts, start=1)]


def test_the_stubs_items_become_the_conversation() -> None:
    connection = {
        "items": [
            {"type": "message", "role": "system", "text": "persona", "completed_at": None},
            {"type": "message", "role": "user", "text": "Hello?", "completed_at": 10.0},
            {"type": "message", "role": "assistant", "text": None, "completed_at": None},
            {"type": "function_call", "role": None, "text": "x"},
            {"type": "message", "role": "assistant", "text": "Hi.", "completed_at": 12.0},
        ]
    }
    assert heard_and_said(connection) == HEARD[:2]


def test_exactly_what_was_heard_passes() -> None:
    assert unlike_heard(stored("Hello?", "Hi.", "What happened?", "I lost my job."), HEARD) is None


def test_a_missing_turn_a_twice_stored_one_and_a_gap_are_told() -> None:
    assert unlike_heard(stored("Hello?", "Hi.", "What happened?"), HEARD) is not None
    twice = [*stored("Hello?", "Hi."), StoredTurn("user", "Hello?", 3)]
    assert "twice" in (unlike_heard(twice, HEARD[:2]) or "")
    gap = [StoredTurn("user", "Hello?", 1), StoredTurn("assistant", "Hi.", 3)]
    assert "turn orders" in (unlike_heard(gap, HEARD[:2]) or "")


def test_after_a_kill_the_turns_complete_by_then_are_enough() -> None:
    # complete by 16.0: the first three; the fourth may be lost, or stored
    assert unlike_heard(stored("Hello?", "Hi.", "What happened?"), HEARD, complete_by=16.0) is None
    assert unlike_heard(stored(*[h.text for h in HEARD]), HEARD, complete_by=16.0) is None
    lost = unlike_heard(stored("Hello?", "Hi."), HEARD, complete_by=16.0)
    assert lost is not None
    assert "not stored" in lost
    reordered = unlike_heard(stored("Hi.", "Hello?", "What happened?"), HEARD, complete_by=16.0)
    assert reordered is not None
