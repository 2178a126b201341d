"""seva.document_store: content-addressed storage of citizens' documents, on disk and in S3.

The S3 store is tested against a real S3-compatible HTTP server the session starts itself:
moto's (``python -m moto.server``; MinIO's server is neither on PyPI nor in Debian)."""
import base64
import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cluster.services import free_port
from seva.document_store import (
    CorruptDocument,
    DocumentStore,
    LocalDocumentStore,
    S3DocumentStore,
    document_store_from_env,
    key_for,
)

PHOTO = b"\xff\xd8\xff\xe0" + os.urandom(4096)
PDF = b"%PDF-1.7\n" + os.urandom(2048)

BAD_KEYS = [
    "../../etc/passwd",
    "sha256:../../../../etc/passwd",
    "sha256:" + "0" * 63,
    "sha256:" + "0" * 65,
    "sha256:" + "A" * 64,  # upper case: one key per content, so one spelling
    "sha256:" + "0" * 62 + "/x",
    "md5:" + "0" * 32,
    "/tmp/" + "0" * 64,
    "",
    "sha256:" + "0" * 64 + "\n",
]


# --- local ------------------------------------------------------------------------------------

def test_local_same_bytes_same_key_one_file(tmp_path):
    store = LocalDocumentStore(tmp_path / "documents")
    key = store.put(PHOTO, "image/jpeg")
    assert key == "sha256:" + hashlib.sha256(PHOTO).hexdigest() == key_for(PHOTO)
    assert store.put(PHOTO, "image/jpeg") == key
    files = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    digest = key.split(":")[1]
    assert files == [tmp_path / "documents" / digest[:2] / digest[2:4] / digest]  # no temporary left
    assert store.put(PDF, "application/pdf") != key
    assert isinstance(store, DocumentStore)


def test_local_get_exists_and_absent(tmp_path):
    store = LocalDocumentStore(tmp_path)
    key = store.put(PDF, "application/pdf")
    assert store.get(key) == PDF
    assert store.exists(key)
    absent = key_for(b"never stored")
    assert not store.exists(absent)
    with pytest.raises(KeyError):
        store.get(absent)
    assert store.url_for(key) is None


def test_local_files_are_ours_only(tmp_path):
    store = LocalDocumentStore(tmp_path / "var" / "documents")  # made on demand, parents too
    key = store.put(PHOTO, "image/jpeg")
    path = store.path_for(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("key", BAD_KEYS)
def test_local_refuses_keys_that_are_not_sha256_hex(tmp_path, key):
    store = LocalDocumentStore(tmp_path)
    for call in (store.get, store.exists, store.path_for, store.url_for):
        with pytest.raises(ValueError):
            call(key)


def test_local_damaged_file_is_not_returned_as_the_document(tmp_path):
    store = LocalDocumentStore(tmp_path)
    key = store.put(PDF, "application/pdf")
    store.path_for(key).write_bytes(PDF[:-1] + b"!")
    with pytest.raises(CorruptDocument):
        store.get(key)


def test_local_write_that_fails_leaves_nothing(tmp_path, monkeypatch):
    store = LocalDocumentStore(tmp_path)

    def broken_fsync(descriptor):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.put(PHOTO, "image/jpeg")
    assert not store.exists(key_for(PHOTO))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_store_from_env_local(tmp_path, monkeypatch):
    monkeypatch.delenv("SEVA_DOCUMENT_STORE", raising=False)
    monkeypatch.setenv("SEVA_DOCUMENT_DIR", str(tmp_path / "docs"))
    store = document_store_from_env()
    assert isinstance(store, LocalDocumentStore) and store.root == tmp_path / "docs"
    monkeypatch.delenv("SEVA_DOCUMENT_DIR")
    default = document_store_from_env()
    assert isinstance(default, LocalDocumentStore)
    assert default.root == Path(__file__).resolve().parents[2] / "var" / "documents"


def test_store_from_env_refuses_what_it_cannot_use(monkeypatch):
    monkeypatch.setenv("SEVA_DOCUMENT_STORE", "s3")
    monkeypatch.delenv("SEVA_S3_BUCKET", raising=False)
    with pytest.raises(ValueError, match="SEVA_S3_BUCKET"):
        document_store_from_env()
    monkeypatch.setenv("SEVA_DOCUMENT_STORE", "ftp")
    with pytest.raises(ValueError, match="local or s3"):
        document_store_from_env()


# --- S3, against a real S3-compatible server -----------------------------------------------------

class MotoServer:
    """moto's S3-compatible server in a process group of its own, on a free port."""

    def __init__(self, log: Path):
        self.log = log
        self.process = None
        self.url = ""

    def start(self, attempts=5, timeout=60.0):
        for _ in range(attempts):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    with urllib.request.urlopen(self.url + "/moto-api/", timeout=2) as response:
                        if response.status == 200:
                            return self
                except (urllib.error.URLError, ConnectionError, OSError):
                    time.sleep(0.2)
            self.stop()  # died (port taken by another process in between) or never answered
        raise RuntimeError(f"moto server did not start: {self.log.read_text()[-2000:]}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(moto_s3, monkeypatch):
    """Credentials the standard way, and nothing of this machine's own AWS set-up."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return moto_s3


@pytest.fixture
def bucket(s3_env, request):
    import boto3

    name = "seva-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    client = boto3.client("s3", endpoint_url=s3_env.url, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return name


def test_s3_put_get_exists_and_one_object_per_content(s3_env, bucket, monkeypatch):
    store = S3DocumentStore(bucket, endpoint_url=s3_env.url, region="us-east-1")
    uploads = []
    real_put = store.client.put_object
    monkeypatch.setattr(store.client, "put_object", lambda **kw: uploads.append(kw["Key"]) or real_put(**kw))

    key = store.put(PDF, "application/pdf")
    assert key == key_for(PDF)
    assert store.put(PDF, "application/pdf") == key  # already there: not uploaded again
    assert len(uploads) == 1
    assert store.get(key) == PDF
    assert store.exists(key)

    digest = key.split(":")[1]
    listed = store.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"documents/{digest[:2]}/{digest[2:4]}/{digest}"]
    head = store.client.head_object(Bucket=bucket, Key=listed[0]["Key"], ChecksumMode="ENABLED")
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == len(PDF)
    assert head.get("ChecksumSHA256") == base64.b64encode(hashlib.sha256(PDF).digest()).decode()

    other = store.put(PHOTO, "image/jpeg")
    assert other != key and store.get(other) == PHOTO
    assert len(store.client.list_objects_v2(Bucket=bucket)["Contents"]) == 2


def test_s3_absent_and_bad_keys(s3_env, bucket):
    store = S3DocumentStore(bucket, endpoint_url=s3_env.url, region="us-east-1", prefix="citizen-docs/")
    absent = key_for(b"never stored")
    assert not store.exists(absent)
    with pytest.raises(KeyError):
        store.get(absent)
    for key in BAD_KEYS:
        for call in (store.get, store.exists, store.url_for):
            with pytest.raises(ValueError):
                call(key)
        with pytest.raises(ValueError):
            store.object_key(key)


def test_s3_link_opens_the_document(s3_env, bucket):
    store = S3DocumentStore(bucket, endpoint_url=s3_env.url, region="us-east-1")
    key = store.put(PHOTO, "image/jpeg")
    url = store.url_for(key)
    assert url and url.startswith(s3_env.url) and "Signature" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == PHOTO


def test_s3_damaged_object_is_not_returned_as_the_document(s3_env, bucket):
    store = S3DocumentStore(bucket, endpoint_url=s3_env.url, region="us-east-1")
    key = store.put(PDF, "application/pdf")
    store.client.put_object(Bucket=bucket, Key=store.object_key(key), Body=b"something else")
    with pytest.raises(CorruptDocument):
        store.get(key)


def test_store_from_env_s3(s3_env, bucket, monkeypatch):
    monkeypatch.setenv("SEVA_DOCUMENT_STORE", "s3")
    monkeypatch.setenv("SEVA_S3_BUCKET", bucket)
    monkeypatch.setenv("SEVA_S3_ENDPOINT_URL", s3_env.url)
    store = document_store_from_env()
    assert isinstance(store, S3DocumentStore)
    key = store.put(PHOTO, "image/jpeg")
    assert store.exists(key) and store.get(key) == PHOTO
