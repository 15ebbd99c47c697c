"""Step `mark_edit_failed` of the edit/export state machines (logic in reelforge.editing.mark_edit_failed)."""

from reelforge.editing import mark_edit_failed
from reelforge.steps import lambda_step

handler = lambda_step(mark_edit_failed)
