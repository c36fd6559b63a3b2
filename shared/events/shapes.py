"""What a value may look like as JSON text, stated once for the validators and the JSON Schemas.

Each pattern here is both checked by the services and published in `docs/schemas/`, so a document
valid against its schema is not refused for its shape, and the other way round (design.md section 3).
The patterns are anchored, bounded and written for ECMA-262 and Python alike (no lookaround).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BeforeValidator, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

#: The static range of every business time from outside: [EARLIEST, LATEST_EXCLUSIVE).
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_EXCLUSIVE: Final = datetime(2100, 1, 1, tzinfo=UTC)

UUID_PATTERN: Final = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
#: A non-negative decimal string with at most 12 integer digits and 2 decimal places: "19.99".
AMOUNT_PATTERN: Final = r"^(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?$"


def _time_pattern() -> str:
    """RFC 3339 date-times from 2000-01-01T00:00Z to 2099-12-31T23:59:59.999999999Z, valid dates only.

    The first and the last day take only offsets that keep the instant inside the range (on
    2000-01-01 none ahead of UTC, on 2099-12-31 none behind), so the pattern alone decides.
    """
    day28 = "(?:0[1-9]|1[0-9]|2[0-8])"
    long_days = "(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31"  # 29th, 30th, 31st where they exist
    month_day = f"(?:(?:0[1-9]|1[0-2])-{day28}|{long_days})"
    not_jan_1 = f"(?:01-(?:0[2-9]|1[0-9]|2[0-8])|(?:0[2-9]|1[0-2])-{day28}|{long_days})"
    not_dec_31 = f"(?:(?:0[1-9]|1[0-2])-{day28}|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|10)-31)"
    leap_day = "20(?:0[048]|[2468][048]|[13579][26])-02-29"  # every 4th year: 2000 is one, 2100 is out
    inner_years = f"20(?:0[1-9]|[1-8][0-9]|9[0-8])-{month_day}"
    clock = "[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?"
    offset = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
    any_offset = f"(?:[Zz]|[+-]{offset})"
    dates = f"(?:{inner_years}|{leap_day}|2000-{not_jan_1}|2099-{not_dec_31})"
    first_day = f"2000-01-01{clock}(?:[Zz]|[+-]00:00|-{offset})"
    last_day = f"2099-12-31{clock}(?:[Zz]|[+-]00:00|\\+{offset})"
    return f"^(?:{dates}{clock}{any_offset}|{first_day}|{last_day})$"


TIME_PATTERN: Final = _time_pattern()

_CONTROLS: Final = r"\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and newline, DEL, C1
_BLANKS: Final = r"\x00-\x20\x7f-\x9f"  # the same, plus tab, newline and space
_SURROGATES: Final = r"\ud800-\udfff"


def clean_text_pattern(*, blank: bool, surrogates: bool = False) -> str:
    """Text without NUL, lone surrogates or control characters other than tab and newline; unless
    `blank`, with at least one character that is not a space, tab or newline.

    `surrogates` adds the surrogate range for the JSON Schema (Python and ECMA-262 with the `u`
    flag read it as lone surrogates); pydantic-core's Rust regex cannot name them and needs not.
    """
    extra = _SURROGATES if surrogates else ""
    if blank:
        return f"^[^{_CONTROLS}{extra}]*$"
    return f"^[ \\t\\n]*[^{_BLANKS}{extra}][^{_CONTROLS}{extra}]*$"


@dataclass(frozen=True)
class JsonPattern:
    """Annotation: the JSON Schema states `pattern` (for types pydantic gives none, or a Rust-safe one)."""

    pattern: str

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        return {**json_schema, "pattern": self.pattern}


def matching(
    pattern: str, what: str, *, max_length: int, parse: Callable[[str], Any],
    explain: Callable[[str], str | None] = lambda text: None,
) -> Any:
    """A before-validator: text must match `pattern`, then `parse` turns it into the value; in JSON,
    text is the only form (no numbers for amounts, no timestamps for times). Python objects pass on.
    `explain` may name what is wrong with a text that does not match, better than `what` does."""
    compiled = re.compile(pattern)

    def check(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            if len(value) > max_length or not compiled.fullmatch(value):
                raise ValueError(explain(value[:max_length + 1]) or f"must be {what}")
            return parse(value)
        if info.mode == "json":
            raise ValueError(f"must be a string: {what}")
        return value

    return BeforeValidator(check)


def _whole(value: Any) -> Any:
    # JSON Schema's `integer` is any number with a zero fraction: 3.0 is 3.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: A before-validator for int fields: a float with a zero fraction counts as that integer.
whole_number: Final = BeforeValidator(_whole)
