"""Step `mark_failed` of the editor surface's state machines (logic in reelforge.editor.steps.mark_failed_step)."""

from reelforge.editor.steps import mark_failed_step
from reelforge.workflow import lambda_step

handler = lambda_step(mark_failed_step)
