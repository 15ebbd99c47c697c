"""schemathesis against the embedded server: the suite's bounded run, and `make fuzz`.

    .venv/bin/python tests/fuzz.py                        # the long run (make fuzz)
    .venv/bin/python tests/fuzz.py --examples 3 --phases examples,fuzzing,stateful  # the suite's

Starts `reelforge serve` on a temporary data directory (`start_server`), registers a user,
and runs `st run` on /api/openapi.json with every check, a fixed seed and the repository's
schemathesis.toml. Prints schemathesis's report and exits with its status. The long run adds
the coverage phase (every boundary of every schema: ~15 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import Server  # noqa: E402

ALL_PHASES = "examples,coverage,fuzzing,stateful"


def start_server(tmp: Path) -> Server:
    """A server for the fuzzer: one job at a time (the fuzzer starts real ones, which share the
    two cores with the API), AutoVio's synchronous routes answer 202 after 2 s, and no limit on
    job submissions (the fuzzer is one user sending hundreds; a 429 would fail its checks that
    valid data is accepted; tests/unit/test_idempotency_and_limits.py tests the limit)."""
    return Server(tmp / "data", tmp).start("--parameter", "MaxConcurrentJobs=1",
                                           "--parameter", "JobSubmissionsPerMinute=0",
                                           env={"WORKS_SYNC_WAIT_S": "2"})


def fuzz(url: str, token: str, *, examples: int, seed: int, phases: str = ALL_PHASES,
         workers: int = 2, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """One `st run` against the server at `url` as the user of `token`."""
    st = Path(sys.executable).parent / "st"
    command = [
        str(st), "--config-file", str(ROOT / "schemathesis.toml"), "--no-color", "run",
        f"{url}/api/openapi.json", "--checks", "all", "--phases", phases,
        "--max-examples", str(examples), "--seed", str(seed), "--workers", str(workers),
        "--request-timeout", "60", "--suppress-health-check", "all",
        "--generation-database", "none",  # the same cases here as on a fresh clone (CI)
        "-H", f"Authorization: Bearer {token}",
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(ROOT / "tests" / "fuzz_hooks.py")}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="test cases per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default=ALL_PHASES)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelforge-fuzz-") as tmp:
        server = start_server(Path(tmp))
        try:
            done = fuzz(server.url, server.register("fuzz"), examples=args.examples, seed=args.seed,
                        phases=args.phases, workers=args.workers)
            print(done.stdout + done.stderr)
        finally:
            server.stop()
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
