"""Reading transcript files: bytes on disk to the decoded source text.

The *decoded source* of a transcript is its text after decoding and converting CRLF and
CR line endings to LF; every offset in the project indexes into it.  Plain-text files
(``.txt``, ``.md`` and anything else that is not ``.docx``) are decoded per
``corpus.encoding``; Word files (``.docx``) are read with python-docx.

Encoding ``auto``:

1. a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE; the mark is dropped);
2. otherwise strict UTF-8;
3. otherwise Windows-1252 when the bytes decode without its five undefined bytes
   (0x81, 0x8D, 0x8F, 0x90, 0x9D), with a warning for the manifest;
4. otherwise an :class:`~themepipe.errors.InputError` naming the file and byte offset.

Files that are not text (PDF, images, archives, old ``.doc``, RTF, anything with NUL
bytes) are refused with a one-line error saying how to fix the file; an empty or
whitespace-only text file is returned as it is (ingest reports it).
"""

from __future__ import annotations

import codecs
import io
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, InputError

#: Error codes raised by this module.
E_UNREADABLE = "T101"
E_TOO_LARGE = "T102"
E_NOT_TEXT = "T103"
E_DECODE = "T104"
E_DOCX = "T105"
E_ENCODING_NAME = "T010"

_MIB = 1024 * 1024

# Longest marks first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# (magic prefix, what the file is, how to fix it)
_MAGIC = (
    (b"%PDF-", "a PDF file", "export the transcript as UTF-8 .txt or as .docx"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "remove it from the corpus folder or narrow "
     "corpus.include"),
    (b"\xff\xd8\xff", "a JPEG image", "remove it from the corpus folder or narrow "
     "corpus.include"),
    (b"GIF87a", "a GIF image", "remove it from the corpus folder or narrow corpus.include"),
    (b"GIF89a", "a GIF image", "remove it from the corpus folder or narrow corpus.include"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (e.g. Word .doc)",
     "save it from Word as .docx or as UTF-8 .txt"),
    (b"{\\rtf", "an RTF document", "save it from Word as .docx or as UTF-8 .txt"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first"),
    (b"Rar!\x1a\x07", "a RAR archive", "unpack it first"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


@dataclass(frozen=True)
class DecodedSource:
    """The decoded source of one transcript.

    Parameters
    ----------
    text : str
        Decoded text with LF line endings only (no byte-order mark).
    encoding : str
        How it was decoded: a Python codec name (``"utf-8"``, ``"utf-8-sig"`` for UTF-8
        with a byte-order mark, ``"utf-16-le"``, ``"cp1252"``, ...) or ``"docx"``.
    warnings : tuple of str
        One-line warnings for the manifest (e.g. the Windows-1252 fallback).
    """

    text: str
    encoding: str
    warnings: tuple[str, ...] = field(default=())


def normalise_newlines(text: str) -> str:
    """Return ``text`` with CRLF and lone CR converted to LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_source(path: str | Path, encoding: str = "auto", max_file_mb: float = 200.0,
                display_name: str | None = None) -> DecodedSource:
    """Read one transcript file into its decoded source.

    Parameters
    ----------
    path : str or Path
        The transcript file.  ``.docx`` (any case) is read as a Word file; any other
        file as text.
    encoding : str, default "auto"
        ``"auto"`` (see the module docstring) or a Python codec name such as
        ``"utf-8"``, ``"cp1252"`` or ``"utf-16-le"``, which is honoured as given.
        Ignored for ``.docx``.
    max_file_mb : float, default 200.0
        Largest accepted file size in MiB (``corpus.max_file_mb``).
    display_name : str, optional
        Name used in error messages (e.g. the path relative to ``corpus.path``);
        defaults to ``str(path)``.

    Returns
    -------
    DecodedSource
        ``text`` with LF line endings.  For ``.docx``: each paragraph in document
        order followed by ``"\\n"``; each table row as its cells' text joined by
        ``"\\t"`` followed by ``"\\n"``, tables kept in their place between paragraphs.

    Raises
    ------
    InputError
        The file is missing or unreadable (T101), larger than ``max_file_mb`` (T102),
        not a text file (PDF, image, archive, binary; T103), cannot be decoded (T104,
        naming the byte offset), or is an empty or corrupt ``.docx`` (T105).
    ConfigError
        ``encoding`` is not a known codec name (T010).
    """
    path = Path(path)
    name = display_name if display_name is not None else str(path)
    try:
        status = path.stat()  # one system call for the size and the file type
    except OSError as exc:
        raise InputError(E_UNREADABLE, f"cannot read the file ({exc.strerror or exc}); "
                         "check that it exists and is readable", path=name) from None
    size = status.st_size
    if not stat.S_ISREG(status.st_mode):
        raise InputError(E_UNREADABLE, "is not a regular file; point corpus.path at a "
                         "folder of transcript files", path=name)
    if size > max_file_mb * _MIB:
        raise InputError(E_TOO_LARGE, f"file is {size / _MIB:.1f} MB, over "
                         f"corpus.max_file_mb ({max_file_mb:g} MB); split the transcript "
                         "or raise corpus.max_file_mb", path=name)
    if path.suffix.lower() == ".docx":
        return _read_docx(path, size, name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(E_UNREADABLE, f"cannot read the file ({exc.strerror or exc}); "
                         "check its permissions", path=name) from None
    return decode_bytes(data, encoding=encoding, name=name)


def decode_bytes(data: bytes, encoding: str = "auto",
                 name: str = "<bytes>") -> DecodedSource:
    """Decode the bytes of a plain-text transcript.

    Parameters
    ----------
    data : bytes
        The file's content.
    encoding : str, default "auto"
        ``"auto"`` or a Python codec name; see :func:`read_source`.
    name : str
        File name for error messages.

    Returns
    -------
    DecodedSource

    Raises
    ------
    InputError
        Not a text file (T103) or not decodable (T104).
    ConfigError
        ``encoding`` is not a known codec name (T010).
    """
    auto = encoding.strip().lower() == "auto"
    _refuse_binary(data, name, check_nul=auto)
    if auto:
        text, used, warnings = _decode_auto(data, name)
    else:
        text, used, warnings = _decode_explicit(data, encoding, name), _codec_name(
            encoding), ()
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(E_NOT_TEXT, f"contains a NUL character (character {nul}), so it "
                         "is not a text file; save the transcript as UTF-8 text",
                         path=name)
    return DecodedSource(normalise_newlines(text), used, warnings)


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding.strip()).name
    except LookupError:
        raise ConfigError(E_ENCODING_NAME, f"corpus.encoding '{encoding}' is not a known "
                          "encoding; use auto, utf-8, cp1252, utf-16-le, ...") from None


def _refuse_binary(data: bytes, name: str, check_nul: bool) -> None:
    head = data[:16]
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            raise InputError(E_NOT_TEXT, f"is {what}, not a text transcript; {fix}",
                             path=name)
    if head.startswith(_ZIP_MAGIC):
        if _is_docx_zip(data):
            raise InputError(E_NOT_TEXT, "is a Word .docx file with a text-file name; "
                             "rename it to end in .docx", path=name)
        raise InputError(E_NOT_TEXT, "is a ZIP archive, not a text transcript; unpack it "
                         "or remove it from the corpus folder", path=name)
    if not check_nul or any(data.startswith(bom) for bom, _ in _BOMS):
        return  # UTF-16/32 text legitimately has NUL bytes; the decoded text is checked
    nul = data.find(b"\x00")
    if nul >= 0:
        if _looks_like_utf16(data):
            raise InputError(E_NOT_TEXT, f"has NUL bytes (first at byte {nul}): it looks "
                             "like UTF-16 without a byte-order mark; set corpus.encoding "
                             "to utf-16-le or utf-16-be, or save the file as UTF-8",
                             path=name)
        raise InputError(E_NOT_TEXT, f"has NUL bytes (first at byte {nul}), so it is a "
                         "binary file, not text; save the transcript as UTF-8 text or "
                         "remove it from the corpus folder", path=name)


def _is_docx_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _looks_like_utf16(data: bytes) -> bool:
    # Mostly-ASCII UTF-16 has NUL in every other byte.
    sample = data[:4096]
    if len(sample) < 4:
        return False
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    return max(even, odd) > 0.4 * half and min(even, odd) < 0.05 * half


def _decode_auto(data: bytes, name: str) -> tuple[str, str, tuple[str, ...]]:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            payload = data[len(bom):]
            base = "utf-8" if codec == "utf-8-sig" else codec
            try:
                return payload.decode(base), codec, ()
            except UnicodeDecodeError as exc:
                offset = exc.start + len(bom)
                raise InputError(E_DECODE, f"starts with a {codec} byte-order mark but is "
                                 f"not valid {base} at byte {offset}; save the file again "
                                 "as UTF-8", path=name) from None
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError as exc:
        utf8_offset = exc.start
    try:
        # Python's cp1252 codec rejects exactly the five undefined bytes
        # 0x81, 0x8D, 0x8F, 0x90 and 0x9D.
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(E_DECODE, f"is not valid UTF-8 (at byte {utf8_offset}) nor "
                         f"Windows-1252 (undefined byte 0x{data[exc.start]:02X} at byte "
                         f"{exc.start}); save the file as UTF-8 or set corpus.encoding",
                         path=name) from None
    warning = (f"decoded as Windows-1252 (not valid UTF-8 at byte {utf8_offset}); "
               "save the file as UTF-8")
    return text, "cp1252", (warning,)


def _decode_explicit(data: bytes, encoding: str, name: str) -> str:
    codec = _codec_name(encoding)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(E_DECODE, f"cannot be decoded as {codec} at byte {exc.start}; "
                         "check corpus.encoding (or use auto) or save the file as UTF-8",
                         path=name) from None
    except UnicodeError as exc:  # codecs such as 'undefined' raise the base class
        raise InputError(E_DECODE, f"cannot be decoded as {codec} ({exc}); check "
                         "corpus.encoding (or use auto)", path=name) from None
    except LookupError:  # a bytes-to-bytes codec such as base64
        raise ConfigError(E_ENCODING_NAME, f"corpus.encoding '{encoding}' is not a text "
                          "encoding; use auto, utf-8, cp1252, utf-16-le, ...") from None
    # A byte-order mark is not part of the text, whichever codec was named.
    return text.removeprefix("\ufeff")


def _read_docx(path: Path, size: int, name: str) -> DecodedSource:
    if size == 0:
        raise InputError(E_DOCX, "is an empty (0-byte) .docx file; save it again from "
                         "Word", path=name)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from lxml.etree import XMLSyntaxError

    with path.open("rb") as handle:
        head = handle.read(8)
    if not head.startswith(_ZIP_MAGIC):
        for magic, what, fix in _MAGIC:
            if head.startswith(magic):
                raise InputError(E_DOCX, f"is named .docx but is {what}; {fix}", path=name)
        raise InputError(E_DOCX, "is named .docx but is not a Word file (not a ZIP "
                         "package); save it again from Word as .docx", path=name)
    try:
        document = docx.Document(str(path))
        parts: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                parts.extend(_table_rows(block))
            else:
                parts.append(block.text + "\n")
    except (PackageNotFoundError, zipfile.BadZipFile, XMLSyntaxError) as exc:
        raise InputError(E_DOCX, f"is not a readable .docx ({_first_line(exc)}); save it "
                         "again from Word as .docx", path=name) from None
    except Exception as exc:  # noqa: BLE001 - python-docx has no single error type for
        # damaged packages (KeyError for a missing part, ValueError, AttributeError, ...)

        raise InputError(E_DOCX, f"is not a readable .docx ({_first_line(exc)}); save it "
                         "again from Word as .docx", path=name) from None
    return DecodedSource(normalise_newlines("".join(parts)), "docx", ())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:120] if text else type(exc).__name__)


def _table_rows(table) -> list[str]:
    """Rows of a python-docx table as ``cell\\tcell\\n`` lines.

    A cell spanning several grid columns is written once; a cell spanning several rows
    is written in its first row only (python-docx repeats both).
    """
    rows = []
    seen = set()  # the <w:tc> elements already written (kept alive, so identity holds)
    for row in table.rows:
        cells = []
        previous = None
        for cell in row.cells:
            element = cell._tc  # identity of the underlying <w:tc>, to undo repetition
            if element is previous:
                continue
            previous = element
            if element in seen:
                cells.append("")
                continue
            seen.add(element)
            cells.append(cell.text)
        rows.append("\t".join(cells) + "\n")
    return rows
