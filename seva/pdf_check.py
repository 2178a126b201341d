"""Check one PDF in a process of its own: ``python -I seva/pdf_check.py LIMITS_JSON < file.pdf``.

Why a process: pypdf is pure Python, and a hostile file can make any parser spend time and
memory that a thread cannot take back. ``seva.documents`` runs this file with a wall-clock
timeout, and this process caps its own CPU time and address space before it reads a byte, so
whatever the input the work and memory are bounded. Inside, cheaper guards refuse the known
bombs early and with a reason; the process limits are the backstop for anything they miss.

The guards, in order:
1. before parsing, a scan of the raw bytes: more ``N G obj`` headers, cross-reference table
   rows or a larger declared ``/Size`` than ``max_objects`` is a bomb (substring counts and
   searches anchored on a literal: linear, at memory speed, in well under a second);
2. pypdf runs under a tightened ``Configuration``: smaller outputs for the streams it must
   inflate itself (cross-reference and object streams), few filters per stream, a shallow
   and small page tree, bounded arrays and dictionaries, no external JBIG2 decoder; any of
   these raises ``LimitReachedError``, a bomb (pypdf's damaged-stream repair, a loop byte by
   byte in Python, is held to 256 KiB);
3. after parsing, the objects in the cross-reference (object streams included) are counted
   against ``max_objects`` again (object streams hide objects from guard 1);
4. the page tree is walked by us (pypdf would flatten all of it first), without recursion,
   its /Count not believed: counting stops past ``max_pages`` (too many pages, not a bomb),
   a node met twice (a cycle, or a shared node that multiplies the pages) is a bomb, and so
   are more entries than ``max_objects``;
5. every stream is decoded for its size only: FlateDecode chains are inflated 1 MiB at a
   time and each piece counted and dropped (constant memory), other decoders run in pypdf
   with their output capped at what is left; all streams together may inflate to at most
   ``max_inflated_bytes``. An image whose /Width x /Height passes ``max_pixels`` is a bomb;
6. deep nesting ends in ``RecursionError`` and exhaustion in ``MemoryError``: both a bomb.

Prints one JSON line: ``{"pages": n}`` or ``{"refused": reason, "detail": text}``; exits 3 if
pypdf cannot be imported (our fault, not the document's). Standard library and pypdf only:
with ``-I`` nothing of the project is importable.
"""
from __future__ import annotations

import io
import json
import logging
import re
import resource
import sys
import warnings
import zlib
from typing import Any, Dict, Iterator, List, Optional

MiB = 1 << 20
CHUNK = MiB  # inflate this much at a time, then drop it
FLATE_NAMES = ("/FlateDecode", "/Fl")
MAX_FILTERS = 4  # filters on one stream: real files use one or two

# a classic cross-reference section: "xref", a subsection header, a first 20-byte row
XREF_SECTION = re.compile(rb"xref\s*\d+\s+\d+\s+\d{10}\s\d{5}\s[fn]")
XREF_ROW_BYTES = 20  # fixed by the PDF specification (7.5.4)
DECLARED_SIZE = re.compile(rb"/Size\s+(\d{1,20})")


class Bomb(Exception):
    """The document asks for more work or memory than we give any upload."""


def object_headers(data: bytes) -> int:
    """How many ``N G obj`` headers the bytes can hold: every "obj" not ending an "endobj".
    Substring counts run at memory speed; a regular expression over 100 MB of binary takes
    seconds. Random binary adds about one per 16 MB, far below any bound."""
    return data.count(b"obj") - data.count(b"endobj")


def xref_rows_exceed(data: bytes, bound: int) -> bool:
    """Whether the classic cross-reference sections hold more than ``bound`` rows (each row
    is 20 bytes, and a section runs from "xref" to its "trailer")."""
    rows = sections = 0
    at = data.find(b"xref")
    while at != -1:
        if data[max(0, at - 5):at] != b"start" and XREF_SECTION.match(data, at):
            sections += 1
            end = data.find(b"trailer", at)
            rows += ((end if end != -1 else len(data)) - at) // XREF_ROW_BYTES
            if rows > bound or sections > bound:
                return True
        at = data.find(b"xref", at + 4)
    return False


def prescan(data: bytes, max_objects: int) -> None:
    """Guard 1: counts on the raw bytes, before any parser builds objects for them."""
    if object_headers(data) > max_objects:
        raise Bomb(f"more than {max_objects} objects")
    if xref_rows_exceed(data, max_objects):
        raise Bomb(f"more than {max_objects} cross-reference entries")
    for seen, match in enumerate(DECLARED_SIZE.finditer(data)):
        if int(match.group(1)) > max_objects:
            raise Bomb(f"declares {int(match.group(1))} objects")
        if seen > max_objects:  # each /Size belongs to a trailer or xref stream: that many is absurd
            raise Bomb("too many trailers")


def inflate_chain(data: bytes, stages: int, budget: int) -> int:
    """Guard 5 for FlateDecode chains: the bytes they inflate to, counting every stage's output,
    in constant memory; raises ``Bomb`` as soon as the count passes ``budget``.

    A stream that stops inflating with an error counts what came out before it (a damaged
    stream is not a bomb; viewers show what they can of it)."""
    total = 0

    def inflate(source: Iterator[bytes]) -> Iterator[bytes]:
        inflater = zlib.decompressobj()
        try:
            for piece in source:
                pending = piece
                while pending and not inflater.eof:
                    out = inflater.decompress(pending, CHUNK)
                    pending = inflater.unconsumed_tail
                    if out:
                        yield out
            rest = b"" if inflater.eof else inflater.flush()  # at most a match's worth held back
            if rest:
                yield rest
        except zlib.error:
            return

    def count(source: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal total
        for piece in source:
            total += len(piece)
            if total > budget:
                raise Bomb(f"streams inflate to more than {budget // MiB} MiB")
            yield piece

    pieces: Iterator[bytes] = iter((data,))
    for _ in range(stages):
        pieces = count(inflate(pieces))
    for _piece in pieces:
        pass
    return total


def filter_names(stream: Any) -> List[str]:
    """The stream's /Filter as a list of names (a single name, an array, or none)."""
    filters = stream.get("/Filter")
    if filters is None:
        return []
    filters = filters.get_object()
    if isinstance(filters, list):
        return [str(name.get_object()) for name in filters]
    return [str(filters)]


def image_too_large(stream: Any, max_pixels: int) -> bool:
    """Whether an image XObject declares more pixels than we let a photo have."""
    if stream.get("/Subtype") != "/Image":
        return False
    try:
        width = int(stream["/Width"].get_object())
        height = int(stream["/Height"].get_object())
    except (KeyError, TypeError, ValueError):
        return False
    return width * height > max_pixels


def check_streams(reader: Any, limits: Dict[str, int]) -> None:
    """Guards 3 and 5 over every object the cross-reference lists."""
    from pypdf import apply_configuration
    from pypdf.errors import LimitReachedError, PyPdfError
    from pypdf.filters import decode_stream_data
    from pypdf.generic import IndirectObject, StreamObject

    references = [(idnum, gen) for gen, table in reader.xref.items() for idnum in table]
    references += [(idnum, 0) for idnum in reader.xref_objStm]
    if len(references) > limits["max_objects"]:
        raise Bomb(f"{len(references)} objects")
    budget = limits["max_inflated_bytes"]
    inflated = 0
    for idnum, gen in references:
        try:
            obj = reader.get_object(IndirectObject(idnum, gen, reader))
        except LimitReachedError:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
            continue  # one broken object does not make the document unreadable
        if not isinstance(obj, StreamObject):
            continue
        if image_too_large(obj, limits["max_pixels"]):
            raise Bomb(f"object {idnum} is an image of more than {limits['max_pixels']} pixels")
        names = filter_names(obj)
        if len(names) > MAX_FILTERS:
            raise Bomb(f"object {idnum} has {len(names)} filters")
        left = budget - inflated
        raw = obj._data
        if names and all(name in FLATE_NAMES for name in names):
            inflated += inflate_chain(raw, len(names), left)
            continue
        cap = max(left, 1)
        try:
            with apply_configuration(
                zlib_maximum_output_length=cap, lzw_maximum_output_length=cap,
                run_length_maximum_output_length=cap, array_based_stream_maximum_output_length=cap,
                jbig2_maximum_output_length=cap, brotli_maximum_output_length=cap,
                stream_decoding_work_maximum_length=cap + len(raw) * len(names),
            ):
                size = len(decode_stream_data(obj)) if names else len(raw)
        except LimitReachedError as error:
            raise Bomb(f"streams inflate to more than {budget // MiB} MiB") from error
        except (MemoryError, RecursionError):
            raise
        except Exception:  # an undecodable stream (unknown filter, bad data) is not a bomb
            size = len(raw)
        inflated += size
        if inflated > budget:
            raise Bomb(f"streams inflate to more than {budget // MiB} MiB")


def count_pages(reader: Any, max_pages: int, max_entries: int) -> int:
    """Guard 4: the pages in the page tree, walked without recursion and without believing its
    /Count; stops at ``max_pages + 1``. A node of the tree met twice (a cycle, or a node shared
    to multiply the pages) or more entries than a document has objects is a bomb; a node that
    is not a dictionary makes the tree unreadable (``ValueError``)."""
    from pypdf.generic import DictionaryObject, IndirectObject

    pending: List[Any] = [reader.root_object["/Pages"]]
    seen = set()
    pages = entries = 0
    while pending:
        reference = pending.pop()
        node = reference.get_object()
        if not isinstance(node, DictionaryObject):
            raise ValueError("a page tree entry is not a dictionary")
        kids = node.get("/Kids")
        if kids is None or node.get("/Type") == "/Page":
            pages += 1
            if pages > max_pages:
                break
            continue
        name = (reference.idnum, reference.generation) if isinstance(reference, IndirectObject) else id(node)
        if name in seen:
            raise Bomb("the page tree visits a node twice")
        seen.add(name)
        kids = kids.get_object()
        if not isinstance(kids, list):
            raise ValueError("/Kids is not an array")
        entries += len(kids)
        if entries > max_entries:
            raise Bomb(f"the page tree has more than {max_entries} entries")
        pending.extend(reversed(kids))
    return pages


def check(data: bytes, limits: Dict[str, int]) -> Dict[str, Any]:
    """The verdict on ``data``: ``{"pages": n}`` or ``{"refused": reason, "detail": text}``."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import FileNotDecryptedError, LimitReachedError

    def refused(reason: str, detail: str) -> Dict[str, Any]:
        return {"refused": reason, "detail": detail}

    stream_cap = min(limits["max_inflated_bytes"], 32 * MiB)
    try:
        prescan(data, limits["max_objects"])
        with apply_configuration(
            maximum_declared_stream_length=len(data),
            zlib_maximum_output_length=stream_cap, lzw_maximum_output_length=stream_cap,
            run_length_maximum_output_length=stream_cap, array_based_stream_maximum_output_length=stream_cap,
            jbig2_maximum_output_length=stream_cap, brotli_maximum_output_length=stream_cap,
            zlib_maximum_recovery_input_length=256 * 1024, stream_filters_maximum_length=MAX_FILTERS,
            stream_decoding_work_maximum_length=4 * stream_cap,
            array_maximum_element_count=50_000, dictionary_maximum_element_count=10_000,
            page_tree_maximum_depth=32, page_tree_maximum_entries=limits["max_objects"],
            page_tree_maximum_page_entries=limits["max_objects"],
            outline_maximum_entries=limits["max_objects"], outline_maximum_depth=32,
            xmp_maximum_input_length=MiB, image_maximum_buffer_size=stream_cap,
            jbig2dec_binary=None,
        ):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return refused("encrypted_pdf", "the document is encrypted")
            pages = count_pages(reader, limits["max_pages"], limits["max_objects"])
            if pages == 0:
                return refused("corrupt_pdf", "no pages")
            if pages > limits["max_pages"]:
                return refused("too_many_pages", f"more than {limits['max_pages']} pages")
            check_streams(reader, limits)
            return {"pages": pages}
    except Bomb as bomb:
        return refused("pdf_bomb", str(bomb))
    except LimitReachedError as error:
        return refused("pdf_bomb", f"pypdf limit: {error}"[:300])
    except RecursionError:
        return refused("pdf_bomb", "objects nested too deeply")
    except MemoryError:
        return refused("pdf_bomb", "out of memory")
    except FileNotDecryptedError:
        return refused("encrypted_pdf", "the document is encrypted")
    except Exception as error:  # pypdf raises many kinds on malformed input: all mean unreadable
        return refused("corrupt_pdf", f"{type(error).__name__}: {error}"[:300])


def limit_self(cpu_seconds: int, memory_bytes: int) -> None:
    """Cap this process's CPU time (SIGXCPU ends it) and address space (allocations fail)."""
    for which, value in ((resource.RLIMIT_CPU, cpu_seconds), (resource.RLIMIT_AS, memory_bytes)):
        try:
            resource.setrlimit(which, (value, value + (1 if which == resource.RLIMIT_CPU else 0)))
        except (ValueError, OSError):  # not enforceable here (e.g. RLIMIT_AS on macOS)
            pass


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    limits = json.loads(args[0])
    limit_self(int(limits["cpu_seconds"]), int(limits["memory_bytes"]))
    logging.disable(logging.CRITICAL)  # pypdf logs every oddity it repairs
    warnings.simplefilter("ignore")
    try:
        import pypdf  # noqa: F401
    except ImportError as error:
        print(f"pypdf is not installed: {error}", file=sys.stderr)
        return 3
    data = sys.stdin.buffer.read()
    verdict = check(data, limits)
    sys.stdout.write(json.dumps(verdict) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
