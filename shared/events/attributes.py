"""The CloudEvents context attributes the public doors take beyond our own (design.md section 3):
`datacontenttype` with media-type parameters, and extension attributes.

Each rule is one regular expression written in the common subset of Python's and ECMA-262's
syntax, so the JSON Schemas in docs/schemas state exactly what the services check.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _any_case(word: str) -> str:
    """`json` -> `[Jj][Ss][Oo][Nn]`: JSON Schema patterns have no case-insensitive flag."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)  # only "/" and "-" else


_TOKEN: Final = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"  # RFC 9110 token
_JSON_TYPE: Final = (rf"(?:{_any_case('application/')}(?:{_TOKEN}\+)?{_any_case('json')}"
                     rf"|{_any_case('text/json')})")
_UTF8: Final = _any_case("utf-8")
_CHARSET: Final = rf'{_any_case("charset")}=(?:{_UTF8}|"{_UTF8}")'
_OTHER_PARAMETER: Final = rf'(?!{_any_case("charset")}=){_TOKEN}=(?:{_TOKEN}|"[^"\\]*")'

#: A JSON media type (application/json, application/<x>+json, text/json), any case, with optional
#: parameters of which `charset` may only be utf-8 (RFC 8259: JSON exchanged between systems is UTF-8).
JSON_MEDIA_TYPE_PATTERN: Final = rf"^{_JSON_TYPE}(?:[ \t]*;[ \t]*(?:{_CHARSET}|{_OTHER_PARAMETER}))*[ \t]*$"
_JSON_MEDIA_TYPE: Final = re.compile(JSON_MEDIA_TYPE_PATTERN)
JSON_MEDIA_TYPE_RULE: Final = "must be a JSON media type (application/json), with no charset other than utf-8"


def is_json_media_type(value: str) -> bool:
    return value == "application/json" or _JSON_MEDIA_TYPE.fullmatch(value) is not None


def _json_media_type(value: str) -> str:
    if not is_json_media_type(value):
        raise ValueError(JSON_MEDIA_TYPE_RULE)
    return value


#: `datacontenttype`: absent means application/json (CloudEvents: the data is JSON when unsaid).
JsonMediaType = Annotated[str, Field(max_length=256, json_schema_extra={"pattern": JSON_MEDIA_TYPE_PATTERN}),
                          AfterValidator(_json_media_type)]

#: CloudEvents attribute names: lower-case ASCII letters and digits. The spec recommends at most 20
#: characters; longer names are still valid CloudEvents, so the bound here is only a sanity limit.
ATTRIBUTE_NAME_PATTERN: Final = r"^[a-z0-9]{1,64}$"
_ATTRIBUTE_NAME: Final = re.compile(ATTRIBUTE_NAME_PATTERN)
ATTRIBUTE_NAME_RULE: Final = "is not a CloudEvents attribute name (lower-case letters a-z and digits only)"

#: The CloudEvents String type: no control characters (U+0000-U+001F, U+007F-U+009F).
_ExtensionString = Annotated[str, Field(max_length=2048, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")]
#: The CloudEvents Integer type: 32-bit signed.
_ExtensionInteger = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
#: An extension attribute's value as the JSON event format carries it (null: the attribute is absent).
ExtensionValue = _ExtensionString | _ExtensionInteger | bool | None
EXTENSION_VALUE_RULE: Final = ("an extension attribute is a string (no control characters, at most 2048), "
                               "a 32-bit integer or a boolean")


def valid_attribute_name(name: str) -> bool:
    return _ATTRIBUTE_NAME.fullmatch(name) is not None


class InvalidAttributeName(ValueError):
    """An extension attribute whose name CloudEvents does not allow; `name` says which."""

    def __init__(self, name: str) -> None:
        super().__init__(f"attribute {printable(name)} {ATTRIBUTE_NAME_RULE}")
        self.name = name


class Extensions(BaseModel):
    """Mixin: every valid extension attribute is accepted and kept in `model_extra`; the ones
    sellerflow uses (traceparent, tracestate) are read from there, the rest are ignored."""

    model_config = ConfigDict(frozen=True, extra="allow",
                              json_schema_extra={"propertyNames": {"pattern": ATTRIBUTE_NAME_PATTERN}})
    __pydantic_extra__: dict[str, ExtensionValue] = Field(init=False)

    @model_validator(mode="after")
    def _extension_names_are_valid(self) -> Self:
        for name in self.__pydantic_extra__ or ():
            if not valid_attribute_name(name):
                raise InvalidAttributeName(name)
        return self


def trace_context(extensions: dict[str, Any] | None) -> dict[str, str]:
    """The W3C trace context carried as CloudEvents attributes (the distributed tracing extension)."""
    if not extensions:
        return {}
    return {k: v for k in ("traceparent", "tracestate") if isinstance(v := extensions.get(k), str)}


def printable(name: str) -> str:
    """A name for a reason: back-quoted, unprintable characters as `?`, at most 64 characters."""
    return "`" + "".join(c if c.isprintable() else "?" for c in name[:64]) + "`"
