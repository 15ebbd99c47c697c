"""Step `probe` of the clips surface's state machine (logic in reelforge.clips.steps.probe_step)."""

from reelforge.clips.steps import probe_step
from reelforge.workflow import lambda_step

handler = lambda_step(probe_step)
