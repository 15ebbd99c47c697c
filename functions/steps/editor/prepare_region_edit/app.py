"""Step `prepare_region_edit` of the edit/export state machines (logic in reelforge.editing.prepare_region_edit_step)."""

from reelforge.editing import prepare_region_edit_step
from reelforge.steps import lambda_step

handler = lambda_step(prepare_region_edit_step)
