"""Tests for themepipe.sources: decoding transcript files and refusing non-text files."""

from __future__ import annotations

import codecs
import importlib.util
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themepipe.errors import ConfigError, InputError, ThemepipeError
from themepipe.sources import DecodedSource, decode_bytes, read_source

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TRANSCRIPTS = FIXTURES / "transcripts"


def _load_make_docx():
    spec = importlib.util.spec_from_file_location("make_docx", FIXTURES / "make_docx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_docx = _load_make_docx()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_sources_plain_utf8_fixture():
    source = read_source(TRANSCRIPTS / "label_t_j.txt")
    assert source == DecodedSource(
        "T: Rencana kerja paguyuban ada, Pak?\n"
        "J: Tertulis tidak ada. Ya jalan saja, kalau ada bantuan baru rapat.\n"
        "T: Target penjualan?\n"
        "J: Tidak pernah dibuat.\n", "utf-8", ())


def test_sources_utf8_bom_is_dropped():
    source = read_source(TRANSCRIPTS / "encoding_utf8_bom.txt")
    assert source.encoding == "utf-8-sig"
    assert source.warnings == ()
    assert source.text == (
        "Peneliti: Harga tanah liat sekarang berapa, Bu?\n"
        "Narasumber: Satu rit Rp 350.000 \u2013 kadang lebih\u2026 tergantung musim.\n")


def test_sources_cp1252_crlf_fallback_with_warning():
    source = read_source(TRANSCRIPTS / "encoding_cp1252_crlf.txt")
    assert source.encoding == "cp1252"
    assert source.warnings == (
        "decoded as Windows-1252 (not valid UTF-8 at byte 45); save the file as UTF-8",)
    assert source.text == (
        "P: Apa yang paling sulit buat pengrajin?\n"
        "I: \u201cModal\u201d, kata orang-orang \u2013 tapi menurut saya pemasaran\u2026 "
        "caf\u00e9-caf\u00e9 di Jogja jarang ambil.\n\n"
        "Kalau pameran, yang berangkat itu-itu saja.\n")


def test_sources_utf16_le_bom_crlf():
    source = read_source(TRANSCRIPTS / "encoding_utf16.txt")
    assert source.encoding == "utf-16-le"
    assert source.text == ("Tanya: Kapan terakhir ada rapat paguyuban?\n"
                           "Jawab: Wah, lupa. Mungkin dua tahun lalu.\n")


@pytest.mark.parametrize("bom, codec, expected", [
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
])
def test_sources_other_boms(tmp_path, bom, codec, expected):
    path = _write(tmp_path / "a.txt", bom + "P: monggo\r\nI: nggih\r".encode(codec))
    source = read_source(path)
    assert (source.text, source.encoding) == ("P: monggo\nI: nggih\n", expected)


def test_sources_cr_only_line_endings(tmp_path):
    path = _write(tmp_path / "mac.txt", b"P: satu\rI: dua\r\rP: tiga")
    assert read_source(path).text == "P: satu\nI: dua\n\nP: tiga"


def test_sources_undecodable_names_file_and_offset(tmp_path):
    # 0xC3 0x28 is invalid UTF-8; 0x81 is undefined in Windows-1252.
    path = _write(tmp_path / "rusak.txt", b"P: halo \xc3\x28 lalu \x81")
    with pytest.raises(InputError) as info:
        read_source(path, display_name="rusak.txt")
    assert info.value.code == "T104"
    assert info.value.path == "rusak.txt"
    assert "UTF-8 (at byte 8)" in info.value.message
    assert "0x81 at byte 16" in info.value.message
    assert "\n" not in info.value.format()


def test_sources_explicit_encoding_is_honoured(tmp_path):
    data = "P: caf\u00e9 \u2013 warung\n".encode("cp1252")
    path = _write(tmp_path / "a.txt", data)
    assert read_source(path, encoding="cp1252") == DecodedSource(
        "P: caf\u00e9 \u2013 warung\n", "cp1252", ())
    # Latin-1 decodes anything: honoured even though the result differs from cp1252.
    assert read_source(path, encoding="latin-1").text == "P: caf\u00e9 \x96 warung\n"


def test_sources_explicit_encoding_failure_names_byte(tmp_path):
    path = _write(tmp_path / "a.txt", "P: caf\u00e9\n".encode("cp1252"))
    with pytest.raises(InputError) as info:
        read_source(path, encoding="utf-8")
    assert info.value.code == "T104"
    assert "utf-8 at byte 6" in info.value.message


def test_sources_explicit_utf8_drops_bom(tmp_path):
    path = _write(tmp_path / "a.txt", codecs.BOM_UTF8 + b"P: ya\n")
    assert read_source(path, encoding="utf-8").text == "P: ya\n"


@pytest.mark.parametrize("encoding", ["jawa-kuno", "base64"])
def test_sources_unknown_encoding_name_is_config_error(tmp_path, encoding):
    path = _write(tmp_path / "a.txt", b"P: ya\n")
    with pytest.raises(ConfigError) as info:
        read_source(path, encoding=encoding)
    assert info.value.code == "T010"
    assert f"corpus.encoding '{encoding}'" in info.value.message


@pytest.mark.parametrize("content", [b"", b"   \n\t\n", b"\r\n\r\n"])
def test_sources_empty_text_is_returned(tmp_path, content):
    source = read_source(_write(tmp_path / "kosong.txt", content))
    assert source.text == content.decode().replace("\r\n", "\n")
    assert source.encoding == "utf-8"


@pytest.mark.parametrize("data, what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
    (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an old Office file"),
    (b"{\\rtf1\\ansi P: halo}", "an RTF document"),
    (b"ELF\x00\x01\x02\x03 P: halo", "binary file"),
])
def test_sources_refuses_binary_renamed_txt(tmp_path, data, what):
    path = _write(tmp_path / "wawancara.txt", data)
    with pytest.raises(InputError) as info:
        read_source(path, display_name="wawancara.txt")
    assert info.value.code == "T103"
    assert what in info.value.message
    assert info.value.format().startswith("[T103] wawancara.txt: ")


def test_sources_refuses_zip_and_renamed_docx(tmp_path):
    archive = tmp_path / "arsip.md"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("catatan.txt", "P: halo")
    with pytest.raises(InputError, match="ZIP archive"):
        read_source(archive)
    renamed = make_docx.build_docx(tmp_path / "asli.docx").rename(tmp_path / "asli.txt")
    with pytest.raises(InputError, match="rename it to end in .docx"):
        read_source(renamed)


def test_sources_utf16_without_bom_gets_a_hint(tmp_path):
    path = _write(tmp_path / "a.txt", "P: halo, Pak\n".encode("utf-16-le"))
    with pytest.raises(InputError, match="UTF-16 without a byte-order mark"):
        read_source(path)
    assert read_source(path, encoding="utf-16-le").text == "P: halo, Pak\n"


def test_sources_too_large_is_refused(tmp_path):
    path = _write(tmp_path / "besar.txt", b"P: " + b"a" * 3000 + b"\n")
    with pytest.raises(InputError) as info:
        read_source(path, max_file_mb=0.001)
    assert info.value.code == "T102"
    assert "corpus.max_file_mb" in info.value.message
    assert read_source(path, max_file_mb=0.01).text.startswith("P: aaa")


def test_sources_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_source(tmp_path / "tidak_ada.txt")
    assert info.value.code == "T101"


def test_sources_docx_paragraphs_and_tables_in_order(tmp_path):
    path = make_docx.build_docx(tmp_path / "wawancara.docx")
    assert read_source(path) == DecodedSource(make_docx.EXPECTED_TEXT, "docx", ())


def test_sources_docx_suffix_any_case(tmp_path):
    path = make_docx.build_docx(tmp_path / "WAWANCARA.DOCX")
    assert read_source(path).text == make_docx.EXPECTED_TEXT


def test_sources_empty_docx_is_refused(tmp_path):
    with pytest.raises(InputError) as info:
        read_source(_write(tmp_path / "kosong.docx", b""))
    assert info.value.code == "T105"
    assert "0-byte" in info.value.message


@pytest.mark.parametrize("maker", ["truncated", "not_zip", "zip_without_word", "pdf"])
def test_sources_corrupt_docx_is_refused(tmp_path, maker):
    path = tmp_path / "rusak.docx"
    if maker == "truncated":
        good = make_docx.build_docx(tmp_path / "baik.docx").read_bytes()
        path.write_bytes(good[: len(good) // 2])
    elif maker == "not_zip":
        path.write_bytes(b"P: ini teks biasa, bukan docx\n")
    elif maker == "zip_without_word":
        with zipfile.ZipFile(path, "w") as handle:
            handle.writestr("isi.txt", "P: halo")
    else:
        path.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(InputError) as info:
        read_source(path, display_name="rusak.docx")
    assert info.value.code == "T105"
    assert info.value.path == "rusak.docx"
    assert "\n" not in info.value.format()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_sources_random_bytes_decode_or_raise_input_error(data):
    try:
        source = decode_bytes(data, name="acak.txt")
    except ThemepipeError as exc:
        assert isinstance(exc, InputError)
        return
    assert "\r" not in source.text
    assert "\x00" not in source.text
