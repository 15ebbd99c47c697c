"""Step `script_failed` of the script studio's `script` state machine (logic in reelforge.studio.steps.script_failed_step)."""

from reelforge.studio.steps import script_failed_step
from reelforge.workflow import lambda_step

handler = lambda_step(script_failed_step)
