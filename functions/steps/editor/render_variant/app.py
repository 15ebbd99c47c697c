"""Step `render_variant` of the edit/export state machines (logic in reelforge.editing.render_variant_step)."""

from reelforge.editing import render_variant_step
from reelforge.steps import lambda_step

handler = lambda_step(render_variant_step)
