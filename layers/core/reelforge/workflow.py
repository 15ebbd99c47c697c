"""What every surface's state machines share: step handlers, starting executions, and
turning a failed step into a message for the user."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from reelforge import aws, jobs, keyseal
from reelforge.errors import ProviderError, ReelforgeError

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


def start_execution(machine_arn: str, job_id: str, payload: dict[str, Any]) -> str:
    """Start the job's execution (named after the job, so a repeated start is a no-op) and
    record its ARN on the job."""
    sfn = aws.client("stepfunctions")
    try:
        arn = sfn.start_execution(stateMachineArn=machine_arn, name=job_id,
                                  input=json.dumps({"job_id": job_id, **payload}))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        return jobs.get(job_id).get("execution_arn", "")
    jobs.set_fields(job_id, {"execution_arn": arn})
    return arn


def unseal_provider_key(sealed: str | None) -> str | None:
    """The plain provider key a step was handed sealed (see keyseal), or None."""
    if not sealed:
        return None
    try:
        return keyseal.unseal(sealed)
    except keyseal.SealError as exc:
        raise ProviderError(str(exc)) from exc


def provider_key(name: str, sealed_key: str | None) -> str | None:
    """The key a step calls its provider with: the request's (handed over sealed), else for
    Gemini the server's GEMINI_API_KEY; None for the local provider or when there is none."""
    key = unseal_provider_key(sealed_key)
    if name == "gemini" and key is None:
        from reelforge.settings import get_settings

        server = get_settings().gemini_api_key
        key = server.get_secret_value() if server else None
    return key


def readable_error(error: dict[str, Any]) -> str:
    """Turn a Catch's {Error, Cause} into a message for the user (no stack traces)."""
    name = error.get("Error") or "Error"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage") or cause
        name = parsed.get("errorType") or name
    except (json.JSONDecodeError, AttributeError, TypeError):
        message = cause
    if name in ("States.Timeout", "States.TaskFailed") and not message:
        return "a step timed out"
    if name in _STORE_ERRORS:  # the table's own words name keys and AWS calls
        return _STORE_ERRORS[name]
    return (message if name in _named_errors() else f"{name}: {message}")[:1000] or name


_STORE_ERRORS = {"NotFound": "something this job works on was deleted while it ran",
                 "ConditionFailed": "the data changed while the job ran; try again"}


def _named_errors() -> set[str]:
    """Our named errors carry messages written for the user; others keep their class name."""
    names, todo = set(), [ReelforgeError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names
