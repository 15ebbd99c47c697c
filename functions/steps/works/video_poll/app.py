"""Step `video_poll` of the AutoVio `works` state machine (logic in reelforge.works.steps.video_poll_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import video_poll_step

handler = lambda_step(video_poll_step)
