"""The HTTP API (FastAPI). `create_app()` builds it; functions/api wraps it with Mangum."""

from reelforge.api.app import create_app

__all__ = ["create_app"]
