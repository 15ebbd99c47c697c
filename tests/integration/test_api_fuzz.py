"""The API against its own OpenAPI: schemathesis, every operation, every check, every phase.

A bounded run (fixed seed, a few examples per operation, no coverage phase) on a server of
its own (tests/fuzz.py); `make fuzz` runs the long one. Any failure fails the test with
schemathesis's report, which says how to reproduce each one (`st replay`, a curl line).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fuzz import fuzz, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLES = 3
SEED = 7
PHASES = "examples,fuzzing,stateful"  # `make fuzz` adds the coverage phase


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        done = fuzz(server.url, server.register("fuzz"), examples=EXAMPLES, seed=SEED,
                    phases=PHASES, timeout=900)
    finally:
        server.stop()
    report = done.stdout + done.stderr
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 140, report  # every operation was reached
    assert done.returncode == 0, report
