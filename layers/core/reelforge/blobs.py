"""S3 artifacts: key layout, uploads, downloads and presigned URLs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from reelforge import aws
from reelforge.settings import get_settings
from reelforge.store import NotFound

UPLOADS_PREFIX = "uploads/"
ARTIFACTS_PREFIX = "artifacts/"
PREVIEWS_PREFIX = "previews/"  # short-lived preview frames (a bucket lifecycle rule expires them)

_MISSING = ("404", "NoSuchKey", "NotFound")  # S3's codes for a key that is not there
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str, *, default: str = "file") -> str:
    """A file name safe for S3 keys, shell-free tools and Content-Disposition.

    Drops any directory part, accents and unusual characters; keeps the extension.
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("_", name)
    stem, dot, ext = name.rpartition(".")
    if dot and not stem.strip("._"):  # nothing usable before the extension: "\0.mp4"
        name = f"{default.rpartition('.')[0] or default}.{ext}"
    name = name.strip("._")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 110] + dot + ext[:9]) if dot else name[:120]
    return name or default


def upload_key(owner: str, project_id: str, asset_id: str, file_name: str) -> str:
    return f"{UPLOADS_PREFIX}{owner}/{project_id}/{asset_id}/{file_name}"


def job_prefix(job_id: str) -> str:
    return f"{ARTIFACTS_PREFIX}jobs/{job_id}/"


def project_prefix(project_id: str) -> str:
    return f"{ARTIFACTS_PREFIX}projects/{project_id}/"


class Blobs:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().bucket_name

    @property
    def _s3(self) -> Any:
        return aws.client("s3")

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self._s3.upload_file(str(path), self.bucket, key, ExtraArgs=extra)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def copy(self, source: str, dest: str, content_type: str) -> None:
        """A server-side copy (objects up to 5 GB), with a new Content-Type."""
        self._s3.copy_object(Bucket=self.bucket, Key=dest, CopySource={"Bucket": self.bucket, "Key": source},
                             ContentType=content_type, MetadataDirective="REPLACE")

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; store.NotFound when there is none (a 404 in the API, not a 500)."""
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFound(f"no object {key}") from exc
            raise

    def download(self, key: str, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._s3.download_file(self.bucket, key, str(path))
        return path

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise

    def read_range(self, key: str, start: int, end: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
        """Bytes start..end (inclusive) of an object, streamed in chunks (one ranged GET)."""
        body = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; returns how many."""
        if not prefix or not prefix.endswith("/"):
            raise ValueError("refusing to delete a prefix that is not a folder")
        keys = list(self.list_keys(prefix))
        for i in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[i : i + 1000]]
            self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
        return len(keys)

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def presign_get(
        self, key: str, *, download_name: str | None = None, content_type: str | None = None
    ) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = (
                f'attachment; filename="{safe_file_name(download_name)}"'
            )
        if content_type:
            params["ResponseContentType"] = content_type
        return self._s3.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=get_settings().presign_ttl_s
        )

    def presign_put(self, key: str, content_type: str) -> str:
        return self._s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=get_settings().presign_ttl_s,
        )
