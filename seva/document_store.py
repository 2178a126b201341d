"""Where the documents citizens send are kept, addressed by their content.

Why content addressing: the key of a document is ``sha256:<hex>`` of its bytes, so the same
file sent twice (a retried upload, the same certificate for two applications) is one object,
a key can be checked against what it names, and a key in an application record cannot be
made to point anywhere but the store (it is never a path or a URL a sender chose).

- ``LocalDocumentStore``: files under ``var/documents/`` (``SEVA_DOCUMENT_DIR``), sharded as
  ``ab/cd/<hex>``, written atomically (temporary file, then rename), readable by us only.
- ``S3DocumentStore``: an S3 bucket or any S3-compatible server (MinIO), objects at
  ``<prefix>ab/cd/<hex>`` (the same layout), uploaded with a SHA-256 checksum S3 verifies.
- ``document_store_from_env()`` picks one: ``SEVA_DOCUMENT_STORE=local`` (default) or ``s3``.

Reading back verifies the bytes against the key: a damaged object raises
``CorruptDocument`` rather than reach an officer as if it were what the citizen sent.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Optional, Protocol, runtime_checkable

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "var" / "documents"
KEY = re.compile(r"sha256:([0-9a-f]{64})")
URL_SECONDS = 3600  # how long a link from S3DocumentStore.url_for works


class CorruptDocument(RuntimeError):
    """The stored bytes do not hash to their key."""


@runtime_checkable
class DocumentStore(Protocol):
    """Keeps bytes under the key of their content."""

    def put(self, data: bytes, mime: str) -> str:
        """Store ``data`` (once, however often it is put) and return its key ``sha256:<hex>``."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes of ``key``; ``KeyError`` if there are none."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        ...

    def url_for(self, key: str) -> Optional[str]:
        """A link an officer's browser can open, where the store has one; else None."""
        ...


def key_for(data: bytes) -> str:
    """The key of ``data``: ``sha256:`` and the hex digest of its bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_of(key: str) -> str:
    """The hex digest in a well-formed key; ``ValueError`` for anything else (a path, a URL,
    upper case, another algorithm), so a key can never walk out of the store."""
    match = KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(f"not a document key: {key!r}")
    return match.group(1)


def shard(digest: str) -> str:
    """``ab/cd/<hex>``: two levels of 256 folders keep any one folder small."""
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


def verified(key: str, data: bytes) -> bytes:
    """``data`` if it hashes to ``key``, else ``CorruptDocument``."""
    if key_for(data) != key:
        raise CorruptDocument(f"stored bytes of {key} do not match it")
    return data


class LocalDocumentStore:
    """Files in a folder: ``root/ab/cd/<hex>``, mode 0600, folders 0700, made on demand."""

    def __init__(self, root: Optional[Path] = None) -> None:
        self.root = Path(root) if root is not None else DEFAULT_DIR

    def path_for(self, key: str) -> Path:
        """Where ``key`` lives (whether or not it is there); ``ValueError`` for a bad key."""
        return self.root / shard(digest_of(key))

    def put(self, data: bytes, mime: str) -> str:
        key = key_for(data)
        path = self.path_for(key)
        if path.is_file():
            return key
        self._make_folders(path.parent)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # created 0600
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)  # atomic: a reader sees the whole file or none
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
        _sync_folder(path.parent)
        return key

    def _make_folders(self, folder: Path) -> None:
        """The root (with its parents) and the two shard levels, each 0700 when we make it."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.parent.mkdir(mode=0o700, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)

    def get(self, key: str) -> bytes:
        try:
            data = self.path_for(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None
        return verified(key, data)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def url_for(self, key: str) -> Optional[str]:
        digest_of(key)
        return None


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (its folder entry), where the system allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class S3DocumentStore:
    """Objects in an S3 bucket (or MinIO and other S3-compatible servers via ``endpoint_url``).

    Credentials come the standard way (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a
    profile, an instance role). With an ``endpoint_url`` requests use path-style addresses,
    which MinIO and other servers without per-bucket host names need."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: Optional[str] = None,
        region: Optional[str] = None,
        prefix: str = "documents/",
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint_url else {},
            )
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        self.client = client

    def object_key(self, key: str) -> str:
        """The object's name in the bucket; ``ValueError`` for a bad key."""
        return self.prefix + shard(digest_of(key))

    def put(self, data: bytes, mime: str) -> str:
        key = key_for(data)
        if self.exists(key):
            return key  # content addressed: what is there is these bytes
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self.client.put_object(
            Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=mime,
            ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum,  # S3 refuses bytes that differ, then keeps it
        )
        return key

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as error:
            if _missing(error):
                raise KeyError(key) from None
            raise
        return verified(key, response["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as error:
            if _missing(error):
                return False
            raise
        return True

    def url_for(self, key: str) -> Optional[str]:
        """A presigned GET link, valid for an hour."""
        return str(self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(key)}, ExpiresIn=URL_SECONDS,
        ))


def _missing(error: Exception) -> bool:
    """Whether a botocore ``ClientError`` says the object is not there."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def document_store_from_env() -> DocumentStore:
    """The configured store: ``SEVA_DOCUMENT_STORE`` ``local`` (default; ``SEVA_DOCUMENT_DIR``)
    or ``s3`` (``SEVA_S3_BUCKET``, optional ``SEVA_S3_ENDPOINT_URL``, ``SEVA_S3_REGION``,
    ``SEVA_S3_PREFIX``; credentials from the standard AWS variables)."""
    kind = (os.environ.get("SEVA_DOCUMENT_STORE") or "local").strip().lower()
    if kind == "local":
        folder = os.environ.get("SEVA_DOCUMENT_DIR")
        return LocalDocumentStore(Path(folder) if folder else None)
    if kind == "s3":
        bucket = os.environ.get("SEVA_S3_BUCKET")
        if not bucket:
            raise ValueError("SEVA_DOCUMENT_STORE=s3 needs SEVA_S3_BUCKET")
        return S3DocumentStore(
            bucket,
            endpoint_url=os.environ.get("SEVA_S3_ENDPOINT_URL") or None,
            region=os.environ.get("SEVA_S3_REGION") or None,
            prefix=os.environ.get("SEVA_S3_PREFIX", "documents/"),
        )
    raise ValueError(f"SEVA_DOCUMENT_STORE must be local or s3, not {kind!r}")
