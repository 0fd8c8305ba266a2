"""docs/configuration.md is what the settings classes say (devstack.settings_doc), so a setting
cannot be added without its meaning, nor the page drift from the code."""

from typing import Annotated

import msgspec
import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.settings_doc import PAGE, page, rows_of


def test_the_committed_page_is_what_the_classes_give() -> None:
    assert PAGE.read_text() == page(), "stale: run python -m devstack.settings_doc"


def test_a_setting_without_a_meaning_stops_the_generator() -> None:
    class Undocumented(BaseSettings):
        model_config = SettingsConfigDict(use_attribute_docstrings=True)

        documented: int = 1
        """Has one."""
        forgotten: int = 2

    with pytest.raises(ValueError, match=r"Undocumented\.forgotten has no description"):
        rows_of(Undocumented)


def test_msgspec_settings_need_a_description_too() -> None:
    class Page(msgspec.Struct, kw_only=True):
        port: Annotated[int, msgspec.Meta(description="Where.")] = 1
        host: str = "h"

    with pytest.raises(ValueError, match=r"Page\.host has no description"):
        rows_of(Page)


def test_rows_say_required_or_the_default_and_the_meaning() -> None:
    class Some(BaseSettings):
        model_config = SettingsConfigDict(use_attribute_docstrings=True)

        url: str
        """The url."""
        port: int | None = Field(default=None)
        """Unset: nowhere."""
        on: bool = False
        """Whether."""

    assert rows_of(Some) == [
        ("URL", "required", "The url."),
        ("PORT", "unset", "Unset: nowhere."),
        ("ON", "`false`", "Whether."),
    ]
