"""One line for settings a program cannot start with, the same in every program."""

import pytest

from training_contracts import (
    read_settings,
    settings_error,
    settings_help,
    validation_settings_error,
)


def test_missing_then_invalid_in_one_line() -> None:
    error = settings_error(["A_URL", "B_KEY"], [("PORT", "too large"), ("MODE", "one of x, y")])
    assert str(error) == (
        "missing required settings: A_URL, B_KEY; invalid settings: PORT (too large), "
        "MODE (one of x, y)"
    )
    assert str(settings_error([], [("PORT", "bad")])) == "invalid settings: PORT (bad)"


def test_pydantic_errors_name_an_empty_required_variable_as_missing() -> None:
    errors = [
        {"loc": ("b_key",), "type": "missing", "msg": "Field required"},
        {"loc": ("a_url",), "type": "string_too_short", "msg": "String should have..."},
        {"loc": ("name",), "type": "string_too_short", "msg": "String should have\nat least 3"},
    ]
    error = validation_settings_error(errors, required=("A_URL", "B_KEY"))
    assert str(error) == (
        "missing required settings: A_URL, B_KEY; invalid settings: NAME (String should have at"
        " least 3)"
    )


def test_help_lists_the_names_wrapped() -> None:
    text = settings_help(["A"], [f"OPTIONAL_{i}" for i in range(20)])
    assert text.startswith("Required environment: A. Optional: OPTIONAL_0, OPTIONAL_1,")
    assert all(len(line) <= 100 for line in text.splitlines())


def test_a_value_error_that_is_not_a_validation_error_passes_through() -> None:
    class Broken:
        def __init__(self) -> None:
            raise ValueError("not a settings problem")

    with pytest.raises(ValueError, match="not a settings problem"):
        read_settings(Broken)
