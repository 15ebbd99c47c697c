"""Step `render_variant` of the editor surface's state machines (logic in reelforge.editor.steps.render_variant_step)."""

from reelforge.editor.steps import render_variant_step
from reelforge.workflow import lambda_step

handler = lambda_step(render_variant_step)
