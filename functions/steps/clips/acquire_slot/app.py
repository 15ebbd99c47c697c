"""Step `acquire_slot` of the clips surface's state machine (logic in reelforge.clips.steps.acquire_slot_step)."""

from reelforge.clips.steps import acquire_slot_step
from reelforge.workflow import lambda_step

handler = lambda_step(acquire_slot_step)
