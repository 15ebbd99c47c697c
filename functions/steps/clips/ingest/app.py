"""Step `ingest` of the clips surface's state machine (logic in reelforge.clips.steps.ingest_step)."""

from reelforge.clips.steps import ingest_step
from reelforge.workflow import lambda_step

handler = lambda_step(ingest_step)
