"""Wrap a step function (dict -> dict) as a Lambda handler with powertools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()

StepFn = Callable[[dict[str, Any]], dict[str, Any]]


def lambda_step(step: StepFn) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler for `step`: logging context, tracing, one call.

    Errors propagate unchanged: their class name is the `errorType` that the state
    machine's Retry/Catch match.
    """

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(job_id=event.get("job_id"), step=step.__name__)
        return step(event)

    handler.__name__ = f"{step.__name__}_handler"
    return handler
