"""Step `prepare_region_edit` of the editor surface's state machines (logic in reelforge.editor.steps.prepare_region_edit_step)."""

from reelforge.editor.steps import prepare_region_edit_step
from reelforge.workflow import lambda_step

handler = lambda_step(prepare_region_edit_step)
