"""Step `review` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.review_step)."""

from reelforge.narrate.steps import review_step
from reelforge.workflow import lambda_step

handler = lambda_step(review_step)
