"""Step `select_moments` of the clips surface's state machine (logic in reelforge.clips.steps.select_moments_step)."""

from reelforge.clips.steps import select_moments_step
from reelforge.workflow import lambda_step

handler = lambda_step(select_moments_step)
