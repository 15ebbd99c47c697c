"""WebSocket Lambda: the $connect, $disconnect and $default routes of the API Gateway WebSocket API."""

from aws_lambda_powertools import Logger, Tracer

from reelforge.realtime import lambda_route

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return lambda_route(event)
