"""What a file is, from its first bytes (never from its name or a declared type).

    kind = video_type(head)   # ("mp4", "video/mp4") | ("webm", "video/webm") | ... | None

Each function takes at least the first 16 bytes and answers (extension, MIME type), or None
for anything else.
"""

from __future__ import annotations

Kind = tuple[str, str]
HEAD_BYTES = 16

# ISO BMFF brands: QuickTime's own, and the audio-only ones (an .m4a is an MP4 container).
_QUICKTIME_BRANDS = (b"qt  ",)
_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"F4A ")


def image_type(head: bytes) -> Kind | None:
    """PNG, JPEG or WebP."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


def video_type(head: bytes) -> Kind | None:
    """MP4, QuickTime, AVI or WebM/Matroska (the containers AutoVio takes)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return None
        if brand in _QUICKTIME_BRANDS:
            return "mov", "video/quicktime"
        return "mp4", "video/mp4"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi", "video/x-msvideo"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm", "video/webm"
    return None


def audio_type(head: bytes) -> Kind | None:
    """MP3, WAV, Ogg, FLAC or M4A/AAC."""
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06):
        return "mp3", "audio/mpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav", "audio/wav"
    if head.startswith(b"OggS"):
        return "ogg", "audio/ogg"
    if head.startswith(b"fLaC"):
        return "flac", "audio/flac"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _AUDIO_BRANDS:
        return "m4a", "audio/mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:  # ADTS AAC
        return "aac", "audio/aac"
    return None
