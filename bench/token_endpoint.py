"""The token route under closed-loop load: ours (both paths) against the Node peer."""

import msgspec

from devstack.livekit import DEV_API_KEY, DEV_API_SECRET
from training_contracts import AGENT_NAME, TOKEN_PATH, USER_ID_HEADER

from .backend import pinned_backend
from .load import LoadResult, post_load
from .peer import run_peer


class TokenResult(msgspec.Struct):
    ours_free_practice: LoadResult
    ours_assignment: LoadResult
    """With an assignment: the token service looks it up in the database."""
    node_peer_free_practice: LoadResult
    ratio_rps_free_practice: float
    """Ours over the peer's, as the next."""
    ratio_p99_free_practice: float
    connections: int
    """wrk's connections, each sending its next request once the last one was answered."""
    seconds: int


def run(seconds: int = 10, connections: int = 32) -> TokenResult:
    def load(url: str, body: str, user: str) -> LoadResult:
        return post_load(
            url, body, {USER_ID_HEADER: user}, seconds=seconds, connections=connections
        )

    with pinned_backend() as service:
        demo_user = service.demo["users"][0]
        url = service.url + TOKEN_PATH
        free = load(url, "{}", demo_user["userId"])
        assigned = load(
            url, f'{{"assignmentId":"{demo_user["assignmentId"]}"}}', demo_user["userId"]
        )
    with run_peer(AGENT_NAME, DEV_API_KEY, DEV_API_SECRET) as peer_url:
        peer = load(peer_url, "{}", demo_user["userId"])
    return TokenResult(
        ours_free_practice=free,
        ours_assignment=assigned,
        node_peer_free_practice=peer,
        ratio_rps_free_practice=free.requests_per_s / peer.requests_per_s,
        ratio_p99_free_practice=free.p99_ms / peer.p99_ms,
        connections=connections,
        seconds=seconds,
    )
