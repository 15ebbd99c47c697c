"""Step `compose_export` of the script studio's `media` state machine (logic in reelforge.studio.steps.compose_export_step)."""

from reelforge.studio.steps import compose_export_step
from reelforge.workflow import lambda_step

handler = lambda_step(compose_export_step)
