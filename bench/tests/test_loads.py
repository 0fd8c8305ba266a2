"""A load that saw failures prints no figure: wrk's non-2xx answers raise instead of being
reported as the endpoint's rate, and the servers section measures a seeded user's token path."""

import uuid

import pytest

from bench import asgi_servers
from bench.backend import pinned_backend
from bench.load import LoadFailed, post_load
from training_contracts import TOKEN_PATH, USER_ID_HEADER


def test_a_load_answered_401_raises_and_a_seeded_users_load_does_not() -> None:
    with pinned_backend() as service:
        url = service.url + TOKEN_PATH
        stranger = {USER_ID_HEADER: str(uuid.uuid4())}
        with pytest.raises(LoadFailed, match="non-2xx"):
            post_load(url, "{}", stranger, seconds=1, warmup_seconds=0, connections=2)
        known = {USER_ID_HEADER: service.demo["users"][0]["userId"]}
        result = post_load(url, "{}", known, seconds=1, warmup_seconds=0, connections=2)
    assert result.requests_per_s > 0
    assert result.non_2xx == result.errors == 0


def test_the_servers_section_measures_the_token_path_of_a_seeded_user() -> None:
    result = asgi_servers.run(seconds=1)
    assert set(result.loads) == {"uvicorn (uvloop, httptools)", "granian (asgi, uvloop)"}
    assert all(load.requests_per_s > 0 for load in result.loads.values())
