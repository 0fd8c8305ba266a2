"""The pytest plugin of the suites whose calls carry media (tests-e2e, tests-faults,
tests-cluster): each names it in its conftest, `pytest_plugins = ["devstack.harness.plugin"]`.

- The suite runs in a network namespace of its own (devstack.netns): interfaces that come and go
  next door would make libwebrtc restart ICE mid-call. pytest re-executes itself inside one
  before it collects anything.
- `@pytest.mark.last`: the test runs after every other test of the suite (a check of what the
  whole run left behind).
"""

from __future__ import annotations

import pytest

from .. import netns


def pytest_configure(config: pytest.Config) -> None:
    netns.reexec_in_namespace(config.invocation_params.args)
    config.addinivalue_line("markers", "last: runs after every other test of the suite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)
