"""devstack.waits.until: the suites' one poll-until."""

import pytest

from devstack.waits import until


async def test_a_predicate_is_asked_again_until_it_holds() -> None:
    answers = iter([None, 0, "", "there"])
    assert await until("an answer", lambda: next(answers), 1.0, poll=0.001) == "there"


async def test_a_coroutine_probe_is_awaited() -> None:
    calls = 0

    async def probe() -> int | None:
        nonlocal calls
        calls += 1
        return calls if calls == 3 else None

    assert await until("the third call", probe, 1.0, poll=0.001) == 3


async def test_the_failure_names_what_never_came_and_what_was_there() -> None:
    with pytest.raises(AssertionError, match=r"^no green light within 0.05 s: still red$"):
        await until("green light", lambda: False, 0.05, poll=0.01, context=lambda: "still red")
