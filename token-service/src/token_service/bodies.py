"""JSON request bodies decoded by the rules the OpenAPI document states, into the handler's `data`
type.

Litestar decodes a body to plain JSON values and then converts them to the handler's `data` type
leniently (msgspec's `strict=False`), which takes the string "5" for the integer 5 and the string
"null" for a missing id: it would accept bodies the document (derived from the same Structs)
refuses. msgspec's strict rules refuse those, but also `5.0` for an integer, which JSON Schema
calls an integer. So `decode_body` reads the JSON with every number that has no fraction as an
integer (`5.0`, `5e0`) and converts it to the type strictly: what the document's schema accepts
and nothing else. StrictRequest, the app's request class, decodes the body of every handler with
`data` this way, and the fast token route decodes its body with the same `decode_body`, so the
two routes of the token endpoint answer every body alike.

A handler whose body may be absent takes `data: T | None = None`: Litestar gives it None for an
empty body; a body that is there must be a T (`null` is not one).
"""

from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.utils.typing import make_non_optional_union


def _number(literal: str) -> int | float:
    """A JSON number with a fraction or an exponent: an integer when it has no fraction."""
    value = float(literal)
    return int(value) if value.is_integer() else value


_decode_json = msgspec.json.Decoder(float_hook=_number).decode


def decode_body(body: bytes, body_type: Any, where: str) -> Any:
    """`body` as a `body_type`, or ValidationException (400 `bad_request`, errors.py) saying why;
    `where` names the request ("POST /path")."""
    try:
        return msgspec.convert(_decode_json(body), body_type, strict=True)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise ValidationException(f"Validation failed for {where}: {exc}") from exc


class StrictRequest(Request[Any, Any, State]):
    """Litestar's request, its JSON body decoded by `decode_body` into the handler's `data` type
    (Litestar calls `json()` only for a body that is not empty)."""

    async def json(self) -> Any:
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is None:
            return await super().json()
        where = f"{self.method} {self.url.path}"
        # A body that is there must have the type without its None.
        present = make_non_optional_union(data.annotation) if data.is_optional else data.annotation
        return decode_body(await self.body(), present, where)
