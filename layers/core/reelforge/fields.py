"""Field types shared by the request schemas of every surface."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AllowInfNan, BeforeValidator, HttpUrl, Strict, StringConstraints
from pydantic_core import PydanticUseDefault

# For names users give things (projects, accounts, tokens): printable text only.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


def _blank_is_absent(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticUseDefault()
    return value


# A form-based client sends "" for an optional field it leaves empty (seed 000's front end
# does); that means "absent" (the field's default, None for an optional one), not "invalid".
# Put it on every optional field of a seed body.
BlankIsAbsent = BeforeValidator(_blank_is_absent)
OptionalStr = Annotated[str | None, BlankIsAbsent]
OptionalUrl = Annotated[HttpUrl | None, BlankIsAbsent]

# Seconds and pixels: a JSON number, finite; not a bool or a numeric string.
Number = Annotated[float, Strict(), AllowInfNan(False)]


def name_field(max_length: int) -> Any:
    """A display name: surrounding whitespace dropped before the length check (so "   " is
    refused), no control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=max_length, pattern=NO_CONTROL_CHARACTERS)]
