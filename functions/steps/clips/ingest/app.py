"""Step `ingest` of the process state machine (logic in reelforge.process.ingest)."""

from reelforge.process import ingest
from reelforge.steps import lambda_step

handler = lambda_step(ingest)
