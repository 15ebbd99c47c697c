"""Scheduled cleanup: expired jobs and their artifacts, leaked concurrency slots."""

from aws_lambda_powertools import Logger, Tracer

from reelforge.cleanup import run_cleanup

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    report = run_cleanup()
    logger.info("cleanup done", extra=report)
    return report
