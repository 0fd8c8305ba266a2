"""The hand-rolled HS256 encoder against livekit-api: same claims, verifiable by TokenVerifier."""

import base64
import datetime
import json
import re
import time
from typing import Any
from uuid import uuid4

import pytest
from livekit import api

from token_service.tokens.minting import TokenMinter
from training_contracts import AGENT_NAME, AgentDispatchMetadata, encode_dispatch

KEY, SECRET = "devkey", "secret"
TIME_CLAIMS = {"nbf", "exp"}


def raw_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def raw_header(token: str) -> dict[str, Any]:
    header = token.split(".", maxsplit=1)[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    )
    return decoded


def livekit_token(identity: str, room: str, metadata: str) -> str:
    return (
        api.AccessToken(KEY, SECRET)
        .with_identity(identity)
        .with_name(identity)
        .with_ttl(datetime.timedelta(hours=1))
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room,
                can_publish=True,
                can_subscribe=True,
                can_publish_data=True,
                can_publish_sources=["microphone"],
            )
        )
        .with_room_config(
            api.RoomConfiguration(
                agents=[api.RoomAgentDispatch(agent_name=AGENT_NAME, metadata=metadata)]
            )
        )
        .to_jwt()
    )


@pytest.fixture
def metadata() -> str:
    return encode_dispatch(
        AgentDispatchMetadata(user_id=uuid4(), assignment_id=uuid4(), scenario_id=uuid4())
    )


def test_claims_equal_livekit_api_claims(metadata: str) -> None:
    identity, room = str(uuid4()), "training-0a1b2c3d"
    ours = TokenMinter(KEY, SECRET).mint(identity, room, metadata)
    theirs = livekit_token(identity, room, metadata)

    our_claims, their_claims = raw_claims(ours), raw_claims(theirs)
    assert {k: v for k, v in our_claims.items() if k not in TIME_CLAIMS} == {
        k: v for k, v in their_claims.items() if k not in TIME_CLAIMS
    }
    assert list(our_claims) == list(their_claims)  # same keys, same order, none extra
    assert raw_header(ours) == raw_header(theirs) == {"alg": "HS256", "typ": "JWT"}
    # the time claims agree too, up to the second that may tick between the two mints
    for claim in TIME_CLAIMS:
        assert abs(our_claims[claim] - their_claims[claim]) <= 1


def test_token_verifies_with_every_claim(metadata: str) -> None:
    identity, room = str(uuid4()), "training-deadbeef"
    before = int(time.time())
    token = TokenMinter(KEY, SECRET).mint(identity, room, metadata)
    after = int(time.time())

    claims = api.TokenVerifier(KEY, SECRET).verify(token)
    assert claims.identity == identity
    assert claims.name == identity
    assert claims.kind == ""
    assert claims.metadata == ""
    assert claims.video is not None
    assert claims.video.room_join is True
    assert claims.video.room == room
    assert claims.video.can_publish is True
    assert claims.video.can_subscribe is True
    assert claims.video.can_publish_data is True
    assert claims.video.can_publish_sources == ["microphone"]
    for grant in ("room_create", "room_admin", "room_list", "room_record", "hidden", "agent"):
        assert not getattr(claims.video, grant), grant
    assert claims.room_config is not None
    assert len(claims.room_config.agents) == 1
    assert claims.room_config.agents[0].agent_name == AGENT_NAME
    assert claims.room_config.agents[0].metadata == metadata

    raw = raw_claims(token)
    assert raw["iss"] == KEY
    assert raw["sub"] == identity
    assert before <= raw["nbf"] <= after
    assert raw["exp"] - raw["nbf"] == 3600


def test_wrong_secret_does_not_verify(metadata: str) -> None:
    token = TokenMinter(KEY, SECRET).mint(str(uuid4()), "training-00000000", metadata)
    with pytest.raises(Exception, match="Signature verification failed"):
        api.TokenVerifier(KEY, "another-secret").verify(token)


def test_metadata_needing_json_escapes_survives(metadata: str) -> None:
    tricky = json.dumps({"quote": '"', "backslash": "\\", "newline": "\n", "snow": "☃"})
    token = TokenMinter(KEY, SECRET).mint("someone", "training-12345678", tricky)
    claims = api.TokenVerifier(KEY, SECRET).verify(token)
    assert claims.room_config is not None
    assert claims.room_config.agents[0].metadata == tricky
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)


def test_minter_refuses_empty_credentials() -> None:
    with pytest.raises(ValueError, match="key and secret"):
        TokenMinter("", SECRET)
    with pytest.raises(ValueError, match="key and secret"):
        TokenMinter(KEY, "")
