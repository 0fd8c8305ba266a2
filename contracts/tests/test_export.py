import json
import subprocess
import sys
from pathlib import Path

import msgspec
from msgspec import inspect

from training_contracts import export


def test_committed_export_is_current() -> None:
    """Fails when a contract type changed and `make export-contracts` was not run."""
    for name, text in export.render().items():
        committed = export.default_export_dir() / name
        assert committed.read_text(encoding="utf-8") == text, (
            f"{committed} is stale: run make export-contracts"
        )


def test_every_struct_in_the_package_is_exported() -> None:
    import training_contracts

    structs = {
        value
        for value in vars(training_contracts).values()
        if isinstance(value, type) and issubclass(value, msgspec.Struct)
    }
    assert structs == set(export.WIRE_TYPES)


def test_typescript_names_every_field() -> None:
    ts = export.typescript()
    for cls in export.WIRE_TYPES:
        info = inspect.type_info(cls)
        assert isinstance(info, inspect.StructType)
        assert f"export interface {cls.__name__} {{" in ts
        for field in info.fields:
            assert f"  {field.encode_name}" in ts
    assert 'export const ATTR_SESSION_ID = "session.id" as const;' in ts


def test_only_what_the_frontend_sends_allows_null() -> None:
    """The token request's ids may be `null` (the service reads it as left out); what the
    services send leaves an absent id out and never says `null`."""
    ts = export.typescript()
    assert "  assignmentId?: string | null;\n  scenarioId?: string | null;\n}" in ts
    assert "| null;" not in ts.replace(
        "  assignmentId?: string | null;\n  scenarioId?: string | null;\n", ""
    )


def test_schema_is_valid_json_with_every_type() -> None:
    document = json.loads(export.json_schema())
    assert set(document["$defs"]) >= {cls.__name__ for cls in export.WIRE_TYPES} | set(
        export.UNIONS
    )


def test_unions_are_exported_as_their_variants() -> None:
    """The frontend reads a tagged union as one TypeScript union and one schema discriminator."""
    ts = export.typescript()
    assert (
        "export type CreateSessionRequest = AssignmentSessionRequest | FreePracticeSessionRequest;"
        in ts
    )
    union = json.loads(export.json_schema())["$defs"]["CreateSessionRequest"]
    assert union["discriminator"] == {
        "propertyName": "type",
        "mapping": {
            "assignment": "#/$defs/AssignmentSessionRequest",
            "free_practice": "#/$defs/FreePracticeSessionRequest",
        },
    }


def test_cli_writes_both_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "training_contracts", "export", "--out", str(tmp_path)], check=True
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(export.render())
