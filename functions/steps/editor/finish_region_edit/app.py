"""Step `finish_region_edit` of the edit/export state machines (logic in reelforge.editing.finish_region_edit_step)."""

from reelforge.editing import finish_region_edit_step
from reelforge.steps import lambda_step

handler = lambda_step(finish_region_edit_step)
