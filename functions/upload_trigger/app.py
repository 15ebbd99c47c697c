"""S3 ObjectCreated trigger: probe uploaded project assets; start clips jobs whose upload landed;
make presigned AutoVio reference uploads their work's reference."""

from aws_lambda_powertools import Logger, Tracer

# WIRING: the surfaces whose uploads this function handles register their key prefixes
# (and what happens when a project's video is ready) when imported.
from reelforge.clips import service as _clips  # noqa: F401  process-uploads/
from reelforge.editor import service as _editor  # noqa: F401  a project's first video -> timeline
from reelforge.projects import service as _projects  # noqa: F401  uploads/
from reelforge.uploads import handle_s3_event
from reelforge.works import service as _works  # noqa: F401  works-uploads/ (presigned references)

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return {"outcomes": handle_s3_event(event)}
