"""Step `video_start` of the AutoVio `works` state machine (logic in reelforge.works.steps.video_start_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import video_start_step

handler = lambda_step(video_start_step)
