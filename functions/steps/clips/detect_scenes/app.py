"""Step `detect_scenes` of the clips surface's state machine (logic in reelforge.clips.steps.detect_scenes_step)."""

from reelforge.clips.steps import detect_scenes_step
from reelforge.workflow import lambda_step

handler = lambda_step(detect_scenes_step)
