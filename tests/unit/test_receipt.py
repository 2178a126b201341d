"""The acknowledgement receipt (seva/receipt.py, issue 19): shaped Odia and Devanagari, the
facts, masking, the QR code and one page.

How the glyph comparison works (``test_*_glyphs_are_harfbuzz_shaping``):

1. Which glyphs the PDF draws. WeasyPrint embeds each face as a Type0 font with
   ``/Encoding /Identity-H`` and a CIDFontType2 descendant with ``/CIDToGIDMap /Identity``
   (both asserted), so every two bytes of a ``TJ`` string are a glyph id of the embedded
   TrueType program (``FontFile2``). The content stream is tokenised here and the ids are
   collected per font, one list per run of text (a new line, ``Tm``, starts a new run).
2. Which font file those ids belong to. The embedded program is a subset, and ids are only
   comparable with the original's if the subsetter kept them (WeasyPrint asks HarfBuzz's
   subsetter for ``RETAIN_GIDS``). This is checked, not assumed: every glyph id the page
   uses must draw the same outline (components decomposed) with the same advance in the
   embedded program as in exactly one candidate file of that family (regular or bold) —
   Noto Sans Devanagari from the system, Noto Sans Oriya from seva/fonts/.
3. What shaping should give. uharfbuzz shapes the word with that original file (the
   script guessed, the language of the page), giving glyph ids; the PDF must contain that
   sequence. The naive sequence, each code point's glyph from the cmap (what a renderer
   without shaping draws), must differ from it for a word with conjuncts and must not be in
   the PDF.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import io
import os
import re
import subprocess
import sys
import textwrap
import threading
from functools import lru_cache
from html import unescape
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pypdf
import pytest
import uharfbuzz as hb
import zxingcpp
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from PIL import Image

from seva import receipt
from seva.catalog import Field, default_catalog
from seva.store import Application, due_date

ROOT = Path(__file__).resolve().parents[2]
SERVICE_NAMES = {"en": "Income certificate", "hi": "आय प्रमाण पत्र", "or": "ଆୟ ପ୍ରମାଣପତ୍ର"}


# --- reading the PDF ------------------------------------------------------------------------
_TOKEN = re.compile(rb"""
    \s+ | %[^\r\n]* (?P<skip>)
  | (?P<hex><[0-9A-Fa-f\s]*>)
  | (?P<literal>\((?:\\.|[^\\()])*\))
  | (?P<open>\[) | (?P<close>\])
  | (?P<dict><<|>>)
  | (?P<name>/[^\s/\[\]()<>{}%]*)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+))
  | (?P<op>[A-Za-z'"*][A-Za-z0-9'"*]*)
""", re.VERBOSE)


def _operations(content: bytes) -> List[Tuple[bytes, list]]:
    """(operator, operands) of a content stream; hex strings as bytes, numbers as floats."""
    operations: List[Tuple[bytes, list]] = []
    stack: list = []
    arrays: List[list] = []
    for match in _TOKEN.finditer(content):
        kind = match.lastgroup
        if kind is None or kind in ("skip", "dict"):
            continue
        raw = match.group(kind)
        if kind == "hex":
            value: object = bytes.fromhex(re.sub(rb"\s", b"", raw[1:-1]).decode())
        elif kind == "literal":
            value = raw[1:-1]
        elif kind == "number":
            value = float(raw)
        elif kind == "name":
            value = raw.decode()
        elif kind == "open":
            arrays.append([])
            continue
        elif kind == "close":
            value = arrays.pop()
        else:
            operations.append((raw, stack))
            stack = []
            continue
        (arrays[-1] if arrays else stack).append(value)
    return operations


@dataclasses.dataclass
class EmbeddedFont:
    name: str  # BaseFont, e.g. ABCDEF+Seva-Noto-Sans-Oriya-Bold
    program: TTFont  # the embedded FontFile2
    runs: List[List[int]]  # glyph ids drawn, one list per run of text
    original: Optional[Path] = None


def embedded_fonts(pdf: bytes) -> Dict[str, EmbeddedFont]:
    """Page 1's fonts by resource name, with the glyph ids the page draws in each."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    fonts: Dict[str, EmbeddedFont] = {}
    for resource, ref in page["/Resources"]["/Font"].items():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0" and font["/Encoding"] == "/Identity-H", font
        descendant = font["/DescendantFonts"][0].get_object()
        assert descendant["/Subtype"] == "/CIDFontType2" and descendant["/CIDToGIDMap"] == "/Identity"
        program = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        fonts[resource] = EmbeddedFont(str(font["/BaseFont"]), TTFont(io.BytesIO(program)), [])
    current: Optional[EmbeddedFont] = None
    for operator, operands in _operations(page.get_contents().get_data()):
        if operator == b"Tf":
            current = fonts[operands[0]]
            current.runs.append([])
        elif operator in (b"Tm", b"Td", b"TD", b"T*", b"BT", b"ET"):  # a new line: runs end
            for font in fonts.values():
                if font.runs and font.runs[-1]:
                    font.runs.append([])
        elif operator in (b"TJ", b"Tj") and current is not None:
            items = operands[0] if operator == b"TJ" else operands
            for item in items:
                if isinstance(item, bytes):
                    current.runs[-1].extend(int.from_bytes(item[i:i + 2], "big") for i in range(0, len(item), 2))
    return fonts


# --- the original font files ----------------------------------------------------------------
@lru_cache(maxsize=None)
def font_file(path: Path) -> Tuple[TTFont, bytes]:
    """A font file as fontTools reads it and as bare TrueType bytes (WOFF2 unpacked) for HarfBuzz."""
    font = TTFont(str(path))
    if font.flavor:
        font.flavor = None
        out = io.BytesIO()
        font.save(out)
        font = TTFont(io.BytesIO(out.getvalue()))
        return font, out.getvalue()
    return font, path.read_bytes()


def candidates(base_font: str) -> List[Path]:
    """The files a PDF font may have been cut from: its family's faces."""
    family = base_font.split("+", 1)[-1].replace("-Bold", "").replace("-", " ")
    shipped = receipt.SHIPPED_FONTS.get(family)
    if shipped:
        return [receipt.FONTS_DIR / name for name in shipped.values()]
    listed = subprocess.run(["fc-list", f":family={family}", "file"], capture_output=True, text=True, check=True)
    return sorted(Path(line.strip().rstrip(":")) for line in listed.stdout.splitlines() if line.strip())


def _outline(font: TTFont, glyph_id: int) -> Tuple[int, list]:
    name = font.getGlyphOrder()[glyph_id]
    glyph_set = font.getGlyphSet()
    pen = DecomposingRecordingPen(glyph_set)
    glyph_set[name].draw(pen)
    return font["hmtx"][name][0], pen.value


def identify(embedded: EmbeddedFont) -> Path:
    """The one candidate file whose glyphs, at the ids the page uses, are the embedded ones."""
    used = sorted({gid for run in embedded.runs for gid in run})
    matches = []
    for path in candidates(embedded.name):
        original, _ = font_file(path)
        if len(original.getGlyphOrder()) < len(embedded.program.getGlyphOrder()):
            continue
        if all(_outline(original, gid) == _outline(embedded.program, gid) for gid in used):
            matches.append(path)
    assert len(matches) == 1, (embedded.name, matches)
    return matches[0]


def shaped(path: Path, word: str, language: str) -> List[int]:
    _, data = font_file(path)
    buffer = hb.Buffer()
    buffer.add_str(word)
    buffer.guess_segment_properties()
    buffer.language = language
    hb.shape(hb.Font(hb.Face(data)), buffer, {})
    return [info.codepoint for info in buffer.glyph_infos]


def naive(path: Path, word: str) -> List[int]:
    """Each code point's own glyph from the cmap: a renderer that does not shape."""
    font, _ = font_file(path)
    cmap = font.getBestCmap()
    return [font.getGlyphID(cmap[ord(char)]) for char in word]


def contains(run: Sequence[int], part: Sequence[int]) -> bool:
    return any(list(run[i:i + len(part)]) == list(part) for i in range(len(run) - len(part) + 1))


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.fixture(scope="module")
def receipts(catalog) -> Dict[str, bytes]:
    """The sample receipt in each language, rendered once for the module."""
    out = {}
    for lang in ("en", "hi", "or"):
        application, documents = receipt.sample_application(lang, catalog)
        out[lang] = receipt.render_receipt(application, catalog, lang, documents,
                                           generated_on=application.submitted_on)
    return out


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    return "".join(text.split())


# --- shaping --------------------------------------------------------------------------------
@dataclasses.dataclass
class Shaping:
    """One PDF font's glyphs for a word: HarfBuzz's, the unshaped ones, which the PDF holds."""

    path: Path
    harfbuzz: List[int]
    unshaped: List[int]
    found: bool
    found_unshaped: bool


def shapings(pdf: bytes, word: str, language: str, family: str) -> List[Shaping]:
    """``word`` against each face of ``family`` in the PDF (regular, bold)."""
    fonts = [f for f in embedded_fonts(pdf).values() if family.replace(" ", "-") in f.name and any(f.runs)]
    assert fonts, f"no {family} in the PDF"
    out = []
    for font in fonts:
        path = identify(font)
        expected, unshaped = shaped(path, word, language), naive(path, word)
        out.append(Shaping(path, expected, unshaped, any(contains(run, expected) for run in font.runs),
                           any(contains(run, unshaped) for run in font.runs)))
    return out


@pytest.mark.parametrize("word", ["ପ୍ରମାଣପତ୍ର", "ଆବେଦନ", "ସନ୍ଦର୍ଭ", "ନାହିଁ", "ବାର୍ଷିକ", "କାର୍ଯ୍ୟ"])
def test_odia_glyphs_are_harfbuzz_shaping(receipts, word):
    results = shapings(receipts["or"], word, "or", receipt.SCRIPT_FONTS["or"])
    assert any(r.found for r in results), f"{word}: HarfBuzz's glyphs are not in the PDF"
    for r in results:
        assert r.unshaped == r.harfbuzz or not r.found_unshaped, f"{word}: drawn unshaped in {r.path.name}"


@pytest.mark.parametrize("word", ["प्रमाण", "आवेदन", "संदर्भ", "स्थिति", "कार्य", "दस्तावेज़"])
def test_hindi_glyphs_are_harfbuzz_shaping(receipts, word):
    results = shapings(receipts["hi"], word, "hi", receipt.SCRIPT_FONTS["hi"])
    assert any(r.found for r in results), f"{word}: HarfBuzz's glyphs are not in the PDF"
    for r in results:
        assert r.unshaped == r.harfbuzz or not r.found_unshaped, f"{word}: drawn unshaped in {r.path.name}"


def test_a_renderer_without_shaping_would_fail_this_check(receipts):
    """ପ୍ରମାଣପତ୍ର and संदर्भ are conjuncts and a reph: glyph by glyph from the cmap they are
    other glyphs than HarfBuzz's, and the PDF holds HarfBuzz's, not those."""
    for lang, word in (("or", "ପ୍ରମାଣପତ୍ର"), ("hi", "संदर्भ")):
        results = shapings(receipts[lang], word, lang, receipt.SCRIPT_FONTS[lang])
        for r in results:
            assert r.unshaped != r.harfbuzz, (r.path, word)
            assert len(r.unshaped) > len(r.harfbuzz), (r.path, word)  # virama and ra fold into conjunct glyphs
            assert not r.found_unshaped, (r.path, word)
        assert any(r.found for r in results)


def test_odia_is_set_in_the_shipped_noto_sans_oriya(receipts):
    """Debian 12's Noto Sans Oriya 2.000 draws the i-matra ligatures of ନାହିଁ and ବାର୍ଷିକ
    after the letter; the receipt uses the shipped 2.007, where HarfBuzz places them over it."""
    odia = [f for f in embedded_fonts(receipts["or"]).values() if "Oriya" in f.name]
    assert odia and all(identify(f).parent == receipt.FONTS_DIR for f in odia)
    path = receipt.FONTS_DIR / receipt.SHIPPED_FONTS[receipt.SCRIPT_FONTS["or"]][400]
    font, data = font_file(path)
    assert font["name"].getDebugName(5).startswith("Version 2.007")
    buffer = hb.Buffer()
    buffer.add_str("ନାହିଁ")
    buffer.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(data)), buffer, {})
    last = buffer.glyph_positions[-1]
    assert last.x_advance == 0 and last.x_offset < 0  # the ligature sits over ହ, not after it


def test_no_text_run_ends_with_a_shift_pdfium_would_drop(receipts):
    """PDFium (Chrome, Android's viewer) ignores a TJ array's last number; the receipt keeps
    none, so a space or bracket after ୁ or ି is not drawn over the letter before it."""
    for lang, pdf in receipts.items():
        content = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()
        for operator, operands in _operations(content):
            if operator == b"TJ":
                assert operands[0] and isinstance(operands[0][-1], bytes), (lang, operands[0][-3:])


def test_a_trailing_shift_moves_to_the_next_run_in_text_space():
    lines = [b"BT", b"/F1 10 Tf", b"1 0 0 -1 5 5 Tm", b"[<0001>0<>662.5<0002>-662] TJ", b"/F2 20 Tf",
             b"[<0003>0] TJ", b"[-40] TJ", b"[<0004>] TJ", b"1 0 0 -1 5 25 Tm", b"[<0005>12] TJ", b"ET"]
    assert receipt._carry_trailing_kerning(lines) == [
        b"BT", b"/F1 10 Tf", b"1 0 0 -1 5 5 Tm", b"[<0001>0<>662.5<0002>] TJ", b"/F2 20 Tf",
        b"[-331.000<0003>] TJ",  # -662 thousandths of a 10-unit font are -331 of a 20-unit one
        b"[-40.000<0004>] TJ",  # an array of only a shift is carried on whole
        b"1 0 0 -1 5 25 Tm",
        b"[<0005>] TJ", b"ET"]  # before a new line or the end, a shift moves nothing


# --- what the receipt says ------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_reference_service_and_one_page(receipts, lang):
    pdf = receipts[lang]
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    text = flat(text_of(pdf))
    assert receipt.SAMPLE_REFERENCE in text
    assert flat(SERVICE_NAMES[lang]) in text


def test_the_qr_code_reads_as_the_reference(receipts):
    image = Image.open(io.BytesIO(receipt.render_png(receipts["or"], scale=2)))
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [receipt.SAMPLE_REFERENCE]


def test_render_png_is_page_one_at_the_scale(receipts):
    image = Image.open(io.BytesIO(receipt.render_png(receipts["en"], scale=1)))
    assert image.format == "PNG" and abs(image.width - 595.3) < 1 and abs(image.height - 841.9) < 1  # A4, 72 dpi


def _application(service_id: str, fields: dict, lang: str = "en",
                 submitted_at: dt.datetime = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.timezone.utc),
                 days: Optional[int] = 15) -> Application:
    return Application(reference="ORT-AB12-CD34", sender_id="919812345678", service_id=service_id,
                       language=lang, fields=fields, status="submitted", submitted_at=submitted_at,
                       time_limit_days=days, due_date=due_date(submitted_at, days))


@pytest.fixture(scope="module")
def id_catalog(catalog):
    """The catalog with a service that asks for an Aadhaar number, a mobile number and an address."""
    label = {"en": "Aadhaar number", "hi": "आधार संख्या", "or": "ଆଧାର ନମ୍ବର"}
    extra = [Field("aadhaar_number", "number", label, label),
             Field("mobile", "phone", {"en": "Mobile", "hi": "मोबाइल", "or": "ମୋବାଇଲ"}, label),
             Field("address", "text", {"en": "Address", "hi": "पता", "or": "ଠିକଣା"}, label)]
    base = catalog.services["income_certificate"]
    service = dataclasses.replace(base, id="id_test_service", fields=[*base.fields, *extra])
    return dataclasses.replace(catalog, services={**catalog.services, service.id: service})


def test_aadhaar_and_phone_are_masked_and_long_answers_stay_on_one_page(id_catalog):
    fields = {"applicant_name": "Priyadarshini Mohapatra Samantaray " * 2, "father_name": "Hari Prasad Das",
              "district": "mayurbhanj", "annual_income": 84000, "purpose": "job",
              "aadhaar_number": "2345 6789 0123", "mobile": "9876543210",
              "address": ("Near the post office, Thana Road, Baripada " * 8)[:300]}
    documents = [receipt.ReceiptDocument("Aadhaar card, both sides, and the ration card " * 2, "photo")] * 3
    pdf = receipt.render_receipt(_application("id_test_service", fields), id_catalog, "en", documents)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    text = text_of(pdf)
    assert "XXXX XXXX 0123" in text
    assert "98****3210" in text  # seva.privacy.mask_phone
    assert "234567890123" not in flat(text) and "6789" not in text
    assert "9876543210" not in flat(text)


def test_aadhaar_masking_rules():
    field = Field("applicant_aadhar", "number", {}, {})
    assert receipt.is_aadhaar(field) and receipt.is_aadhaar(Field("uid", "aadhaar", {}, {}))
    assert not receipt.is_aadhaar(Field("annual_income", "amount", {}, {}))
    assert receipt.mask_aadhaar("2345-6789-0123") == "XXXX XXXX 0123"
    assert receipt.mask_aadhaar("12") == "XXXX XXXX XXXX"


def test_unknown_officers_say_so_and_an_inexact_due_date_says_about(catalog):
    base = catalog.services["income_certificate"]
    service = dataclasses.replace(base, id="no_officer_service", designated_officer=None, appellate_authority=None)
    test_catalog = dataclasses.replace(catalog, services={**catalog.services, service.id: service})
    late = dt.datetime(2027, 6, 1, 5, 0, tzinfo=dt.timezone.utc)  # no 2027 holiday table: approximate
    application = _application("no_officer_service", {"applicant_name": "<b>Ramesh</b>"}, submitted_at=late)
    assert not application.due_date_exact
    html = receipt.receipt_html(application, test_catalog, "en")
    rows = {unescape(k): v for k, v in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html)}
    assert rows["Designated officer (decides)"] == "not known" and rows["Appellate authority"] == "not known"
    assert rows["To be decided by"] == f"about {application.due_date:%d/%m/%Y}"
    assert rows["Applicant's name"] == "&lt;b&gt;Ramesh&lt;/b&gt;"  # a citizen's text is never markup
    odia = receipt.receipt_html(application, test_catalog, "or")
    assert "ଜଣା ନାହିଁ" in odia and f"ପ୍ରାୟ {application.due_date:%d/%m/%Y}" in odia


def test_documents_none_and_labels_in_the_language(catalog):
    application, _ = receipt.sample_application("hi", catalog)
    html = receipt.receipt_html(application, catalog, "hi")
    assert "कोई नहीं" in html and "पावती" in html and "संदर्भ संख्या" in html and "अपील अधिकारी" in html
    assert "ORTPSA" not in html and "Acknowledgement" not in html


def test_the_renderer_fetches_nothing(catalog, monkeypatch, tmp_path):
    """Only data URIs are read: an image, a stylesheet or a font named by address or by
    file in the page is not fetched (a local server counts the requests)."""
    hits: List[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    page = receipt.receipt_html
    head = (f'<link rel="stylesheet" href="{base}/a.css"><link rel="stylesheet" href="{secret.as_uri()}">'
            f'<style>@import url({base}/b.css); @font-face {{ font-family: X; src: url({base}/c.ttf) }}</style>')
    monkeypatch.setattr(receipt, "receipt_html", lambda *a, **k: page(*a, **k).replace(
        "</head>", head + "</head>").replace("<body>", f'<body><img src="{base}/d.png">'))
    try:
        application, documents = receipt.sample_application("en", catalog)
        pdf = receipt.render_receipt(application, catalog, "en", documents)
    finally:
        server.shutdown()
    assert hits == []
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1


# --- fonts missing --------------------------------------------------------------------------
def test_a_missing_shipped_font_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(receipt, "FONTS_DIR", tmp_path)
    receipt.font_face_css.cache_clear()
    try:
        with pytest.raises(receipt.ReceiptFontError, match="NotoSansOriya-Regular.woff2"):
            receipt.font_face_css()
    finally:
        receipt.font_face_css.cache_clear()


def test_no_devanagari_font_fails_loudly_instead_of_drawing_boxes(tmp_path):
    """On a machine whose fontconfig knows only Noto Sans, a Hindi receipt raises."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    noto_sans = candidates("X+Noto-Sans")
    assert noto_sans, "Noto Sans is not installed"
    for path in noto_sans:
        (fonts / path.name).symlink_to(path)
    config = tmp_path / "fonts.conf"
    config.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>""")
    script = textwrap.dedent("""
        from seva import receipt
        from seva.catalog import default_catalog
        catalog = default_catalog()
        application, documents = receipt.sample_application("hi", catalog)
        try:
            receipt.render_receipt(application, catalog, "hi", documents)
        except receipt.ReceiptFontError as error:
            print("ReceiptFontError:", error)
        else:
            print("rendered")
    """)
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert "ReceiptFontError:" in result.stdout, result.stdout + result.stderr
    assert "Noto Sans Devanagari was not used" in result.stdout
    assert "fonts-noto-core" in result.stdout
