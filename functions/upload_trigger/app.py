"""S3 ObjectCreated trigger: probe uploaded assets; start the clips pipeline for process uploads."""

from aws_lambda_powertools import Logger, Tracer

from reelforge.uploads import handle_s3_event

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return {"outcomes": handle_s3_event(event)}
