"""API Lambda: the FastAPI app behind API Gateway's HTTP API, via Mangum."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from mangum import Mangum

from reelforge.api import create_app

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_app()
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    metrics.add_metric(name="ApiRequest", unit=MetricUnit.Count, value=1)
    return _asgi(event, context)
