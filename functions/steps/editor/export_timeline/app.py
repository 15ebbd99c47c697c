"""Step `export_timeline` of the editor surface's state machines (logic in reelforge.editor.steps.export_timeline_step)."""

from reelforge.editor.steps import export_timeline_step
from reelforge.workflow import lambda_step

handler = lambda_step(export_timeline_step)
