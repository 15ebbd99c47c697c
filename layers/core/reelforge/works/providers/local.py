"""The `local` works provider: offline, no key, and honest about what it is.

- vision: the reference measured by `media.analysis` (scenes, palette, tempo, camera
  movement, text-overlay likelihood, faster-whisper speech for content_remix); nothing in it
  is recognised, and an analyzer prompt, which only a model could follow, is noted as unread.
- writer: scenes composed from the intent, the analysis's scene count and rhythm and the
  style guide, from templates; style guides read from text by a small lexicon and a few
  phrase patterns. Deterministic: the same input writes the same scenes.
- images: a designed card (`media.slides.designed_card`) in the style guide's palette that
  names the prompt's subject, labelled as a stand-in.
- videos: the scene's image filmed by `media.motion`'s virtual camera for the scene's length;
  finished in `start`, so there is nothing to poll.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from PIL import ImageColor

from reelforge.ai.vendor import TaskState
from reelforge.errors import ProviderError
from reelforge.media.analysis import analyze_reference, as_contract
from reelforge.media.compose import FPS
from reelforge.media.motion import render_motion
from reelforge.media.slides import designed_card
from reelforge.settings import get_settings
from reelforge.works.providers.base import (
    Call,
    ImageJob,
    LandingPage,
    Picture,
    Progress,
    ScenarioBrief,
    VideoJob,
    VideoStart,
)
from reelforge.works.schemas import (
    CAMERA_MOVEMENTS,
    MAX_LIST,
    MAX_PROMPT,
    MAX_SCENES,
    AnalysisResult,
    AnalysisScene,
    ScenarioScene,
    StyleGuide,
)

NOTE_ANALYZER_PROMPT = ("analyzer prompt not followed: the local provider measures the video and "
                        "cannot follow instructions (choose a vision model provider for that)")
NOTE_CARD = "local provider: a designed card in the style guide's palette, not a generated image"
NOTE_MOTION = "local provider: the scene image in motion ({movement}), not a generated video"
NOTE_LANDING = ("local provider: read from the page's colours, fonts, headings and text by "
                "heuristics (no AI model)")
CARD_LABEL = "Local card (no AI image)"

DEFAULT_SCENE_S = 5.0  # a scene's length when nothing else says
DEFAULT_SCENES = 4
MAX_SHORT = 500  # schemas.Short
SPEECH_QUOTE = 160  # media.analysis quotes at most this much of a scene's speech
# Scenes whose movement nothing names take these in turn; a still image rarely wants "static".
CAMERA_CYCLE = ("zoom in", "pan right", "zoom out", "pan left", "tilt up")
BASE_NEGATIVE = ("blurry", "distorted", "low resolution", "watermark", "garbled text")
MOVE_PHRASES = {"static": "Static shot: the camera holds still", "pan left": "The camera pans left",
                "pan right": "The camera pans right", "tilt up": "The camera tilts up",
                "tilt down": "The camera tilts down", "zoom in": "The camera slowly zooms in",
                "zoom out": "The camera slowly zooms out"}
DETAIL_SHOTS = ("Close-up on the details of {name}", "{name} in use by {audience}",
                "{name} in its everyday setting", "A wide shot of {name} in context")
CALLS_TO_ACTION = {"en": "Try {name} today", "tr": "{name}: hemen deneyin", "es": "Prueba {name} hoy",
                   "fr": "Essayez {name} dès aujourd'hui", "de": "Jetzt {name} testen",
                   "pt": "Experimente {name} hoje", "it": "Prova {name} oggi"}
LANGUAGE_NAMES = {"english": "en", "turkish": "tr", "türkçe": "tr", "spanish": "es", "español": "es",
                  "french": "fr", "français": "fr", "german": "de", "deutsch": "de",
                  "portuguese": "pt", "português": "pt", "italian": "it", "italiano": "it"}

# A movement named in free text ("pans left", "zooming in", "push in"); the earliest one wins.
_MOVE_PATTERNS = tuple((re.compile(p, re.I), m) for p, m in (
    (r"\bpan(?:s|ning|ned)?\s+(?:to\s+the\s+)?left\b", "pan left"),
    (r"\bpan(?:s|ning|ned)?\s+(?:to\s+the\s+)?right\b", "pan right"),
    (r"\btilt(?:s|ing|ed)?\s+up(?:wards?)?\b", "tilt up"),
    (r"\btilt(?:s|ing|ed)?\s+down(?:wards?)?\b", "tilt down"),
    (r"\b(?:zoom(?:s|ing|ed)?|push(?:es|ing)?)[\s-]+ins?\b", "zoom in"),
    (r"\b(?:zoom(?:s|ing|ed)?[\s-]+outs?|pull(?:s|ing)?[\s-]+(?:back|out))\b", "zoom out"),
    (r"\b(?:static|locked[- ]off|still camera)\b", "static"),
))

# --- style-guide lexicon -----------------------------------------------------------------

COLOUR_NAMES = ("red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown",
                "black", "white", "gray", "grey", "navy", "teal", "turquoise", "cyan", "magenta",
                "coral", "gold", "silver", "beige", "maroon", "olive", "lavender", "indigo",
                "crimson", "mint", "salmon", "ivory", "cream", "charcoal", "peach", "burgundy")
# Names Pillow does not know, as the hex they usually mean.
_EXTRA_COLOURS = {"mint": "#98ff98", "cream": "#fffdd0", "charcoal": "#36454f", "peach": "#ffe5b4",
                  "burgundy": "#800020"}
TONE_WORDS = ("professional", "playful", "friendly", "luxurious", "luxury", "bold", "minimal",
              "minimalist", "energetic", "calm", "elegant", "modern", "fun", "serious", "premium",
              "casual", "inspiring", "trustworthy", "confident", "youthful", "sophisticated",
              "warm", "vibrant", "clean", "edgy", "humorous", "authentic", "cinematic", "dramatic",
              "upbeat", "cheerful", "relaxed", "technical", "corporate")
_TEMPO_WORDS = {"fast": "fast", "quick": "fast", "rapid": "fast", "snappy": "fast",
                "medium": "medium", "moderate": "medium", "steady": "medium", "slow": "slow",
                "leisurely": "slow", "unhurried": "slow"}
_TEMPO = re.compile(
    r"\b(?:(?:tempo|pace|pacing)\s*(?:is|:|-|should be)?\s*(fast|quick|rapid|medium|moderate|steady|slow)"
    r"|(fast|quick|rapid|medium|moderate|steady|slow)[- ](?:paced|pace|tempo|pacing|cuts?|cutting|editing)"
    r"|(snappy|leisurely|unhurried))\b", re.I)
_CAMERA = re.compile(
    r"\b(?:(?:slow|smooth|quick|gentle|subtle)\s+)?(?:zoom(?:s|ing)?(?:[\s-]+(?:ins?|outs?))?|"
    r"pan(?:s|ning)?(?:\s+(?:left|right))?|tilt(?:s|ing)?(?:\s+(?:up|down))?|static(?:\s+shots?)?|"
    r"handheld|tracking\s+shots?|dolly(?:\s+(?:in|out|shots?))?|close-?ups?|wide\s+shots?|"
    r"drone\s+shots?|aerial(?:\s+shots?)?|steadicam|locked[- ]off(?:\s+shots?)?|push[- ]ins?)\b", re.I)
_HEX = re.compile(r"#(?:[0-9a-f]{6}|[0-9a-f]{3})\b", re.I)
_CLAUSE_END = r"(?=[.;!?\n]|$)"
_MUST_INCLUDE = re.compile(r"\b(?:(?:must|should)\s+(?:include|have|show|feature)|always|make\s+sure\s+to|"
                           r"be\s+sure\s+to|include(?=\s*:))\b[:\s]+([^.;!?\n]+)" + _CLAUSE_END, re.I)
_MUST_AVOID = re.compile(r"\b(?:avoid|never|don['’]?t|do\s+not|must\s+not|should\s+not)\b[:\s]+"
                         r"([^.;!?\n]+)" + _CLAUSE_END, re.I)
_VOICE = re.compile(r"\b(?:brand\s+voice|tone\s+of\s+voice|voice)\s*(?:is|:|-|should\s+be|should\s+sound)"
                    r"\s*([^.;!?\n]+)" + _CLAUSE_END, re.I)
_LEADING_VERB = re.compile(r"^(?:to\s+)?(?:use|using|show|showing|include|including|put|add|feature|"
                           r"featuring|have|display)\s+", re.I)
_SPEECH = re.compile(r"\b(?:speech|said|says|voice-?over|narration)\s*:?\s*[\"“]([^\"”]+)[\"”]", re.I)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+", re.I)
# A line break inside a sentence (wrapped text), not one before a list item, a blank line or a
# capitalised new line: clauses end at line breaks, so wrapped ones are joined first.
_UNWRAP = re.compile(r"[ \t]*\n(?![ \t]*(?:[-*•]|\d+[.)]|\n|[A-Z]))[ \t]*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def vision(call: Call) -> LocalVision:
    return LocalVision()


def writer(call: Call) -> LocalWriter:
    return LocalWriter()


def images(call: Call) -> LocalImages:
    return LocalImages()


def videos(call: Call) -> LocalVideos:
    return LocalVideos()


# --- vision --------------------------------------------------------------------------------


class LocalVision:
    def analyze(self, video: Path, *, mode: str, analyzer_prompt: str | None,
                on_progress: Progress | None = None) -> AnalysisResult:
        measured = analyze_reference(video, mode=mode, whisper_model=get_settings().whisper_model,
                                     on_progress=on_progress)
        result = as_contract(measured)
        for scene, analysed in zip(result["scenes"], measured.scenes, strict=True):
            if analysed.speech and len(analysed.speech) > SPEECH_QUOTE:
                # The measured description quotes the start of the speech; a remix follows all of it.
                head, _, _ = scene["description"].rpartition('; speech: "')
                scene["description"] = _clip(f'{head}; speech: "{analysed.speech}".', MAX_PROMPT)
        if analyzer_prompt and analyzer_prompt.strip():
            result["notes"].append(NOTE_ANALYZER_PROMPT)
        return AnalysisResult.model_validate(result)

    def describe(self, still: bytes, measured: str) -> str:
        return measured  # nothing here recognises what a picture shows


# --- writer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """One scene to write: its length and what fixes it before any words are chosen."""

    duration: float
    camera: str | None = None
    transition: str = "cut"
    said: str = ""  # the reference's speech in this scene (content_remix)
    asset: str = ""  # the asset this scene is built around (direct mode)


class LocalWriter:
    def scenario(self, brief: ScenarioBrief) -> list[ScenarioScene]:
        intent, guide = brief.intent, brief.style_guide or StyleGuide()
        slots = _slots(brief)
        name = (intent.product_name or "").strip()
        subject_name = name or "the product"
        audience = (intent.target_audience or "").strip()
        points = _points(intent.product_description or brief.knowledge)
        analysis = brief.analysis
        tone = guide.tone or (analysis.overall_tone if analysis else "")
        palette = guide.color_palette or (analysis.color_palette if analysis else [])
        tempo = guide.tempo or (analysis.tempo if analysis and analysis.scenes else "")
        style = " ".join(part for part in (
            f"Aimed at {audience}." if audience else "",
            f"Mood: {tone}." if tone else "",
            f"Colour palette: {', '.join(palette[:6])}." if palette else "",
            f"Camera style: {guide.camera_style}." if guide.camera_style else "",
            f"Must include: {'; '.join(guide.must_include)}." if guide.must_include else "",
        ) if part)
        negative = ", ".join(dict.fromkeys([*BASE_NEGATIVE, *(guide.must_avoid or [])]))
        defaults = _movements_in(guide.camera_style or "") or list(CAMERA_CYCLE)
        cta = _call_to_action(name, intent.language)
        scenes = []
        n = len(slots)
        for i, slot in enumerate(slots):
            if slot.asset:
                subject = f"{_sentence(slot.asset)}, presented for {subject_name}"
            elif slot.said:
                subject = f'A scene for {subject_name} that shows what the voice-over says: "{slot.said}"'
            elif i == 0:
                subject = f"Hero shot of {subject_name}" + (f": {points[0]}" if points else "")
            elif i == n - 1:
                subject = f"Closing shot of {subject_name}, inviting {audience or 'the viewer'} to act"
            elif points:  # the first point went to the hero shot; the others take turns
                rest = points[1:] or points
                subject = f"{subject_name}: {rest[(i - 1) % len(rest)]}"
            else:
                subject = DETAIL_SHOTS[(i - 1) % len(DETAIL_SHOTS)].format(
                    name=subject_name, audience=audience or "people")
            subject = subject[0].upper() + subject[1:]
            camera = slot.camera or defaults[i % len(defaults)]
            overlay = None
            if name:
                overlay = cta if i == n - 1 else (name if i == 0 else None)
            room = " Clean composition with room for a caption." if overlay else ""
            video = (f"{MOVE_PHRASES[camera]} over the scene: {subject}. {slot.duration:g} seconds"
                     + (f", {tempo} pacing" if tempo else "") + (f". Mood: {tone}." if tone else "."))
            scenes.append(ScenarioScene(
                scene_index=i, duration_seconds=slot.duration,
                image_prompt=_clip(f"{subject}. {style}{room}".strip(), MAX_PROMPT),
                negative_prompt=_clip(negative, MAX_PROMPT), video_prompt=_clip(video, MAX_PROMPT),
                text_overlay=_clip(overlay, MAX_SHORT) if overlay else None,
                transition=_clip(slot.transition, MAX_SHORT), camera_movement=camera))
        return scenes

    def style_guide(self, text: str) -> StyleGuide:
        text = _UNWRAP.sub(" ", text)
        include = _rules(_MUST_INCLUDE, text)
        avoid = _rules(_MUST_AVOID, text)
        # What the text says to avoid is no part of the style: "never use red" adds no red.
        said = _MUST_AVOID.sub(" ", text)
        voice = _VOICE.search(said)
        tempo = _TEMPO.search(said)
        cameras = list(dict.fromkeys(" ".join(m.group(0).lower().split()) for m in _CAMERA.finditer(said)))
        tones = _words(said, TONE_WORDS)
        return StyleGuide(
            tone=", ".join(tones[:4]) or None,
            color_palette=_colours_in(said) or None,
            tempo=_TEMPO_WORDS[next(g for g in tempo.groups() if g).lower()] if tempo else None,
            camera_style=_clip(", ".join(cameras[:5]), MAX_SHORT) or None,
            brand_voice=_clip(voice.group(1).strip(), MAX_SHORT) if voice else None,
            must_include=include or None,
            must_avoid=avoid or None,
        )

    def landing(self, page: LandingPage, *, include_product_info: bool, mode: str) -> dict:
        text = "\n".join([page.title, page.description, *page.headings, page.text])
        out: dict = {"styleGuide": {}}
        if mode != "feature":
            # Marketing copy's "never miss a deadline" is no rule for the video: no rules from it.
            guide = self.style_guide(text).model_copy(update={"must_include": None, "must_avoid": None})
            colours = [c for c in (_hex(c) for c in page.colors) if c]
            fonts = [f.strip() for f in page.fonts if f.strip()]
            headline = page.headings[0].strip() if page.headings else ""
            guide = guide.model_copy(update={
                "color_palette": list(dict.fromkeys(colours))[:6] or guide.color_palette,
                "must_include": [f"the brand's typeface ({', '.join(fonts[:3])})"] if fonts else None,
                "brand_voice": guide.brand_voice or (
                    _clip(f'as the page writes it: "{headline}"', MAX_SHORT) if headline else None),
            })
            out["styleGuide"] = guide.model_dump(exclude_none=True)
        if include_product_info or mode == "feature":
            out["productInfo"] = _product_info(page)
        out["notes"] = [NOTE_LANDING]
        return out


def _slots(brief: ScenarioBrief) -> list[_Slot]:
    """The scenes' lengths, movements and sources: one per asset (direct mode), else the
    reference's scenes and rhythm, else the intent's count spread evenly."""
    intent, analysis = brief.intent, brief.analysis
    if brief.asset_descriptions:
        assets = brief.asset_descriptions[:MAX_SCENES]
        total = intent.video_duration or DEFAULT_SCENE_S * len(assets)
        return [_Slot(d, asset=a) for d, a in zip(_split(total, [1.0] * len(assets)), assets, strict=True)]
    if analysis and analysis.scenes:
        groups = _groups(analysis.scenes, MAX_SCENES)
        weights = [sum(s.duration_seconds for s in g) for g in groups]
        # no scene longer than the schema allows (600 s) when the reference's own lengths are kept
        total = intent.video_duration or sum(weights) * min(1.0, 600 / max(weights))
        remix = intent.mode == "content_remix"
        return [_Slot(d, camera=_movement(g[0].camera_movement), transition=g[0].transition or "cut",
                      said=" ".join(filter(None, (_speech(s.description) for s in g))) if remix else "")
                for d, g in zip(_split(total, weights), groups, strict=True)]
    if intent.scene_count:
        n = intent.scene_count
    elif intent.video_duration:
        n = min(MAX_SCENES, max(1, round(intent.video_duration / DEFAULT_SCENE_S)))
    else:
        n = DEFAULT_SCENES
    return [_Slot(d) for d in _split(intent.video_duration or DEFAULT_SCENE_S * n, [1.0] * n)]


def _groups(scenes: Sequence[AnalysisScene], most: int) -> list[list[AnalysisScene]]:
    """The scenes in order, neighbours merged evenly when there are more than `most`."""
    n = len(scenes)
    if n <= most:
        return [[s] for s in scenes]
    return [list(scenes[k * n // most:(k + 1) * n // most]) for k in range(most)]


def _split(total: float, weights: Sequence[float]) -> list[float]:
    """`total` seconds shared in proportion to `weights`, in hundredths that add up exactly
    (largest remainder), none shorter than 0.01 s."""
    cents = max(len(weights), round(total * 100))
    whole = sum(weights)
    raw = [w / whole * cents for w in weights]
    parts = [max(1, int(r)) for r in raw]
    for i in sorted(range(len(parts)), key=lambda i: parts[i] - raw[i])[:max(0, cents - sum(parts))]:
        parts[i] += 1
    while sum(parts) > cents:  # only when tiny shares were raised to 0.01 s
        parts[parts.index(max(parts))] -= 1
    return [p / 100 for p in parts]


def _movement(name: str | None) -> str | None:
    """One of CAMERA_MOVEMENTS for "pan_left", "Pan Left", "pan-left"; None for anything else."""
    key = " ".join((name or "").lower().replace("_", " ").replace("-", " ").split())
    return key if key in CAMERA_MOVEMENTS else None


def _movements_in(text: str) -> list[str]:
    """The movements a text names, in the order it names them."""
    found = sorted((m.start(), move) for pattern, move in _MOVE_PATTERNS for m in pattern.finditer(text))
    return list(dict.fromkeys(move for _, move in found))


def _speech(description: str) -> str:
    """The words a scene description quotes as spoken (`speech: "..."`, `says: "..."`)."""
    return " ".join(m.group(1).strip() for m in _SPEECH.finditer(description))


def _points(text: str | None) -> list[str]:
    """A description's sentences, as short clauses to build middle scenes on."""
    out = []
    for sentence in _SENTENCE.split(text or ""):
        clean = " ".join(sentence.split()).strip(" .!?;:-")
        if clean:
            out.append(_clip(clean, 200))
    return out[:MAX_SCENES]


def _sentence(text: str) -> str:
    return _clip(" ".join(text.split()).strip(" .") or "the asset", 300)


def _call_to_action(name: str, language: str | None) -> str:
    code = (language or "en").strip().lower()
    code = LANGUAGE_NAMES.get(code, re.split(r"[-_]", code)[0])
    return CALLS_TO_ACTION.get(code, CALLS_TO_ACTION["en"]).format(name=name)


def _rules(pattern: re.Pattern[str], text: str) -> list[str]:
    """The things a text's "must include" / "avoid" clauses name, one per list item."""
    items = []
    for match in pattern.finditer(text):
        for part in _LIST_SPLIT.split(_LEADING_VERB.sub("", match.group(1).strip())):
            part = part.strip(" \"'“”:")
            if part:
                items.append(_clip(part, MAX_SHORT))
    return list(dict.fromkeys(items))[:MAX_LIST]


def _words(text: str, lexicon: Sequence[str]) -> list[str]:
    """The lexicon's words that occur in `text`, in the order the text uses them."""
    found = sorted((m.start(), m.group(0).lower()) for word in lexicon
                   for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.I))
    return list(dict.fromkeys(word for _, word in found))


def _colours_in(text: str) -> list[str]:
    """Hex colours (as #rrggbb) and colour names, in the order the text gives them."""
    found = [(m.start(), _hex(m.group(0))) for m in _HEX.finditer(text)]
    found += [(m.start(), m.group(0).lower()) for word in COLOUR_NAMES
              for m in re.finditer(rf"\b{word}\b", text, re.I)]
    return list(dict.fromkeys(c for _, c in sorted(found) if c))[:MAX_LIST]


def _hex(value: str) -> str | None:
    """#rrggbb for "#abc" / "#AABBCC"; None when it is not a hex colour."""
    value = value.strip().lower()
    if not re.fullmatch(r"#(?:[0-9a-f]{3}){1,2}", value):
        return None
    return "#" + "".join(c * 2 for c in value[1:]) if len(value) == 4 else value


def _rgb(colour: str) -> tuple[int, int, int] | None:
    """A palette entry as RGB: hex, a CSS colour name, or words ending in one ("brand sky blue")."""
    words = colour.lower().split()
    for key in ("".join(words[i:]) for i in range(len(words))):
        try:
            r, g, b = ImageColor.getrgb(_EXTRA_COLOURS.get(key, key))[:3]
        except ValueError:
            continue
        return r, g, b
    return None


def _product_info(page: LandingPage) -> dict:
    """Name: the part of the title ("Acme | Ship faster") that names the host, else its first
    part, else the host; description: the meta description or the first sentence; features:
    the headings after the first."""
    brand = (urlparse(page.url).hostname or page.url).removeprefix("www.").split(".")[0]
    parts = [p.strip() for p in re.split(r"\s*[|·–—]\s*|\s+-\s+|:\s+", page.title.strip()) if p.strip()]
    name = next((p for p in parts if brand.lower() in p.lower()), parts[0] if parts else brand.capitalize())
    first = _SENTENCE.split(page.text.strip())[0] if page.text.strip() else ""
    description = page.description.strip() or first
    headings = [" ".join(h.split()) for h in page.headings if h.strip()]
    features = list(dict.fromkeys(h for h in headings[1:] if h.lower() != name.lower()))[:6]
    return {"name": _clip(name, MAX_SHORT), "description": _clip(description, MAX_PROMPT),
            "features": [_clip(f, MAX_SHORT) for f in features]}


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


# --- images --------------------------------------------------------------------------------


class LocalImages:
    def image(self, job: ImageJob) -> Picture:
        guide = job.style_guide
        palette = [c for c in (_rgb(name) for name in (guide.color_palette or [])) if c] if guide else []
        subject = _SENTENCE.split(job.prompt.strip())[0].rstrip(". ") or job.prompt
        card = designed_card(subject, (job.size.width, job.size.height), label=CARD_LABEL,
                             palette=palette or None)
        buffer = io.BytesIO()
        card.save(buffer, format="PNG", compress_level=1)
        return Picture(data=buffer.getvalue(), mime_type="image/png", note=NOTE_CARD)


# --- videos --------------------------------------------------------------------------------


class LocalVideos:
    def start(self, job: VideoJob, workdir: Path) -> VideoStart:
        movement = _movement(job.camera_movement) or next(iter(_movements_in(job.prompt)), "zoom in")
        Path(workdir).mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="local-video-", dir=workdir))  # scenes may share workdir
        image = folder / "first-frame"
        image.write_bytes(job.image)
        # A fixed travel would crawl over a long scene: longer scenes travel further (up to full strength).
        strength = min(1.0, max(0.5, job.duration_s / 6))
        out = render_motion(image, frames=max(1, round(job.duration_s * FPS)),
                            size=(job.size.width, job.size.height), movement=movement.replace(" ", "_"),
                            strength=strength, out=folder / "scene.mp4")
        return VideoStart(path=out, note=NOTE_MOTION.format(movement=movement))

    def poll(self, operation: str) -> TaskState:
        raise ProviderError(f"the local video provider finishes its videos in start(); there is no "
                            f"operation to poll ({operation!r})")
