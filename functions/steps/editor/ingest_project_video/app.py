"""Step `ingest_project_video` of the editor surface's state machines (logic in reelforge.editor.steps.ingest_project_video_step)."""

from reelforge.editor.steps import ingest_project_video_step
from reelforge.workflow import lambda_step

handler = lambda_step(ingest_project_video_step)
