"""Step `grade_segment` of the editor surface's state machines (logic in reelforge.editor.steps.grade_segment_step)."""

from reelforge.editor.steps import grade_segment_step
from reelforge.workflow import lambda_step

handler = lambda_step(grade_segment_step)
