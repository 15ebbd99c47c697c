"""schemathesis hooks for tests/fuzz.py (SCHEMATHESIS_HOOKS): a valid Idempotency-Key becomes a
fresh one for every request, as a client makes one per logical request. Hypothesis draws few
distinct short strings, so the same key would come back with another body, and the API's
right answer (422, api/idempotency.py) would read as a valid request refused. An invalid key
is left as drawn: the fuzzer checks that it is refused. Replays are tested in
tests/unit/test_idempotency_and_limits.py."""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID = re.compile(r"[\x21-\x7e]{1,255}")


@schemathesis.hook("map_headers")
def fresh_idempotency_key(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    for name in list(headers or {}):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and _VALID.fullmatch(headers[name]):
            headers[name] = uuid.uuid4().hex
    return headers
