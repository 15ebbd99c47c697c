"""Step `finish_script` of the script studio's `script` state machine (logic in reelforge.studio.steps.finish_script_step)."""

from reelforge.studio.steps import finish_script_step
from reelforge.workflow import lambda_step

handler = lambda_step(finish_script_step)
