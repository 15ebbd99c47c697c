"""Step `publish` of the process state machine (logic in reelforge.process.publish)."""

from reelforge.process import publish
from reelforge.steps import lambda_step

handler = lambda_step(publish)
