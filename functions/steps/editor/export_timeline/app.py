"""Step `export_timeline` of the edit/export state machines (logic in reelforge.editing.export_step)."""

from reelforge.editing import export_step
from reelforge.steps import lambda_step

handler = lambda_step(export_step)
