"""Inspect the bytes of a document a citizen sent (a WhatsApp ``image`` or ``document``).

Why: what a citizen uploads is kept and later opened by an officer, so we take only what we
can check: JPEG, PNG or WebP photos and PDFs, recognised by their content (magic bytes),
never by the file name or the MIME type the sender declared. Everything else, executables,
archives and Office files included, is ``not_allowed``.

- Photos are decoded in full with Pillow (a truncated or garbage file is caught here, not
  in an officer's viewer), turned upright by their EXIF orientation and encoded again with
  no metadata at all: a phone photo carries the GPS position of the citizen's home.
- PDFs are checked in a process of their own with time, CPU and memory limits
  (``seva/pdf_check.py`` explains its guards) and stored byte for byte as received.

``inspect`` returns ``Accepted`` or ``Refused``; a refusal carries a reason code only, the
replies to the citizen are written elsewhere (seva/messages) in their language.
"""
from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Dict, Optional, Sequence, Tuple, Union

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

MiB = 1 << 20
KINDS = ("photo", "pdf")
REASONS = (
    "too_large", "not_allowed", "corrupt_image", "corrupt_pdf", "encrypted_pdf",
    "pdf_bomb", "too_many_pages", "image_too_big",
)
PDF_CHECK = Path(__file__).with_name("pdf_check.py")
JPEG_QUALITY = 90
ICC_MAX_BYTES = 64 * 1024

# (format Pillow opens it as, MIME, extension) of what we keep, by the format it arrived in
PHOTO_OUT = {"JPEG": ("JPEG", "image/jpeg", "jpg"), "PNG": ("PNG", "image/png", "png")}
PNG_MODES = ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA")
JPEG_MODES = ("L", "RGB", "CMYK")
ICC_SPACE = {"RGB": b"RGB ", "RGBA": b"RGB ", "P": b"RGB ", "L": b"GRAY", "LA": b"GRAY", "CMYK": b"CMYK"}


@dataclass(frozen=True)
class Limits:
    """How much we take. ``from_env`` reads each from its variable (a byte count or number)."""

    image_max_bytes: int = 16 * MiB  # what WhatsApp itself lets through as an image
    document_max_bytes: int = 100 * MiB  # WhatsApp's document limit; lower it by configuration
    max_pages: int = 20
    max_pixels: int = 40_000_000  # a 40 MP photo; a larger image is refused before decoding
    pdf_max_objects: int = 20_000  # a 20-page form or scan has hundreds
    pdf_max_inflated_bytes: int = 256 * MiB  # all streams together, decoded (20 page scans fit)
    pdf_seconds: int = 15  # wall clock and CPU time of the PDF check
    pdf_memory_bytes: int = 512 * MiB  # address space of the check, plus 3x the document's size

    ENV: ClassVar[Dict[str, str]] = {
        "image_max_bytes": "SEVA_IMAGE_MAX_BYTES",
        "document_max_bytes": "SEVA_DOCUMENT_MAX_BYTES",
        "max_pages": "SEVA_DOCUMENT_MAX_PAGES",
        "max_pixels": "SEVA_IMAGE_MAX_PIXELS",
        "pdf_max_objects": "SEVA_PDF_MAX_OBJECTS",
        "pdf_max_inflated_bytes": "SEVA_PDF_MAX_INFLATED_BYTES",
        "pdf_seconds": "SEVA_PDF_SECONDS",
        "pdf_memory_bytes": "SEVA_PDF_MEMORY_BYTES",
    }

    @classmethod
    def from_env(cls, environ: Optional[Dict[str, str]] = None) -> "Limits":
        """The limits, each overridden by its variable when set (a positive whole number)."""
        env = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            name = cls.ENV[field.name]
            raw = (env.get(name) or "").strip()
            if not raw:
                continue
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
            values[field.name] = value
        return cls(**values)


@dataclass(frozen=True)
class Accepted:
    """A document we keep: ``data`` is what to store (a photo re-encoded, a PDF as received)."""

    kind: str  # "photo" | "pdf"
    mime: str
    extension: str
    data: bytes
    pages: int
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Refused:
    """A document we do not keep: ``reason`` is one of ``REASONS``, ``detail`` is for the logs."""

    reason: str
    detail: str


def sniff(data: bytes) -> str:
    """What the bytes are, by their magic numbers: "jpeg", "png", "webp", "pdf", or a name
    for the logs of what we do not take ("windows-executable", "zip", ..., "unknown")."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    for magic, name in (
        (b"MZ", "windows-executable"), (b"\x7fELF", "elf-executable"),
        (b"\xca\xfe\xba\xbe", "mach-o-or-java-class"), (b"\xcf\xfa\xed\xfe", "mach-o"),
        (b"\xfe\xed\xfa", "mach-o"), (b"#!", "script"), (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"),
        (b"PK\x07\x08", "zip"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole-office-or-msi"),
        (b"Rar!", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"), (b"GIF8", "gif"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
        (b"BM", "bmp"), (b"{\\rtf", "rtf"),
    ):
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "iso-media"  # HEIC photos, MP4 video
    if head.lstrip()[:1] == b"<":
        return "markup"  # HTML, SVG, XML
    return "unknown"


def inspect(
    data: bytes, accept: Sequence[str] = KINDS, limits: Optional[Limits] = None
) -> Union[Accepted, Refused]:
    """Decide whether to keep ``data`` and, if so, what to store; ``accept`` names the kinds
    ("photo", "pdf") the question being answered takes.

    Blocking (a photo is decoded here, a PDF waits for its check process, up to
    ``limits.pdf_seconds``): from an event loop, call it in a thread (``run_in_executor``)."""
    limits = limits or Limits.from_env()
    size = len(data)
    if size > max(limits.image_max_bytes, limits.document_max_bytes):
        return Refused("too_large", f"{size} bytes")
    found = sniff(data)
    kind = "pdf" if found == "pdf" else "photo" if found in ("jpeg", "png", "webp") else None
    if kind is None:
        return Refused("not_allowed", f"content is {found}")
    if kind not in accept:
        return Refused("not_allowed", f"a {kind} where {'/'.join(accept) or 'nothing'} is asked for")
    if kind == "photo":
        if size > limits.image_max_bytes:
            return Refused("too_large", f"{size} bytes, photos at most {limits.image_max_bytes}")
        return _photo(data, found, limits)
    if size > limits.document_max_bytes:
        return Refused("too_large", f"{size} bytes, documents at most {limits.document_max_bytes}")
    return _pdf(data, limits)


_STRICT = threading.Lock()


def _load_strictly(image: "Image.Image") -> None:
    """``image.load()`` refusing a truncated file. Pillow's switch for that is one global,
    and WeasyPrint (the receipt, same process in the action server) turns it on at import:
    off for our decode, under a lock, and back as it was."""
    from PIL import ImageFile

    with _STRICT:
        saved = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _photo(data: bytes, found: str, limits: Limits) -> Union[Accepted, Refused]:
    """Decode in full, turn upright, encode again without metadata."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data), formats=[found.upper()]) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                return Refused("image_too_big", f"{width}x{height} pixels, at most {limits.max_pixels}")
            _load_strictly(image)
            icc = image.info.get("icc_profile")
            try:
                upright = ImageOps.exif_transpose(image)
            except Exception:  # unreadable EXIF: keep the pixels as they are stored
                upright = image.copy()
    except Image.DecompressionBombError as error:
        return Refused("image_too_big", str(error))
    except MemoryError:
        return Refused("image_too_big", "out of memory decoding")
    except Exception as error:  # Pillow raises many kinds on damaged files: all mean unreadable
        return Refused("corrupt_image", f"{type(error).__name__}: {error}"[:300])
    data_out, mime, extension, upright = _encode(upright, found, icc if isinstance(icc, bytes) else None)
    return Accepted("photo", mime, extension, data_out, 1, upright.width, upright.height)


def _encode(image: "Image.Image", found: str, icc: Optional[bytes]) -> Tuple[bytes, str, str, "Image.Image"]:
    """The pixels alone, in the format we keep: JPEG stays JPEG, PNG stays PNG, WebP becomes
    PNG when it has transparency and JPEG otherwise. Only a harmless ICC profile goes along."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    target = "JPEG" if found == "jpeg" or (found == "webp" and not has_alpha) else "PNG"
    transparency = image.info.get("transparency") if target == "PNG" else None
    if target == "JPEG" and image.mode not in JPEG_MODES:
        image = image.convert("RGB")
    elif target == "PNG" and image.mode not in PNG_MODES:
        image = image.convert("RGBA")
    clean = image.copy()
    clean.info = {}  # EXIF (GPS), XMP, IPTC, comments, text chunks: nothing of the original
    params: Dict[str, object] = {}
    if icc is not None and _harmless_icc(icc, clean.mode):
        params["icc_profile"] = icc
    if target == "JPEG":
        params.update(quality=JPEG_QUALITY)
    elif transparency is not None and clean.mode in ("P", "L", "RGB", "1"):
        params["transparency"] = transparency
    out = io.BytesIO()
    clean.save(out, format=target, **params)
    _, mime, extension = PHOTO_OUT[target]
    return out.getvalue(), mime, extension, clean


def _harmless_icc(icc: bytes, mode: str) -> bool:
    """A colour profile is kept when it is small, well formed and for the image's colour space;
    it describes colours, but an odd one could carry anything in its text tags."""
    if not 132 <= len(icc) <= ICC_MAX_BYTES or icc[36:40] != b"acsp":
        return False
    if int.from_bytes(icc[0:4], "big") != len(icc):
        return False
    return ICC_SPACE.get(mode) == icc[16:20]


def _pdf(data: bytes, limits: Limits) -> Union[Accepted, Refused]:
    """Run seva/pdf_check.py on ``data`` under a timeout and map its verdict."""
    settings = {
        "max_pages": limits.max_pages,
        "max_objects": limits.pdf_max_objects,
        "max_inflated_bytes": limits.pdf_max_inflated_bytes,
        "max_pixels": limits.max_pixels,
        "cpu_seconds": limits.pdf_seconds,
        "memory_bytes": limits.pdf_memory_bytes + 3 * len(data),
    }
    command = [sys.executable, "-I", str(PDF_CHECK), json.dumps(settings)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    try:
        run = subprocess.run(
            command, input=data, capture_output=True, timeout=limits.pdf_seconds, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        return Refused("pdf_bomb", f"checking took longer than {limits.pdf_seconds} s")
    if run.returncode == 3:
        raise RuntimeError(f"the PDF check cannot run: {run.stderr.decode(errors='replace').strip()}")
    if run.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return Refused("pdf_bomb", f"checking used more than {limits.pdf_seconds} s of CPU")
    try:
        verdict = json.loads(run.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = run.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        logger.warning("PDF check ended with %s and no verdict: %s", run.returncode, tail[0])
        if "MemoryError" in tail[0]:
            return Refused("pdf_bomb", "checking ran out of memory")
        return Refused("corrupt_pdf", f"the check ended with {run.returncode}")
    if "refused" in verdict:
        reason = str(verdict["refused"])
        return Refused(reason if reason in REASONS else "corrupt_pdf", str(verdict.get("detail", "")))
    return Accepted("pdf", "application/pdf", "pdf", data, int(verdict["pages"]))
