"""seva.documents: what a citizen's photo or PDF must pass before we keep it.

Photos lose every piece of metadata (a phone photo's EXIF has the GPS position of the
citizen's home) and are turned upright; files are judged by their bytes, never their name;
bombs of either kind are refused quickly and in bounded memory."""
import io
import resource
import struct
import time
import zipfile
import zlib

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfWriter

from seva.documents import REASONS, Accepted, Limits, Refused, inspect, sniff

GPS_IFD = 0x8825
ORIENTATION = 0x0112
RED, BLUE = (220, 20, 20), (20, 20, 220)


# --- making test files ------------------------------------------------------------------------

def two_colour(size=(40, 20)):
    """Left half red, right half blue: where the halves end up shows the rotation."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def phone_exif(orientation=6):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation  # 6: stored sideways, turn 90 degrees clockwise to show
    exif[0x010F] = "PhoneMakerCo"
    exif[0x0110] = "Model X9"
    exif[GPS_IFD] = {1: "N", 2: (20.0, 17.0, 44.0), 3: "E", 4: (85.0, 49.0, 12.0)}
    return exif


def srgb_icc():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_bytes(image, **params):
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **params)
    return out.getvalue()


def jpeg_markers(data):
    """The marker bytes of a JPEG's segments before its image data (APPn, COM, DQT, ...)."""
    markers, at = [], 2
    while at + 4 <= len(data):
        assert data[at] == 0xFF, "not at a marker"
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    return markers


def png_chunks(data):
    chunks, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at:at + 4])[0]
        chunks.append(data[at + 4:at + 8].decode("ascii"))
        at += 12 + length
    return chunks


def deflate_zeros(count):
    """A zlib stream of ``count`` zero bytes, made without compressing them all: blocks that
    end in a full flush do not refer back, so one compressed megabyte of zeros repeats."""
    block = 1 << 20
    assert count % block == 0
    compressor = zlib.compressobj(9)
    first = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first[2:] == again  # the same bytes, less the two-byte zlib header
    adler = ((count % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b adds 1 per byte
    return first + again * (count // block - 1) + b"\x03\x00" + struct.pack(">I", adler)


def png_bomb(width, height):
    """A real grey PNG of width x height black pixels: a small file, a huge image."""
    row = width + 1  # filter byte + pixels, all zero
    total = row * height
    padded = -(-total // (1 << 20)) * (1 << 20)
    idat = deflate_zeros(padded)  # a little more zero data than the rows need: still valid

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def writer_pdf(pages=1, encrypt=False):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if encrypt:
        writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects, extra=()):
    """A PDF from object bodies (numbered from 1; 1 is the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    bodies = list(objects) + list(extra)
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def one_page_with(content, filters=b""):
    """Catalog, pages, one page whose content stream is ``content`` (already encoded)."""
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d %s>>\nstream\n" % (len(content), filters) + content + b"\nendstream",
    ]


def refused(result, reason):
    assert isinstance(result, Refused), result
    assert result.reason == reason, result
    assert result.reason in REASONS
    return result


# --- photos -----------------------------------------------------------------------------------

def test_a_phone_photo_loses_its_gps_and_all_metadata_and_is_turned_upright():
    original = jpeg_bytes(
        two_colour(), exif=phone_exif(), icc_profile=srgb_icc(), comment=b"taken at home",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPSLatitude 20,17</x:xmpmeta>',
    )
    with Image.open(io.BytesIO(original)) as check:  # the test photo really carries it all
        assert check.getexif().get_ifd(GPS_IFD)
        assert 0xE1 in jpeg_markers(original) and 0xFE in jpeg_markers(original)

    result = inspect(original)

    assert isinstance(result, Accepted), result
    assert (result.kind, result.mime, result.extension, result.pages) == ("photo", "image/jpeg", "jpg", 1)
    data = result.data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG"
        assert len(stored.getexif()) == 0
        assert not stored.getexif().get_ifd(GPS_IFD)
        assert "exif" not in stored.info and "xmp" not in stored.info and "comment" not in stored.info
        # turned: 40x20 stored sideways is 20x40 upright, the left (red) half now on top
        assert stored.size == (20, 40) == (result.width, result.height)
        top, bottom = stored.convert("RGB").getpixel((10, 5)), stored.convert("RGB").getpixel((10, 35))
        assert top[0] > 150 and top[2] < 100, top
        assert bottom[2] > 150 and bottom[0] < 100, bottom
        assert stored.info.get("icc_profile") == srgb_icc()  # a plain sRGB profile is harmless: kept
    markers = jpeg_markers(data)
    assert 0xE1 not in markers  # APP1: EXIF and XMP
    assert 0xED not in markers  # APP13: IPTC
    assert 0xFE not in markers  # COM
    for needle in (b"Exif", b"GPS", b"PhoneMakerCo", b"Model X9", b"taken at home", b"xmpmeta", b"adobe:ns:meta"):
        assert needle not in data, needle


def test_an_odd_icc_profile_does_not_go_along():
    icc = bytearray(srgb_icc())
    icc[16:20] = b"CMYK"  # a profile for another colour space than the photo's
    result = inspect(jpeg_bytes(two_colour(), icc_profile=bytes(icc)))
    assert isinstance(result, Accepted)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert "icc_profile" not in stored.info


def test_a_png_keeps_its_pixels_and_transparency_but_not_its_text_chunks():
    image = Image.new("RGBA", (30, 10), (10, 200, 10, 128))
    info = PngInfo()
    info.add_text("Comment", "Plot 17, Bhubaneswar")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    info.add_text("Author", "citizen", zip=True)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=phone_exif(orientation=1))
    assert {"tEXt", "iTXt", "zTXt", "eXIf"} <= set(png_chunks(out.getvalue()))

    result = inspect(out.getvalue())

    assert isinstance(result, Accepted), result
    assert (result.mime, result.extension, result.width, result.height) == ("image/png", "png", 30, 10)
    assert set(png_chunks(result.data)) <= {"IHDR", "PLTE", "tRNS", "IDAT", "IEND"}
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.mode == "RGBA" and stored.getpixel((0, 0)) == (10, 200, 10, 128)
        assert len(stored.getexif()) == 0
    assert b"Bhubaneswar" not in result.data and b"GPS" not in result.data


@pytest.mark.parametrize("mode, mime", [("RGB", "image/jpeg"), ("RGBA", "image/png")])
def test_a_webp_becomes_jpeg_or_png_when_it_has_transparency(mode, mime):
    out = io.BytesIO()
    Image.new(mode, (16, 16), (200, 100, 50, 128)[: len(mode)]).save(out, "WEBP", exif=phone_exif(1))
    result = inspect(out.getvalue())
    assert isinstance(result, Accepted), result
    assert result.mime == mime
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == mime.split("/")[1].upper()
        assert len(stored.getexif()) == 0


@pytest.mark.parametrize("weasyprint_loaded", [False, True])
def test_a_truncated_jpeg_is_corrupt(weasyprint_loaded, monkeypatch):
    from PIL import ImageFile

    # WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES at import (the receipt is rendered in
    # the same process): a truncated photo must still be refused
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", weasyprint_loaded)
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    whole = jpeg_bytes(noisy)
    refused(inspect(whole[: len(whole) // 2]), "corrupt_image")
    refused(inspect(b"\xff\xd8\xff\xe0" + b"\x13\x37" * 500), "corrupt_image")


def test_a_decompression_bomb_png_is_refused_before_decoding():
    bomb = png_bomb(20_000, 20_000)  # 400 megapixels in under half a megabyte
    assert len(bomb) < 500_000
    quieter = png_bomb(8_000, 6_000)  # 48 MP: under Pillow's own warning level (89 MP), over our 40 MP
    started = time.process_time()
    refused(inspect(bomb), "image_too_big")
    refused(inspect(quieter), "image_too_big")
    assert time.process_time() - started < 0.5  # the header is read, the pixels never


# --- what we do not take ----------------------------------------------------------------------

@pytest.mark.parametrize("data, found", [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(300), "windows-executable"),  # "photo.jpg"
    (b"\x7fELF\x02\x01\x01" + bytes(300), "elf-executable"),
    (b"#!/bin/sh\nrm -rf /\n", "script"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(300), "ole-office-or-msi"),
    (b"GIF89a" + bytes(100), "gif"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "markup"),
    (b"just some text", "unknown"),
    (b"", "unknown"),
])
def test_executables_office_files_and_unknown_bytes_are_not_allowed(data, found):
    assert sniff(data) == found
    refused(inspect(data), "not_allowed")


def test_a_zip_is_not_allowed_even_when_it_holds_a_pdf_or_is_a_docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("certificate.pdf", writer_pdf())
        archive.writestr("[Content_Types].xml", "<Types/>")
    assert sniff(out.getvalue()) == "zip"
    refused(inspect(out.getvalue()), "not_allowed")


def test_a_kind_the_question_does_not_take_is_not_allowed():
    photo = jpeg_bytes(two_colour())
    refused(inspect(photo, accept=("pdf",)), "not_allowed")
    refused(inspect(writer_pdf(), accept=("photo",)), "not_allowed")
    assert isinstance(inspect(photo, accept=("photo",)), Accepted)


def test_too_large_is_refused_without_decoding():
    limits = Limits(image_max_bytes=1_000, document_max_bytes=2_000)
    garbage_jpeg = b"\xff\xd8\xff" + b"\x00" * 1_500  # would be corrupt_image if it were decoded
    assert refused(inspect(garbage_jpeg, limits=limits), "too_large")
    garbage_pdf = b"%PDF-1.7\n" + b"x" * 2_500
    refused(inspect(garbage_pdf, limits=limits), "too_large")
    refused(inspect(b"MZ" + bytes(5_000), limits=limits), "too_large")  # bigger than any limit


def test_limits_come_from_the_environment():
    defaults = Limits.from_env({})
    assert (defaults.image_max_bytes, defaults.document_max_bytes) == (16 << 20, 100 << 20)
    assert defaults.max_pages == 20
    limits = Limits.from_env({"SEVA_DOCUMENT_MAX_BYTES": "5000000", "SEVA_DOCUMENT_MAX_PAGES": "3"})
    assert (limits.document_max_bytes, limits.max_pages) == (5_000_000, 3)
    with pytest.raises(ValueError, match="SEVA_IMAGE_MAX_BYTES"):
        Limits.from_env({"SEVA_IMAGE_MAX_BYTES": "16MB"})
    with pytest.raises(ValueError, match="SEVA_DOCUMENT_MAX_PAGES"):
        Limits.from_env({"SEVA_DOCUMENT_MAX_PAGES": "0"})


# --- PDFs -------------------------------------------------------------------------------------

def test_a_valid_one_page_pdf_is_kept_byte_for_byte():
    data = writer_pdf()
    result = inspect(data)
    assert isinstance(result, Accepted), result
    assert result == Accepted("pdf", "application/pdf", "pdf", data, 1, 0, 0)
    assert result.data is data or result.data == data


def test_a_hand_made_pdf_with_a_compressed_page_is_kept():
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td (Income certificate) Tj ET")
    result = inspect(raw_pdf(one_page_with(content, b"/Filter /FlateDecode ")))
    assert isinstance(result, Accepted) and result.pages == 1, result


def test_an_encrypted_pdf_is_refused_even_with_an_empty_password():
    refused(inspect(writer_pdf(encrypt=True)), "encrypted_pdf")


def test_fifty_pages_is_too_many():
    refused(inspect(writer_pdf(pages=50), limits=Limits(max_pages=20)), "too_many_pages")
    assert inspect(writer_pdf(pages=3), limits=Limits(max_pages=3)).pages == 3


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n",
    b"%PDF-1.7\n" + bytes(range(256)) * 40,
    writer_pdf()[:200],
])
def test_an_unreadable_pdf_is_corrupt(data):
    refused(inspect(data), "corrupt_pdf")


def checked_in_seconds(data, seconds, **kwargs):
    """``inspect(data)``, asserting the PDF check's own CPU time (user + system of the child
    process, whatever else loads the machine) and, loosely, the wall-clock time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = inspect(data, **kwargs)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < seconds, f"the check took {cpu:.2f} s of CPU"
    assert wall < 3 * seconds, f"the check took {wall:.2f} s"
    return result


def test_a_flate_bomb_is_refused_within_seconds_and_bounded_memory():
    # 512 MiB of zeros deflated twice: a content stream of a few kilobytes
    bomb = zlib.compress(deflate_zeros(512 << 20), 9)
    assert len(bomb) < 10_000
    data = raw_pdf(one_page_with(bomb, b"/Filter [/FlateDecode /FlateDecode] "))
    result = refused(checked_in_seconds(data, 2.0), "pdf_bomb")  # it stops at the bound (256 MiB)
    assert "inflate" in result.detail
    # Memory: the check's child runs under RLIMIT_AS (seva/pdf_check.limit_self) and inflates
    # 1 MiB at a time. Its peak is not asserted here: RUSAGE_CHILDREN reports the largest child
    # the test process ever reaped (a database server of another test), which failed in CI.


def test_thousands_of_objects_is_a_bomb():
    filler = [b"<< /N %d >>" % i for i in range(25_000)]
    refused(checked_in_seconds(raw_pdf(one_page_with(b"q Q"), extra=filler), 1.0), "pdf_bomb")


def test_a_cross_reference_table_of_thousands_of_rows_is_a_bomb():
    head = raw_pdf(one_page_with(b"q Q")).partition(b"xref\n")[0]
    rows = b"0000000000 65535 f \n" * 30_001
    trailer = b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % len(head)  # /Size lies
    data = head + b"xref\n0 30001\n" + rows + trailer
    assert "cross-reference" in refused(inspect(data), "pdf_bomb").detail


def test_deep_nesting_is_a_bomb():
    nested = b"[" * 50_000 + b"]" * 50_000
    objects = one_page_with(b"q Q")
    objects[2] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Junk 5 0 R >>"
    refused(inspect(raw_pdf(objects, extra=[nested])), "pdf_bomb")


def test_a_page_tree_is_counted_not_believed():
    lying = one_page_with(b"q Q")
    lying[1] = b"<< /Type /Pages /Kids [3 0 R] /Count 1000000 >>"
    assert inspect(raw_pdf(lying)).pages == 1


def test_a_page_tree_that_loops_or_shares_a_node_is_a_bomb():
    looping = one_page_with(b"q Q")
    looping[1] = b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>"
    refused(checked_in_seconds(raw_pdf(looping), 1.0), "pdf_bomb")
    shared = one_page_with(b"q Q")
    shared[1] = b"<< /Type /Pages /Kids [5 0 R 5 0 R] /Count 2 >>"
    shared[2] = b"<< /Type /Page /Parent 5 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
    node = b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R] /Count 1 >>"
    refused(checked_in_seconds(raw_pdf(shared, extra=[node]), 1.0), "pdf_bomb")


def test_a_billion_pages_from_three_small_nodes_is_refused_quickly():
    def kids(reference):
        return b"[" + b" ".join([b"%d 0 R" % reference] * 1000) + b"]"

    data = raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids %s /Count 1000000000 >>" % kids(3),
        b"<< /Type /Pages /Parent 2 0 R /Kids %s /Count 1000000 >>" % kids(4),
        b"<< /Type /Pages /Parent 3 0 R /Kids %s /Count 1000 >>" % kids(5),
        b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 10 10] >>",
    ])
    result = checked_in_seconds(data, 1.0)
    assert isinstance(result, Refused) and result.reason in ("too_many_pages", "pdf_bomb"), result


def test_an_image_of_absurd_size_inside_a_pdf_is_a_bomb():
    image = b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 /BitsPerComponent 8 " \
            b"/ColorSpace /DeviceGray /Length 3 /Filter /DCTDecode >>\nstream\nabc\nendstream"
    objects = one_page_with(b"q Q")
    objects[2] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " \
                 b"/Resources << /XObject << /Im1 5 0 R >> >> >>"
    refused(inspect(raw_pdf(objects, extra=[image])), "pdf_bomb")
