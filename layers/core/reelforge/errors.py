"""Named errors. Step Functions `Retry`/`Catch` match them by class name (`errorType`)."""

from __future__ import annotations


class ReelforgeError(Exception):
    """Base for errors that carry a message safe to show to the user.

    `code` names the error in an enveloped answer (seed 004's `INVALID_STATE`, `DUPLICATE`);
    without one the status's usual code is used."""

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientError(ReelforgeError):
    """Worth retrying: throttling, a flaky download, a provider 5xx."""


class InvalidMediaError(ReelforgeError):
    """The input is not decodable media, or lacks a stream the step needs."""


class MediaProcessingError(ReelforgeError):
    """ffmpeg or a media library failed on input that probed fine."""


class IngestError(ReelforgeError):
    """A source could not be fetched: refused URL, too large, not found."""


class ProviderError(ReelforgeError):
    """An AI provider failed or returned unusable output after retries."""


class UnsupportedPromptError(ReelforgeError):
    """The selected provider cannot do what the prompt asks."""


class BadRequest(ReelforgeError):
    """The request makes no sense for the resource as it is now (-> 400)."""


class Missing(ReelforgeError):
    """Something the request names does not exist, and the message says what (-> 404)."""


class Conflict(ReelforgeError):
    """The resource changed under this write; reload and retry (-> 409)."""


class PreconditionFailed(ReelforgeError):
    """An If-Match named a version that is no longer current (-> 412)."""


class TooLarge(ReelforgeError):
    """A body over what can be stored (-> 413)."""


class Interrupted(ReelforgeError):
    """The job's workflow stopped without finishing it: the embedded AWS restarted under it,
    or (in the cloud) its execution was aborted or timed out."""


def short_error(exc: Exception, limit: int = 300) -> str:
    """An error's message on one line, cut to `limit` characters (for notes to the user)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
