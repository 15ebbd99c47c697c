"""Step `render_slide` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.render_slide_step)."""

from reelforge.narrate.steps import render_slide_step
from reelforge.workflow import lambda_step

handler = lambda_step(render_slide_step)
