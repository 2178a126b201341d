"""What a document costs the assistant: checking what citizens send and rendering receipts.

Times the work one turn does on 2 cores (the median of ``--runs`` runs after one warm-up):
``seva.documents.inspect`` on a 12-megapixel phone photo with GPS EXIF (decoded, turned
upright, re-encoded without metadata), on a 10-page PDF and on a password-locked PDF (the
PDF checks run in a limited child process), and ``seva.receipt.render_receipt`` per
language. The photo row is the baseline of the ratios.

    .venv/bin/python -m bench.documents [--runs 5]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def phone_photo() -> bytes:
    from PIL import Image

    image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (20.0, 17.0, 44.0), 3: "E", 4: (85.0, 49.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def timed(work: Callable[[], object], runs: int) -> float:
    work()  # warm-up: imports, fonts, the first child process
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from seva import documents
    from seva.catalog import default_catalog
    from seva.receipt import render_receipt, sample_application
    from tests.unit.test_documents import writer_pdf  # the tests' PDFs: one way to make them

    photo, ten_pages, locked = phone_photo(), writer_pdf(10), writer_pdf(1, encrypt=True)
    catalog = default_catalog()
    rows: List[Tuple[str, int, float, str]] = []
    for name, data in (("phone photo 12 MP with GPS EXIF", photo), ("PDF, 10 pages", ten_pages),
                       ("PDF, password-locked", locked)):
        outcome = documents.inspect(data)
        verdict = outcome.reason if isinstance(outcome, documents.Refused) else f"kept {len(outcome.data)} bytes"
        rows.append((name, len(data), timed(lambda d=data: documents.inspect(d), args.runs), verdict))
    for language in ("or", "hi", "en"):
        application, attached = sample_application(language, catalog)
        pdf_bytes = render_receipt(application, catalog, language, attached)
        rows.append((f"receipt, {language}", len(pdf_bytes),
                     timed(lambda a=application, lang=language, d=attached: render_receipt(a, catalog, lang, d),
                           args.runs), "one page"))
    base = rows[0][2]
    print("| work | input bytes | median s | × photo | result |\n|---|---:|---:|---:|---|")
    for name, size, seconds, verdict in rows:
        print(f"| {name} | {size:,} | {seconds:.3f} | {seconds / base:.2f} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
