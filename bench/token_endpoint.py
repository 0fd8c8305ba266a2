"""POST /api/livekit/token under closed-loop load: ours (both paths) against the Node peer."""

from dataclasses import asdict
from typing import Any

from training_contracts import AGENT_NAME

from .backend import pinned_backend
from .load import LoadResult, post_load
from .peer import run_peer


def run(seconds: int = 10, connections: int = 32) -> dict[str, Any]:
    def load(url: str, body: str, user: str) -> LoadResult:
        result = post_load(url, body, {"x-user-id": user}, seconds=seconds, connections=connections)
        if result.non_2xx or result.errors:
            raise RuntimeError(f"load against {url} saw failures: {result}")
        return result

    with pinned_backend() as service:
        demo_user = service.demo["users"][0]
        url = f"{service.url}/api/livekit/token"
        free = load(url, "{}", demo_user["userId"])
        assigned = load(
            url, f'{{"assignmentId":"{demo_user["assignmentId"]}"}}', demo_user["userId"]
        )
    with run_peer(AGENT_NAME, "devkey", "secret") as peer_url:
        peer = load(peer_url, "{}", demo_user["userId"])
    return {
        "ours_free_practice": asdict(free),
        "ours_assignment": asdict(assigned),
        "node_peer_free_practice": asdict(peer),
        "ratio_rps_free_practice": free.requests_per_s / peer.requests_per_s,
        "ratio_p99_free_practice": free.p99_ms / peer.p99_ms,
        "connections": connections,
        "seconds": seconds,
    }
