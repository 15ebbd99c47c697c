"""Configuration from the environment (Lambda env vars, or the embedded AWS's).

One `Settings` object; `get_settings()` caches it. Missing required config fails fast at
import time of the handler rather than halfway through a job.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # Resources (set by template.yaml's Globals, or by the embedded AWS).
    table_name: str = Field(min_length=1)
    bucket_name: str = Field(min_length=1)
    process_state_machine_arn: str = ""
    edit_state_machine_arn: str = ""
    export_state_machine_arn: str = ""
    generate_state_machine_arn: str = ""
    script_state_machine_arn: str = ""
    media_state_machine_arn: str = ""
    works_state_machine_arn: str = ""
    aws_endpoint_url: str | None = None
    # WebSockets (reelforge.realtime): the connections table, and the WebSocket API's
    # https://.../<stage> URL that pushes go to (post_to_connection). Both empty means no
    # realtime delivery (unit tests); the embedded runtime sets the table and leaves the
    # endpoint empty, since local sockets are served in-process.
    connections_table_name: str = ""
    websocket_endpoint: str = ""

    # Auth. JWT_SECRET must be long and random in a deployment (the template takes it
    # from a NoEcho parameter); the embedded runtime generates one per run.
    jwt_secret: SecretStr = Field(min_length=32)
    access_token_ttl_s: int = 7 * 24 * 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600

    # API
    cors_origins: str = "http://localhost:5173,http://127.0.0.1:5173"
    presign_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    max_file_size_mb: int = Field(default=2048, ge=1)

    # Jobs
    max_concurrent_jobs: int = Field(default=5, ge=1)
    job_retention_seconds: int = Field(default=3600, ge=60)
    # Per user: jobs submitted per minute (api/limits.py; 0 means no limit), and how long
    # the answer to an Idempotency-Key is kept for a retry (api/idempotency.py).
    job_submissions_per_minute: int = Field(default=30, ge=0)
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60, le=7 * 24 * 3600)

    # Hosts exempt from the SSRF checks of URL ingest: for local testing only.
    ingest_allow_hosts: str = ""

    # AI providers. The Gemini key normally comes per request (X-Gemini-Key); a server
    # default here is never written to DynamoDB, S3 or logs.
    ai_provider: Literal["local", "gemini"] = "local"
    require_gemini_key: bool = False
    gemini_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    # Where the other vendors' SDKs send requests (None: the vendor's own); the tests point
    # them at fake servers on loopback. Their keys come per request only.
    vertex_base_url: str | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    runway_base_url: str | None = None

    # Media
    whisper_model: str = "base"
    whisper_device: str = "auto"
    whisper_compute_type: str = "auto"
    whisper_beam_size: int = Field(default=1, ge=1, le=10)
    # A warm Lambda reuses the loaded model for the next job. The embedded runtime turns
    # this off: every function shares its one process, and the clips render after it.
    whisper_keep_loaded: bool = True
    render_preset: str = "veryfast"
    render_crf: int = Field(default=23, ge=0, le=51)
    fonts_dir: str = "/usr/share/fonts/truetype/dejavu"

    # Narrated videos: how many slides are narrated / drawn at once (the Map's MaxConcurrency),
    # and how /api/video hands out bytes: "proxy" streams them through the API with Range
    # support (the embedded default); "redirect" answers 307 to a presigned S3 GET, which
    # serves Range itself (the cloud: a Lambda response is buffered and at most 6 MB).
    generate_concurrency: int = Field(default=4, ge=1, le=40)
    video_delivery: Literal["proxy", "redirect"] = "proxy"

    # AutoVio works: scenes generated at once (the scenes Map's MaxConcurrency), seconds
    # between two polls of a provider's long-running video operation (a Wait state), and how
    # long a synchronous AI route waits for its job before answering 202 (under API
    # Gateway's 29 s).
    works_concurrency: int = Field(default=3, ge=1, le=40)
    works_poll_interval_s: int = Field(default=10, ge=1, le=300)
    works_sync_wait_s: float = Field(default=20.0, ge=0, le=25)
    project_storage_quota_mb: int = Field(default=2048, ge=1)

    @field_validator("render_preset")
    @classmethod
    def _known_preset(cls, v: str) -> str:
        presets = {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"}
        if v not in presets:
            raise ValueError(f"render_preset must be one of {sorted(presets)}")
        return v

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def ingest_allow_host_list(self) -> list[str]:
        return [h.strip() for h in self.ingest_allow_hosts.split(",") if h.strip()]

    @property
    def max_file_size_bytes(self) -> int:
        return self.max_file_size_mb * 1024 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
