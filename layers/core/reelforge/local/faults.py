"""Faults injected into the embedded AWS's Lambda invocations: how the reliability tests make
a step fail the ways the cloud can, with the real state machines handling it.

`REELFORGE_FAULTS="ClipsRenderClipFunction=transient,ClipsPublishFunction=killed:2"` fails
the first invocation (or the first N) of those functions:

- transient: the handler runs (its writes are made), then the invocation reports
  TransientError, as when a dependency throttles as the step ends; the Retry runs it again.
- killed: the handler runs, then the invocation reports Lambda.Unknown, which is what Step
  Functions sees of a Lambda killed for time or memory before it answered; retried once.
- permanent: the invocation fails with InjectedFault before the handler runs; nothing
  retries that, and the machine's Catch marks the job failed.

Only the embedded runtime reads it: in a deployment the cloud brings its own faults.
"""

from __future__ import annotations

import os
import threading

KINDS = {"transient": "TransientError", "killed": "Lambda.Unknown", "permanent": "InjectedFault"}


class Faults:
    def __init__(self, spec: str | None = None) -> None:
        spec = os.environ.get("REELFORGE_FAULTS", "") if spec is None else spec
        self._left: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()
        for rule in filter(None, (r.strip() for r in spec.split(","))):
            function, _, fault = rule.partition("=")
            kind, _, times = fault.partition(":")
            if kind not in KINDS or not function or not (times or "1").isdecimal():
                raise ValueError(f"REELFORGE_FAULTS: {rule!r} is not Function=transient|killed|permanent[:N]")
            self._left[function] = (kind, int(times or 1))

    def take(self, logical_id: str) -> str | None:
        """The fault this invocation of the function gets, if any (and one fewer left)."""
        with self._lock:
            kind, times = self._left.get(logical_id, ("", 0))
            if times == 0:
                return None
            self._left[logical_id] = (kind, times - 1)
            return kind

    @staticmethod
    def error_type(kind: str) -> str:
        return KINDS[kind]
