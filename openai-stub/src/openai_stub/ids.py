"""Identifiers shaped like OpenAI's (`item_…`, `resp_…`, `event_…`)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 20, *, sep: str = "_") -> str:
    """`prefix` + `sep` + `length` random letters and digits, e.g. `item_Ck3…`."""
    return prefix + sep + "".join(secrets.choice(_ALPHABET) for _ in range(length))
