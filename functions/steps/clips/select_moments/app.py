"""Step `select_moments` of the process state machine (logic in reelforge.process.select_moments_step)."""

from reelforge.process import select_moments_step
from reelforge.steps import lambda_step

handler = lambda_step(select_moments_step)
