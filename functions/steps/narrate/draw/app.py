"""Step `draw` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.draw_step)."""

from reelforge.narrate.steps import draw_step
from reelforge.workflow import lambda_step

handler = lambda_step(draw_step)
