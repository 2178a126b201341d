"""The acknowledgement receipt: one A4 page, as a PDF, in the citizen's language and script.

ORTPSA promises the applicant an acknowledgement that names the last date; after submission
Seva sends one as a PDF (issue 19). It holds the reference (also as a QR code), the service,
the answers given (Aadhaar and phone numbers masked), the documents attached, the time
limit in working days with the due date, and the officers who decide and hear an appeal,
each taken from the catalog ("not known" where the catalog does not say: never guessed).

Why WeasyPrint: it lays text out with Pango, which shapes it with HarfBuzz, so Odia and
Devanagari conjuncts, the reph and the vowel signs written before a consonant come out as a
reader expects. A PDF library that maps each code point to one glyph draws ପ୍ରମାଣପତ୍ର as
loose letters and virama signs (tests/unit/test_receipt.py compares the glyphs with
HarfBuzz's). The Noto families are named in the CSS, and the rendered document is checked:
a receipt whose Odia or Devanagari text was not set in its Noto font, or that has a glyph no
font could draw (a box), raises ``ReceiptFontError`` instead of being sent.

Nothing is fetched: the QR code and the shipped font are data URIs and only data URIs are
allowed, so nothing in a page can make the renderer read a file or reach the network (and a
citizen's answers are escaped). Before the PDF is written, a shift WeasyPrint leaves at the
end of a run of glyphs is moved to the next run, because PDFium (Chrome, Android's viewer)
drops it (``_carry_trailing_kerning``).

``python -m seva.receipt sample --language or --out docs/receipt-or.png`` renders the sample
income-certificate application the docs show (``.pdf`` for the PDF itself).
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import functools
import html
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import segno

from seva import clock, messages
from seva.catalog import Catalog, Field, Service, default_catalog
from seva.formatting import rupees
from seva.language import DEFAULT_LANGUAGE, supported
from seva.privacy import mask_phone
from seva.store import Application, due_date

# The families the receipt is set in, named in the CSS. Noto Sans and Noto Sans Devanagari
# come from the system (Debian's fonts-noto-core). Odia is set in Noto Sans Oriya 2.007,
# shipped in seva/fonts/ (OFL) under a family name of its own: the 2.000 that Debian 12
# installs has no anchors on its i-matra ligatures (notofonts/noto-fonts#2381), so ନାହିଁ
# and ବାର୍ଷିକ come out with the vowel sign floating after the letter.
LATIN_FONT = "Noto Sans"
SCRIPT_FONTS = {"or": "Seva Noto Sans Oriya", "hi": "Noto Sans Devanagari"}
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
SHIPPED_FONTS = {  # family -> {CSS weight: file in FONTS_DIR}
    "Seva Noto Sans Oriya": {400: "NotoSansOriya-Regular.woff2", 700: "NotoSansOriya-Bold.woff2"},
}
_SCRIPT_TEXT = {  # which characters need which script font (the dandas are shared: not counted)
    "or": re.compile(r"[\u0b00-\u0b7f]"),
    "hi": re.compile(r"[\u0900-\u0963\u0966-\u097f]"),
}
# Body text in points, largest first: a phone shows an A4 page about 0.6 times its size, so
# 15 pt reads like 9 to 10 pt; the smaller sizes are for long answers (a 300-letter address).
TYPE_SIZES = (15.0, 13.5, 12.0, 10.5)
_AADHAAR = re.compile(r"aa?dhaa?r", re.IGNORECASE)  # aadhaar, aadhar, adhar (not "sadar"): ids, types


class ReceiptFontError(RuntimeError):
    """The receipt would not show its text: a script's font is missing or a glyph is a box."""


@dataclass(frozen=True)
class ReceiptDocument:
    """A document the citizen attached: its label as shown, and ``kind`` "photo" or "pdf"."""

    name: str
    kind: str


def fmt_date(value: Optional[dt.date]) -> str:
    """dd/mm/yyyy, as the chat shows dates (actions/common.py's fmt_date)."""
    return value.strftime("%d/%m/%Y") if value else ""


def is_aadhaar(field: Field) -> bool:
    """Whether a field holds an Aadhaar number: its id or its type says so."""
    return bool(_AADHAAR.search(field.id) or _AADHAAR.search(field.type))


def mask_aadhaar(value: Any) -> str:
    """``1234 5678 9012`` → ``XXXX XXXX 9012``: the last four digits, as UIDAI's masked Aadhaar."""
    digits = re.sub(r"\D", "", str(value or ""))
    return f"XXXX XXXX {digits[-4:] if len(digits) >= 4 else 'XXXX'}"


def display_answer(field: Field, value: Any, lang: str, catalog: Catalog) -> str:
    """An answer as the citizen reads it back: the confirmation summary's rules
    (actions/application_form.py ``display``) with this catalog, plus masking for a receipt
    that leaves the chat: Aadhaar to its last four digits, phone numbers as in the logs."""
    if value in (None, ""):
        return "—"
    if is_aadhaar(field):
        return mask_aadhaar(value)
    if field.type == "phone":
        return mask_phone(value)
    if field.type == "district":
        district = catalog.districts.get(value)
        return district.name(lang) if district else str(value)
    if field.type == "choice":
        for choice in field.choice_list():
            if choice["id"] == value:
                return str(choice["label"][lang])
    if field.type == "yes_no":
        return messages.text("yes" if value else "no", lang)
    if field.type == "amount":
        return rupees(value)
    if field.type == "document" and isinstance(value, dict):  # the file is listed under the documents
        kind = value.get("kind")
        return messages.text(f"receipt_document_{kind}", lang) if kind in ("photo", "pdf") else "—"
    return str(value)


def qr_code(reference: str) -> segno.QRCode:
    """The QR code of the reference: a full QR (phones do not all read Micro QR), level Q or better."""
    return segno.make_qr(reference, error="q")


def _answers(application: Application, service: Optional[Service], lang: str,
             catalog: Catalog) -> List[Tuple[str, str]]:
    """(label, shown value) in the form's order; an answer whose field has since left the
    catalog is still shown, under its id (masked if the id says Aadhaar)."""
    fields = list(service.fields) if service else []
    rows = [(f.label.get(lang) or f.label.get("en") or f.id,
             display_answer(f, application.fields.get(f.id), lang, catalog)) for f in fields]
    known = {f.id for f in fields}
    for key, value in application.fields.items():
        if key not in known:
            orphan = Field(key, "text", {}, {})
            rows.append((key, display_answer(orphan, value, lang, catalog)))
    return rows


def _documents(documents: Sequence[ReceiptDocument], lang: str) -> List[str]:
    kinds = {"photo": "receipt_document_photo", "pdf": "receipt_document_pdf"}
    shown = []
    for document in documents:
        kind = kinds.get(document.kind.lower())
        shown.append(f"{document.name} ({messages.text(kind, lang)})" if kind else document.name)
    return shown


def _facts(application: Application, service: Optional[Service], lang: str) -> List[Tuple[str, str]]:
    unknown = messages.text("unknown_value", lang)
    if application.time_limit_days:
        limit = messages.text("receipt_time_limit_days", lang, days=application.time_limit_days)
    elif service is not None and service.time_limit_text:
        limit = f"“{service.time_limit_text}”"  # the source's own words: not turned into a number
    else:
        limit = unknown
    if application.due_date is None:
        due = unknown
    elif application.due_date_exact:
        due = fmt_date(application.due_date)
    else:
        due = messages.text("receipt_due_about", lang, date=fmt_date(application.due_date))
    rows = [
        (messages.text("receipt_service", lang), service.name(lang) if service else application.service_id),
        (messages.text("receipt_submitted_on", lang), fmt_date(application.submitted_on)),
    ]
    if application.sender_id.isdigit():
        rows.append((messages.text("receipt_whatsapp", lang), mask_phone(application.sender_id)))
    designated = service.officer("designated", lang) if service else None
    appellate = service.officer("appellate", lang) if service else None
    rows += [
        (messages.text("receipt_time_limit", lang), limit),
        (messages.text("receipt_due", lang), due),
        (messages.text("receipt_designated", lang), designated or unknown),  # never guessed
        (messages.text("receipt_appellate", lang), appellate or unknown),
    ]
    return rows


_CSS = """
@page { size: A4; margin: 13mm 14mm 11mm 14mm; }
html { font-family: %(families)s; font-size: %(size)spt; line-height: 1.38; color: #16202a; }
body { margin: 0; }
.brand { font-size: 0.72rem; color: #3d5566; border-bottom: 0.9mm solid #0f6b7a; padding-bottom: 1.2mm; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 2.5mm 0 0 0; color: #0f4f5a; font-weight: bold; }
.lead { font-size: 0.95rem; margin: 0.5mm 0 3mm 0; }
table { width: 100%%; border-collapse: collapse; }
.top td { vertical-align: top; padding: 0; }
.ref-box { background: #eef5f6; border: 0.4mm solid #b8d3d8; border-radius: 2mm; padding: 3mm 4mm; }
.ref-label { font-size: 0.8rem; color: #3d5566; }
.ref-no { font-size: 1.75rem; font-weight: bold; letter-spacing: 0.04em; white-space: nowrap; color: #0b2530; }
.qr-cell { width: 36mm; text-align: center; padding-left: 4mm; }
.qr { width: 32mm; height: 32mm; display: block; margin: 0 auto; }
.qr-caption { font-size: 0.6rem; color: #3d5566; line-height: 1.2; margin-top: 0.8mm; }
.rows th, .rows td { text-align: left; vertical-align: top; border-bottom: 0.25mm solid #d5dde2;
                     padding: 1mm 0; }
.rows th { width: 37%%; font-weight: normal; font-size: 0.78rem; color: #3d5566; padding-right: 3mm;
           padding-top: 1.5mm; }
.rows td { font-size: 1rem; overflow-wrap: anywhere; }
h2 { font-size: 0.86rem; color: #0f4f5a; margin: 3.5mm 0 0.5mm 0; font-weight: bold; }
ul { margin: 0.5mm 0 0 0; padding-left: 6mm; }
li { font-size: 1rem; overflow-wrap: anywhere; }
.none { margin: 0.5mm 0 0 0; }
.note { font-size: 0.82rem; margin: 3.5mm 0 0 0; padding: 2mm 3mm; background: #fff6e5;
        border-left: 1.2mm solid #e0a030; }
.note p { margin: 0; }
.note p + p { margin-top: 1mm; }
footer { font-size: 0.62rem; color: #55697a; margin-top: 3.5mm; border-top: 0.25mm solid #d5dde2;
         padding-top: 1.2mm; }
"""


@functools.lru_cache(maxsize=1)
def font_face_css() -> str:
    """@font-face rules for the fonts shipped in seva/fonts/, as data URIs: the renderer is
    allowed data URIs only, so it reads no file and no network while rendering."""
    rules = []
    for family, files in SHIPPED_FONTS.items():
        for weight, name in files.items():
            path = FONTS_DIR / name
            if not path.is_file():
                raise ReceiptFontError(f"{path} is missing: the receipt's {family} font ships with Seva")
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            rules.append(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: normal; '
                         f'src: url(data:font/woff2;base64,{data}) format("woff2"); }}')
    return "\n".join(rules)


def _font_list(lang: str) -> str:
    """The CSS font list: Latin first, then the receipt language's script (the dandas।॥ are
    in both Indic fonts, and should look like the text around them), then the other one."""
    scripts = sorted(SCRIPT_FONTS, key=lambda script: script != lang)
    return ", ".join(f'"{name}"' for name in (LATIN_FONT, *(SCRIPT_FONTS[s] for s in scripts)))


def _rows(rows: Iterable[Tuple[str, str]]) -> str:
    esc = html.escape
    return "".join(f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>" for label, value in rows)


def receipt_html(application: Application, catalog: Catalog, language: str,
                 documents: Sequence[ReceiptDocument] = (), *,
                 generated_on: Optional[dt.date] = None, type_size: float = TYPE_SIZES[0]) -> str:
    """The receipt as a self-contained HTML page (WeasyPrint renders it; every citizen's
    text escaped). ``generated_on`` defaults to today in India; ``type_size`` is the body
    text in points (``render_receipt`` takes a smaller one when the answers are long)."""
    lang = supported(language) or DEFAULT_LANGUAGE
    esc = html.escape
    service = catalog.get(application.service_id)
    reference = application.reference
    text = messages.text
    shown_documents = _documents(documents, lang)
    if shown_documents:
        documents_html = "<ul>" + "".join(f"<li>{esc(d)}</li>" for d in shown_documents) + "</ul>"
    else:
        documents_html = f'<p class="none">{esc(text("receipt_documents_none", lang))}</p>'
    qr_uri = qr_code(reference).svg_data_uri(border=0, dark="#0b2530")
    generated = fmt_date(generated_on or clock.today_ist())
    css = _CSS % {"families": _font_list(lang), "size": f"{type_size:g}"}
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{esc(text("receipt_title", lang))} {esc(reference)}</title>
<meta name="generator" content="Seva">
<style>{css}</style>
</head>
<body>
<div class="brand">{esc(text("receipt_brand", lang))}</div>
<h1>{esc(text("receipt_title", lang))}</h1>
<p class="lead">{esc(text("receipt_lead", lang))}</p>
<table class="top"><tr>
<td><div class="ref-box">
<div class="ref-label">{esc(text("receipt_reference", lang))}</div>
<div class="ref-no">{esc(reference)}</div>
</div></td>
<td class="qr-cell"><img class="qr" src="{esc(qr_uri)}" alt="{esc(reference)}">
<div class="qr-caption">{esc(text("receipt_qr", lang))}</div></td>
</tr></table>
<table class="rows facts">{_rows(_facts(application, service, lang))}</table>
<h2>{esc(text("receipt_answers", lang))}</h2>
<table class="rows answers">{_rows(_answers(application, service, lang, catalog))}</table>
<h2>{esc(text("receipt_documents", lang))}</h2>
{documents_html}
<div class="note">
<p>{esc(text("receipt_appeal", lang))}</p>
<p>{esc(text("receipt_status_hint", lang, reference=reference))}</p>
</div>
<footer>{esc(text("receipt_footer", lang, date=generated))}</footer>
</body>
</html>
"""


def _check_fonts(document: Any, page_html: str) -> None:
    """Refuse a rendering that would show boxes or the wrong font (see the module docstring).

    ``document.fonts`` holds the faces WeasyPrint embedded, after ``write_pdf``; a face's
    ``missing`` lists the characters it had to draw without a glyph."""
    fonts = list(document.fonts.values())
    used = {font.family for font in fonts}
    problems = []
    for script, family in SCRIPT_FONTS.items():
        if _SCRIPT_TEXT[script].search(page_html) and family not in used:
            problems.append(f"{family} was not used for the {'Odia' if script == 'or' else 'Devanagari'} "
                            f"text (fonts used: {', '.join(sorted(used)) or 'none'})")
    for font in fonts:
        missing = getattr(font, "missing", None) or {}
        if missing:
            chars = " ".join(f"U+{ord(c) if isinstance(c, str) else c:04X}" for c in sorted(missing))
            problems.append(f"{font.family} has no glyph for {chars}")
    if problems:
        raise ReceiptFontError("the receipt cannot be rendered readably: " + "; ".join(problems)
                               + ". Install the Noto fonts (Debian: apt-get install fonts-noto-core).")


_TF = re.compile(rb"^/\S+ (-?[\d.]+) Tf$")
_NUMBER_TAIL = re.compile(rb"(-?\d+(?:\.\d*)?|-?\.\d+)$")
_MOVES_TO_A_LINE = (b"Tm", b"Td", b"TD", b"T*", b"'", b'"', b"ET", b"BT")


def _carry_trailing_kerning(lines: List[Any]) -> List[Any]:
    """The same text with each TJ array's trailing number moved to the start of the next TJ.

    WeasyPrint ends a glyph run with a number when its last glyph is a mark placed with an
    offset (ୁ, ି, ଁ after a consonant). PDFium, which draws PDFs in Chrome and in Android's
    own viewer (where a citizen opens the receipt), drops a TJ array's last number, so the
    next run (a space, a quote, a bracket in Noto Sans) lands over the previous letter:
    "ସେବାକୁ “ସ୍ଥିତି" read "ସେବାକୁ“ସ୍ଥିତି". The number is kept, in text space, and put at
    the head of the next array, which every reader applies; before a new line it moves
    nothing, so it is dropped."""
    out: List[Any] = []
    size = 1.0
    carried = 0.0  # text-space units (thousandths of an em times the font size)
    for line in lines:
        raw = line.encode("latin-1") if isinstance(line, str) else line
        if not isinstance(raw, bytes):
            out.append(line)
            continue
        if (match := _TF.match(raw)) is not None:
            size = float(match.group(1)) or 1.0
        elif raw.split()[-1:] and raw.split()[-1] in _MOVES_TO_A_LINE:
            carried = 0.0
        elif raw.startswith(b"[") and raw.endswith(b"] TJ"):
            body = raw[1:-4]
            if carried:
                body = f"{carried / size:.3f}".encode() + body
                carried = 0.0
            strings_end = body.rfind(b">") + 1
            tail = _NUMBER_TAIL.search(body[strings_end:])
            if tail is not None:
                carried = float(tail.group(1)) * size
                body = body[:strings_end + tail.start()]
            if not body:
                continue  # the array was only a shift: carried on to the next one
            raw = b"[" + body + b"] TJ"
            line = raw
        out.append(line)
    return out


def _finish_pdf(document: Any, pdf: Any) -> None:
    """WeasyPrint's finisher: rewrite each content stream's text (``_carry_trailing_kerning``)."""
    import pydyf

    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and any(
                isinstance(line, bytes) and line.endswith(b"] TJ") for line in obj.stream):
            obj.stream = _carry_trailing_kerning(obj.stream)


def render_receipt(application: Application, catalog: Catalog, language: str,
                   documents: Sequence[ReceiptDocument] = (), *,
                   generated_on: Optional[dt.date] = None) -> bytes:
    """The receipt as a one-page PDF. Raises ``ReceiptFontError`` rather than send a PDF
    with boxes for letters."""
    from weasyprint import CSS, HTML, URLFetcher  # imported here: Pango loads only when a receipt is made
    from weasyprint.text.fonts import FontConfiguration

    fetcher = URLFetcher(allowed_protocols={"data"})  # the QR code and the fonts; never a file or the network
    font_config = FontConfiguration()  # one per receipt: WeasyPrint's @font-face fonts live in it
    fonts = CSS(string=font_face_css(), url_fetcher=fetcher, font_config=font_config)
    page_html = ""
    document = None
    for type_size in TYPE_SIZES:  # the largest type that keeps it on one page
        page_html = receipt_html(application, catalog, language, documents,
                                 generated_on=generated_on, type_size=type_size)
        document = HTML(string=page_html, url_fetcher=fetcher).render(stylesheets=[fonts], font_config=font_config)
        if len(document.pages) == 1:
            break
    assert document is not None
    pdf = document.write_pdf(finisher=_finish_pdf)
    _check_fonts(document, page_html)
    return bytes(pdf)


def render_png(pdf: bytes, page: int = 0, scale: float = 1.5) -> bytes:
    """One page of a PDF as PNG (``scale`` 1 = 72 dpi), for the docs and a visual check;
    WeasyPrint has no PNG output since version 53, PDFium draws it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page].render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        document.close()


# --- the sample the docs show ---------------------------------------------------------------
SAMPLE_REFERENCE = "ORT-7K3M-9QXF"  # the README's example
_SAMPLE_ANSWERS = {
    "en": ("Ramesh Kumar Das", "Hari Prasad Das"),
    "hi": ("रमेश कुमार दास", "हरि प्रसाद दास"),
    "or": ("ରମେଶ କୁମାର ଦାସ", "ହରି ପ୍ରସାଦ ଦାସ"),
}
_SAMPLE_DOCUMENTS = {
    "en": (("Ration card", "photo"), ("Income affidavit", "pdf")),
    "hi": (("राशन कार्ड", "photo"), ("आय का शपथ पत्र", "pdf")),
    "or": (("ରାସନ କାର୍ଡ", "photo"), ("ଆୟ ସମ୍ପର୍କିତ ଶପଥପତ୍ର", "pdf")),
}


def sample_application(language: str, catalog: Catalog, reference: str = SAMPLE_REFERENCE,
                       submitted_at: Optional[dt.datetime] = None) -> Tuple[Application, List[ReceiptDocument]]:
    """A realistic income-certificate application in ``language`` and its attachments."""
    lang = supported(language) or DEFAULT_LANGUAGE
    service = catalog.services["income_certificate"]
    submitted_at = submitted_at or dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.timezone.utc)  # 10:30 in India
    name, father = _SAMPLE_ANSWERS[lang]
    fields: Dict[str, Any] = {"applicant_name": name, "father_name": father, "district": "khordha",
                              "annual_income": 84000, "purpose": "education"}
    application = Application(
        reference=reference, sender_id="919876543210", service_id=service.id, language=lang,
        fields=fields, status="submitted", submitted_at=submitted_at,
        time_limit_days=service.time_limit_days, due_date=due_date(submitted_at, service.time_limit_days))
    return application, [ReceiptDocument(n, k) for n, k in _SAMPLE_DOCUMENTS[lang]]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seva.receipt", description="Acknowledgement receipts.")
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="render the sample income-certificate receipt")
    sample.add_argument("--language", choices=("en", "hi", "or"), default="or")
    sample.add_argument("--out", required=True, help="a .png (page 1) or .pdf file")
    sample.add_argument("--scale", type=float, default=1.5, help="PNG scale, 1 = 72 dpi")
    args = parser.parse_args(argv)
    catalog = default_catalog()
    application, documents = sample_application(args.language, catalog)
    pdf = render_receipt(application, catalog, args.language, documents,
                         generated_on=application.submitted_on)
    out = Path(args.out)
    out.write_bytes(render_png(pdf, scale=args.scale) if out.suffix.lower() == ".png" else pdf)
    print(f"{out}: {application.reference}, {args.language}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
