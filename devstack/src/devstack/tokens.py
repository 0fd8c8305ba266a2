"""Tokens the token service would never mint, for tests that reach the agent's failures: metadata
it cannot read, or an agent name of their own (a second worker, or one nobody registers); or a
room the token service does not follow (a `room_prefix` other than the training rooms').

    room, jwt = mint_token((api_key, api_secret), identity=user_id, agent_name=name, metadata="x")
"""

import secrets
from datetime import timedelta

from livekit import api

from training_contracts import ROOM_NAME_PREFIX

__all__ = ["mint_token"]


def mint_token(
    key_secret: tuple[str, str],
    *,
    identity: str,
    agent_name: str,
    metadata: str,
    ttl: timedelta = timedelta(minutes=10),
    room_prefix: str = ROOM_NAME_PREFIX,
) -> tuple[str, str]:
    """(room name, jwt): joining a fresh room dispatches `agent_name` with `metadata` as it is."""
    api_key, api_secret = key_secret
    room = room_prefix + secrets.token_hex(4)
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        can_publish_sources=["microphone"],
    )
    jwt = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_ttl(ttl)
        .with_grants(grants)
        .with_room_config(
            api.RoomConfiguration(
                agents=[api.RoomAgentDispatch(agent_name=agent_name, metadata=metadata)]
            )
        )
        .to_jwt()
    )
    return room, jwt
