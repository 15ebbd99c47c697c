"""Step `render_sentence` of the script studio's `media` state machine (logic in reelforge.studio.steps.render_sentence_step)."""

from reelforge.studio.steps import render_sentence_step
from reelforge.workflow import lambda_step

handler = lambda_step(render_sentence_step)
