"""Step `mark_failed` of the process state machine (logic in reelforge.process.mark_failed)."""

from reelforge.process import mark_failed
from reelforge.steps import lambda_step

handler = lambda_step(mark_failed)
