"""Step `write_short` of the script studio's `script` state machine (logic in reelforge.studio.steps.write_short_step)."""

from reelforge.studio.steps import write_short_step
from reelforge.workflow import lambda_step

handler = lambda_step(write_short_step)
