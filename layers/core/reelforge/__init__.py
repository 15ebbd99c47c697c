"""reelforge: serverless AI video backend (the shared core, shipped as a Lambda layer)."""

__version__ = "0.1.0"
