"""Step `render_clip` of the clips surface's state machine (logic in reelforge.clips.steps.render_clip_step)."""

from reelforge.clips.steps import render_clip_step
from reelforge.workflow import lambda_step

handler = lambda_step(render_clip_step)
