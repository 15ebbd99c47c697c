"""Field types shared by the request schemas of every surface."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AllowInfNan,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    HttpUrl,
    Strict,
    StringConstraints,
)
from pydantic_core import PydanticUseDefault, core_schema

# For names users give things (projects, accounts, tokens): printable text only, and (since
# the name is stripped first) at least one character that is not a space.
PRINTABLE_NAME = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
# For other stripped texts that must keep something: the document says so, or a schema-valid
# "\t" would be refused after the strip.
NOT_BLANK = r"\S"


def _blank_is_absent(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticUseDefault()
    return value


# A blank string, as the JSON schema of a field that takes one to mean "left out".
BLANK_SCHEMA = {"type": "string", "pattern": r"^\s*$", "description": "blank: the field is left out"}


class _BlankIsAbsent:
    """A form-based client sends "" for an optional field it leaves empty (seed 000's front
    end does); that means "absent" (the field's default, None for an optional one), not
    "invalid". The OpenAPI says so too: the field's schema, or a blank string.
    Put it on every optional field of a seed body."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_before_validator_function(_blank_is_absent, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {"anyOf": [handler(schema), BLANK_SCHEMA]}


BlankIsAbsent = _BlankIsAbsent()


class Listed:
    """`Annotated[str, Listed(names)]`: the OpenAPI lists the names a field takes, where its
    validator checks them (and words the refusal better than an enum error would)."""

    def __init__(self, names: Any) -> None:
        self.names = list(names)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "enum": self.names}


OptionalStr = Annotated[str | None, BlankIsAbsent]
OptionalUrl = Annotated[HttpUrl | None, BlankIsAbsent]

# Seconds and pixels: a JSON number, finite; not a bool or a numeric string.
Number = Annotated[float, Strict(), AllowInfNan(False)]


def _whole_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A JSON true or false; not 1, "yes" or "true".
Flag = Annotated[bool, Strict()]

# Counts and indexes: a JSON integer. 3.0 is one too (JSON Schema's `integer` says so, and
# JavaScript clients cannot tell 3 from 3.0); 3.5, true and "3" are not.
Integer = Annotated[int, BeforeValidator(_whole_number), Strict()]


def name_field(max_length: int) -> Any:
    """A display name: surrounding whitespace dropped before the length check (so "   " is
    refused), no control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=max_length, pattern=PRINTABLE_NAME)]
