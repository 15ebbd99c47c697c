"""The embedded AWS: moto on loopback, deployed from template.yaml, running our real handlers."""

from reelforge.local.runtime import EmbeddedAWS

__all__ = ["EmbeddedAWS"]
