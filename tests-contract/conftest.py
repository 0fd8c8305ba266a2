"""The seed of the contract test's random run: `CONTRACT_SEED` when set, a new one otherwise, printed
in the session's header so that a failing run can be repeated exactly."""

import os
import random

import pytest

SEED_VARIABLE = "CONTRACT_SEED"
_SEED = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    given = os.environ.get(SEED_VARIABLE)
    config.stash[_SEED] = int(given) if given else random.SystemRandom().randrange(2**31)


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash[_SEED]
    return (
        f"schemathesis random seed: {seed} (repeat with {SEED_VARIABLE}={seed} make contract-test)"
    )


@pytest.fixture(scope="session")
def contract_seed(pytestconfig: pytest.Config) -> int:
    return pytestconfig.stash[_SEED]
