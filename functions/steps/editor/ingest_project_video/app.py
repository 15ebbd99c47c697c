"""Step `ingest_project_video` of the edit/export state machines (logic in reelforge.editing.ingest_project_video_step)."""

from reelforge.editing import ingest_project_video_step
from reelforge.steps import lambda_step

handler = lambda_step(ingest_project_video_step)
