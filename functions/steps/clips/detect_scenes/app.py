"""Step `detect_scenes` of the process state machine (logic in reelforge.process.detect_scenes_step)."""

from reelforge.process import detect_scenes_step
from reelforge.steps import lambda_step

handler = lambda_step(detect_scenes_step)
