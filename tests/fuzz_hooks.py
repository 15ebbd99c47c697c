"""schemathesis hooks for tests/fuzz.py (SCHEMATHESIS_HOOKS).

- A valid Idempotency-Key becomes a fresh one for every request, as a client makes one per
  logical request. Hypothesis draws few distinct short strings, so the same key would come back
  with another body, and the API's right answer (422, api/idempotency.py) would read as a valid
  request refused. Replays are tested in tests/unit/test_idempotency_and_limits.py.
- A valid AI provider key (x-gemini-key, x-api-key) is left out: the server would try it on the
  real provider, which this machine cannot reach (503) and which would refuse a drawn key (502),
  right answers that the server-error check counts as failures. Without one, the route uses the
  local provider. Provider errors are tested against the fake servers (tests/fakes).

An invalid value of either is left as drawn: the fuzzer checks that it is refused (422)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_VALID_PROVIDER_KEY = re.compile(r"[\x20-\x7e]{0,512}")  # deps.key_header
_PROVIDER_KEYS = ("x-gemini-key", "x-api-key")


@schemathesis.hook("map_headers")
def fresh_keys(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    for name in list(headers or {}):
        value = headers[name]
        if not isinstance(value, str):
            continue
        if name.lower() == "idempotency-key" and _VALID_IDEMPOTENCY_KEY.fullmatch(value):
            headers[name] = uuid.uuid4().hex
        elif name.lower() in _PROVIDER_KEYS and _VALID_PROVIDER_KEY.fullmatch(value):
            del headers[name]
    return headers
