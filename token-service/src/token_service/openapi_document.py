"""The OpenAPI document as a file: `token-service openapi` writes it beside the TypeScript export
(contracts/export/), for frontends that generate clients without running the service; a test
fails when the committed file is not what the app serves."""

import json
from pathlib import Path
from typing import Any, Final

from training_contracts.export import default_export_dir

from .app import create_app
from .settings import REQUIRED_SETTINGS, Settings

OPENAPI_FILE: Final = "openapi.json"


def default_path() -> Path:
    return default_export_dir() / OPENAPI_FILE


def document() -> str:
    """The app's OpenAPI document as JSON text (keys sorted, so a change reads as a small diff)."""
    # The document depends on no setting; the app needs values to be built (it is not started).
    settings = Settings.model_validate({name.lower(): "unused" for name in REQUIRED_SETTINGS})
    schema: dict[str, Any] = create_app(settings).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document(), encoding="utf-8")
    return path
