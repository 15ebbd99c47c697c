"""Sample step events (tests/events/<surface>/<step>.json), as the state machines pass them.

`$name` placeholders stand for what a test creates (ids, S3 keys): `load_event("clips",
"probe", job_id=..., video_key=...)` fills them in and refuses to leave any unfilled.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template
from typing import Any

EVENTS = Path(__file__).parent / "events"


def load_event(surface: str, step: str, **values: Any) -> dict[str, Any]:
    text = (EVENTS / surface / f"{step}.json").read_text()
    filled = Template(text).substitute({k: str(v) for k, v in values.items()})
    left = re.findall(r"\$[a-z_]+", filled)
    assert not left, f"unfilled placeholders {left} in {surface}/{step}.json"
    return json.loads(filled)
