"""Output shapes and layout names of reframed clips.

Kept apart from reframe.py (numpy, OpenCV) so that request schemas can name them without
the API importing the detection stack.
"""

from __future__ import annotations

from typing import Literal, get_args

Layout = Literal["focus", "split", "fit"]
LayoutChoice = Literal["auto", "focus", "split", "fit"]
Aspect = Literal["9:16", "1:1", "16:9"]
OUTPUT_SIZES: dict[str, tuple[int, int]] = {"9:16": (1080, 1920), "1:1": (1080, 1080),
                                            "16:9": (1920, 1080)}
ASPECTS: tuple[str, ...] = get_args(Aspect)
LAYOUT_CHOICES: tuple[str, ...] = get_args(LayoutChoice)


def output_size(aspect: str) -> tuple[int, int]:
    try:
        return OUTPUT_SIZES[aspect]
    except KeyError:
        raise ValueError(f"aspect must be one of {', '.join(OUTPUT_SIZES)}") from None
