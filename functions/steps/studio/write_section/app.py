"""Step `write_section` of the script studio's `script` state machine (logic in reelforge.studio.steps.write_section_step)."""

from reelforge.studio.steps import write_section_step
from reelforge.workflow import lambda_step

handler = lambda_step(write_section_step)
