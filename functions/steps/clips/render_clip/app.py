"""Step `render_clip` of the process state machine (logic in reelforge.process.render_clip_step)."""

from reelforge.process import render_clip_step
from reelforge.steps import lambda_step

handler = lambda_step(render_clip_step)
