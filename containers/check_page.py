"""The trainee page as compose serves it, checked from this host as a browser loads it.

`python containers/check_page.py --page URL --token-service URL --demo-user-id UUID...` checks:
GET / answers the built page and every script and stylesheet it names answers 200; GET
/config.json is the contract's PageConfig with the token service URL given (the one browsers are
to use: its readiness answers 200 there, and it allows the page's origin for a token request),
the demo users given, and host candidates only (`iceServers: []`). Exit status 1 on any miss.
"""

from __future__ import annotations

import argparse
import re
import sys
from uuid import UUID

import httpx
import msgspec

from training_contracts import PAGE_CONFIG_PATH, READY_PATH, TOKEN_PATH, PageConfig

PAGE_ORIGIN = "http://localhost:3003"
"""The page's origin in a browser on this host: the token service's default allowed origin."""
ASSET = re.compile(r'(?:src|href)="(/assets/[^"]+)"')


class PageFailed(Exception):
    pass


def get(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    if response.status_code != 200:
        raise PageFailed(f"GET {url}: {response.status_code}")
    return response


def check_page(client: httpx.Client, page: str) -> list[str]:
    """The page and its assets; returns the assets' paths."""
    index = get(client, f"{page}/").text
    assets = ASSET.findall(index)
    if '<div id="root">' not in index or not any(path.endswith(".js") for path in assets):
        raise PageFailed(f"GET {page}/ is not the built page: {index[:300]!r}")
    for path in assets:
        get(client, f"{page}{path}")
    return assets


def check_config(client: httpx.Client, page: str, token_service: str, demo: list[UUID]) -> None:
    response = get(client, f"{page}{PAGE_CONFIG_PATH}")
    config = msgspec.json.decode(response.content, type=PageConfig)
    if config.token_service_url != token_service:
        raise PageFailed(f"tokenServiceUrl is {config.token_service_url}, not {token_service}")
    if sorted(config.demo_user_ids) != sorted(demo):
        raise PageFailed(f"demoUserIds are {config.demo_user_ids}, seed-demo inserted {demo}")
    if config.ice_servers != []:
        raise PageFailed(f"iceServers are {config.ice_servers}, not [] (host candidates)")
    get(client, f"{config.token_service_url}{READY_PATH}")
    preflight = client.options(
        f"{config.token_service_url}{TOKEN_PATH}",
        headers={"origin": PAGE_ORIGIN, "access-control-request-method": "POST"},
    )
    allowed = preflight.headers.get("access-control-allow-origin")
    if preflight.status_code >= 400 or allowed not in (PAGE_ORIGIN, "*"):
        raise PageFailed(
            f"the token service refuses the page's origin {PAGE_ORIGIN}: "
            f"{preflight.status_code}, access-control-allow-origin {allowed}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", required=True, help="its base URL, e.g. http://127.0.0.1:3003")
    parser.add_argument("--token-service", required=True, help="the URL the config must name")
    parser.add_argument("--demo-user-id", type=UUID, action="append", default=[])
    args = parser.parse_args()
    try:
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            assets = check_page(client, args.page)
            print(f"  page: GET / and its {len(assets)} assets answer 200")
            check_config(client, args.page, args.token_service, args.demo_user_id)
            print(
                f"  {PAGE_CONFIG_PATH}: tokenServiceUrl {args.token_service} (ready, allows "
                f"{PAGE_ORIGIN}), {len(args.demo_user_id)} demo users, iceServers []"
            )
    except (PageFailed, httpx.HTTPError, msgspec.DecodeError) as exc:
        print(f"page FAILED: {exc}", file=sys.stderr)
        return 1
    print("page: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
