"""The ASGI application `token-service serve` runs, as a factory any ASGI server can load
(`uvicorn --factory token_service.asgi:served_app`); `make bench` compares servers with it."""

from .app import create_app
from .metrics import RequestMetrics, ServiceMetrics
from .settings import load_settings
from .tokens.fast_route import TokenFastRoute


def served_app() -> RequestMetrics:
    """Every request is counted and timed (metrics.py), the fast token route included."""
    metrics = ServiceMetrics()
    return RequestMetrics(TokenFastRoute(create_app(load_settings(), metrics)), metrics)
