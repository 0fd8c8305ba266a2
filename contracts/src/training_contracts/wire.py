"""The base of every JSON body: one set of msgspec options, so no wire type can drift from the rest."""

import msgspec


class WireStruct(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    """camelCase on the wire, immutable, fields left at their default omitted.

    Subclasses restate `frozen=True, kw_only=True`: msgspec applies `kw_only` only to the fields a
    class itself declares, and type checkers read `frozen` per class.
    """
