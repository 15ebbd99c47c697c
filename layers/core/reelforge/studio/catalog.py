"""What the studio can use: image models and visual styles (`GET /models`, `GET /styles`).

A project names one of each (`modelId`, `styleId`); the original ignored both on create and
listed models it could not run. These are the ones this backend has.
"""

from __future__ import annotations

from typing import Any

from reelforge.synth.images import IMAGE_MODEL

LOCAL_CARD = "local-card"
# model id -> what it is. "auto" picks Gemini when the request carries a key, else the card.
MODELS: dict[str, dict[str, Any]] = {
    "auto": {"name": "Automatic", "provider": "auto", "kind": "image",
             "description": "Gemini's image model with an X-Gemini-Key, the designed card without"},
    LOCAL_CARD: {"name": "Designed card (offline)", "provider": "local", "kind": "image",
                 "description": "a procedural picture seeded by the prompt: no AI, no network"},
    IMAGE_MODEL: {"name": "Gemini 2.5 Flash Image", "provider": "gemini", "kind": "image",
                  "description": "needs an X-Gemini-Key"},
}
DEFAULT_MODEL = "auto"

# style id -> the words added to every image prompt, and the procedural card's palette tone.
STYLES: dict[str, dict[str, str]] = {
    "cinematic": {"name": "Cinematic", "prompt": "cinematic film still, dramatic lighting, shallow depth of field",
                  "tone": "storytelling"},
    "documentary": {"name": "Documentary", "prompt": "documentary photograph, natural light, realistic",
                    "tone": "formal"},
    "photorealistic": {"name": "Photorealistic", "prompt": "photorealistic, high detail, 35mm photo",
                       "tone": "formal"},
    "anime": {"name": "Anime", "prompt": "anime illustration, clean line art, vibrant colours",
              "tone": "casual"},
    "watercolor": {"name": "Watercolor", "prompt": "soft watercolor painting, paper texture",
                   "tone": "casual"},
    "minimalist": {"name": "Minimalist", "prompt": "minimalist flat illustration, simple shapes, lots of space",
                   "tone": "formal"},
    "3d-render": {"name": "3D render", "prompt": "3d render, soft studio lighting, octane",
                  "tone": "casual"},
}
DEFAULT_STYLE = "cinematic"


def models() -> list[dict[str, Any]]:
    return [{"id": mid, **info} for mid, info in MODELS.items()]


def styles() -> list[dict[str, Any]]:
    return [{"id": sid, **info} for sid, info in STYLES.items()]


def style(style_id: str | None) -> dict[str, str]:
    return STYLES.get(style_id or DEFAULT_STYLE, STYLES[DEFAULT_STYLE])
