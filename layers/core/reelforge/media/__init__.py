"""Media processing: probe, ffmpeg, transcription, scenes, reframing, captions, grading."""
