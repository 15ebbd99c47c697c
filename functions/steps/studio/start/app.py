"""Step `start` of the script studio's `script` state machine (logic in reelforge.studio.steps.start_step)."""

from reelforge.studio.steps import start_step
from reelforge.workflow import lambda_step

handler = lambda_step(start_step)
