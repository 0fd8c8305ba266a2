"""The ASGI application `token-service serve` runs, as a factory any ASGI server can load
(`uvicorn --factory token_service.asgi:served_app`); `make bench` compares servers with it."""

from .app import create_app
from .settings import load_settings
from .tokens.fast_route import TokenFastRoute


def served_app() -> TokenFastRoute:
    return TokenFastRoute(create_app(load_settings()))
