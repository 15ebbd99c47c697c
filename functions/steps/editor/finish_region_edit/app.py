"""Step `finish_region_edit` of the editor surface's state machines (logic in reelforge.editor.steps.finish_region_edit_step)."""

from reelforge.editor.steps import finish_region_edit_step
from reelforge.workflow import lambda_step

handler = lambda_step(finish_region_edit_step)
