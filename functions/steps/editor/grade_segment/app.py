"""Step `grade_segment` of the edit/export state machines (logic in reelforge.editing.grade_segment_step)."""

from reelforge.editing import grade_segment_step
from reelforge.steps import lambda_step

handler = lambda_step(grade_segment_step)
