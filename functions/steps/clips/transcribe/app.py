"""Step `transcribe` of the clips surface's state machine (logic in reelforge.clips.steps.transcribe_step)."""

from reelforge.clips.steps import transcribe_step
from reelforge.workflow import lambda_step

handler = lambda_step(transcribe_step)
