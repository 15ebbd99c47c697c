"""Synthesised media shared by the surfaces that narrate and illustrate (narrated video,
script studio): speech and pictures, offline or from Gemini."""
