"""Token minting alone: our signer against livekit-api's AccessToken.to_jwt(), same claims."""

import timeit
import warnings
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import msgspec
from livekit import api

from token_service.tokens.minting import TokenMinter
from training_contracts import AGENT_NAME, AgentDispatchMetadata, encode_dispatch

USER = "4a1f0d3e-0000-4000-8000-000000000001"
ROOM = "training-0a1b2c3d"
KEY, SECRET = "devkey", "secret-long-enough-for-hs256-without-a-warning"


def _livekit_api_token(metadata: str) -> str:
    return (
        api.AccessToken(KEY, SECRET)
        .with_identity(USER)
        .with_name(USER)
        .with_ttl(timedelta(hours=1))
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=ROOM,
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


def tokens_per_second(fn: Callable[[], object], number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return number / best


class MintResult(msgspec.Struct):
    """The best of five timed repeats, for each signer."""

    ours_tokens_per_s: float
    livekit_api_tokens_per_s: float
    ours_us_per_token: float
    """The same figure as time per token, as the next."""
    livekit_api_us_per_token: float
    speedup: float
    """Ours over livekit-api's, in tokens per second."""


def run() -> MintResult:
    metadata = encode_dispatch(AgentDispatchMetadata(user_id=UUID(USER)))
    minter = TokenMinter(KEY, SECRET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = tokens_per_second(lambda: minter.mint(USER, ROOM, metadata), 20_000)
        theirs = tokens_per_second(lambda: _livekit_api_token(metadata), 2_000)
    return MintResult(
        ours_tokens_per_s=ours,
        livekit_api_tokens_per_s=theirs,
        ours_us_per_token=1e6 / ours,
        livekit_api_us_per_token=1e6 / theirs,
        speedup=ours / theirs,
    )
