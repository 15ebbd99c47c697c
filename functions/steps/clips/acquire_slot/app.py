"""Step `acquire_slot` of the process state machine (logic in reelforge.process.acquire_slot)."""

from reelforge.process import acquire_slot
from reelforge.steps import lambda_step

handler = lambda_step(acquire_slot)
