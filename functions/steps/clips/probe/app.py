"""Step `probe` of the process state machine (logic in reelforge.process.probe_step)."""

from reelforge.process import probe_step
from reelforge.steps import lambda_step

handler = lambda_step(probe_step)
