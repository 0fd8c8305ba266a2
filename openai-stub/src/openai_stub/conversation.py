"""The conversation's items: `conversation.item.create`, `.delete` and `.truncate`.

Each handler checks the client event against the items a connection holds, changes them, and
returns the server event to send; a refused event raises `ClientEventError` before any change.
"""

from __future__ import annotations

from typing import Any

from . import events
from .events import ClientEventError, Event
from .ids import new_id

Items = list[dict[str, Any]]


def last_item_id(items: Items) -> str | None:
    return items[-1]["id"] if items else None


def find_item(items: Items, item_id: object) -> int | None:
    for index, item in enumerate(items):
        if item.get("id") == item_id:
            return index
    return None


def create_item(items: Items, event: dict[str, Any]) -> Event:
    item = event.get("item")
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise ClientEventError(
            "conversation.item.create needs an item with a type",
            code="missing_required_parameter",
        )
    item_id = item.get("id") or new_id("item")
    if find_item(items, item_id) is not None:
        raise ClientEventError(
            f"Item with id '{item_id}' already exists.", code="item_create_duplicate_item_id"
        )
    stored = {**item, "id": item_id, "object": "realtime.item", "status": "completed"}
    previous = event.get("previous_item_id")
    if previous == "root":
        index, previous_id = 0, None
    elif previous is None:
        index, previous_id = len(items), last_item_id(items)
    else:
        found = find_item(items, previous)
        if found is None:
            raise ClientEventError(
                f"Previous item with id '{previous}' does not exist.",
                code="item_create_invalid_previous_item_id",
            )
        index, previous_id = found + 1, previous
    items.insert(index, stored)
    return events.conversation_item_added(previous_id, stored)


def delete_item(items: Items, event: dict[str, Any]) -> Event:
    item_id = event.get("item_id")
    index = find_item(items, item_id)
    if index is None or not isinstance(item_id, str):
        raise ClientEventError(
            f"Item with item_id '{item_id}' not found.", code="item_delete_invalid_item_id"
        )
    del items[index]
    return events.conversation_item_deleted(item_id)


def truncate_item(items: Items, event: dict[str, Any]) -> Event:
    item_id = event.get("item_id")
    index = find_item(items, item_id)
    audio_end_ms = event.get("audio_end_ms")
    content_index = event.get("content_index", 0)
    if index is None or not isinstance(item_id, str):
        raise ClientEventError(
            f"Item with item_id '{item_id}' not found.", code="item_truncate_invalid_item_id"
        )
    if not isinstance(audio_end_ms, int) or audio_end_ms < 0:
        raise ClientEventError("audio_end_ms must be a non-negative integer", code="invalid_value")
    items[index]["truncated_audio_end_ms"] = audio_end_ms
    return events.conversation_item_truncated(
        item_id, content_index if isinstance(content_index, int) else 0, audio_end_ms
    )
