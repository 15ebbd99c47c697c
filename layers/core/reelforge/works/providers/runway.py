"""Runway for a work's video role, through the shared ``RunwayClient``: ``start`` submits an
image-to-video task at the model's ratio nearest the scene's size and the shortest length
that covers the scene, the scene's picture inline (as JPEG when a PNG would pass Runway's
5 MB data-URI limit); ``poll`` is one look at the task. A finished task's ``video_url`` is
Runway's short-lived URL: the works step downloads it.
"""

from __future__ import annotations

from pathlib import Path

from reelforge.ai.runway_client import MAX_DATA_URI, RunwayClient
from reelforge.ai.vendor import TaskState
from reelforge.works.providers.base import Call, VideoJob, VideoStart
from reelforge.works.providers.prompts import video_prompt
from reelforge.works.providers.stills import jpeg_within, nearest_shape

# The output resolutions each model makes (Runway's "ratio"), and its clip lengths.
RATIOS = {"gen4_turbo": ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"),
          "gen3a_turbo": ("1280:768", "768:1280")}
SECONDS = (5, 10)
PROMPT_LIMIT = 1000  # promptText's maximum length
MAX_IMAGE_BYTES = MAX_DATA_URI * 3 // 4 - 64  # base64 is 4/3 as long, plus the data URI's head


def videos(call: Call) -> RunwayVideos:
    return RunwayVideos(call)


class RunwayVideos:
    def __init__(self, call: Call) -> None:
        self.model = call.model
        self.client = RunwayClient(call.api_key or "", model=call.model, base_url=call.base_url)

    def start(self, job: VideoJob, workdir: Path) -> VideoStart:
        seconds = next((s for s in SECONDS if s >= job.duration_s - 1e-6), SECONDS[-1])
        ratio = nearest_shape(job.size, RATIOS.get(self.model, RATIOS["gen4_turbo"]))
        image = jpeg_within(job.image, MAX_IMAGE_BYTES)
        task = self.client.start_image_to_video(image, video_prompt(job, PROMPT_LIMIT), seconds, ratio)
        return VideoStart(operation=task)

    def poll(self, operation: str) -> TaskState:
        return self.client.poll(operation)
