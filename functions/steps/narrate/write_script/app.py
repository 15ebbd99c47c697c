"""Step `write_script` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.write_script_step)."""

from reelforge.narrate.steps import write_script_step
from reelforge.workflow import lambda_step

handler = lambda_step(write_script_step)
