"""Step `transcribe` of the process state machine (logic in reelforge.process.transcribe_step)."""

from reelforge.process import transcribe_step
from reelforge.steps import lambda_step

handler = lambda_step(transcribe_step)
