"""Step `speak` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.speak_step)."""

from reelforge.narrate.steps import speak_step
from reelforge.workflow import lambda_step

handler = lambda_step(speak_step)
