"""Bad inputs get one clear line (or a reported problem), never a traceback.

The catalogue: every kind of bad input a researcher is likely to feed ``themepipe run``,
each answered through the CLI with DESIGN.md's exit codes (2: nothing written; 1:
finished, bad files skipped or warned about and listed in ``manifest.json`` and in the
summary) and a one-line message naming the file (and line) and the fix.  Kinds that
skip or warn are checked twice: in one shared default-mode run over a corpus holding all
of them, and alone with ``--strict``.
"""

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themepipe.cache import cache_dir
from themepipe.cli import app
from themepipe.codebook import load_codebook
from themepipe.config import CorpusConfig, load_config
from themepipe.errors import ConfigError, InformantError, InputError, OutputError
from themepipe.ingest import (
    ingest_table,
    ingest_transcripts,
    load_codes,
    load_informants,
)
from themepipe.preprocess import Preprocessor
from themepipe.runfolder import RunFolder, versions_dir
from themepipe.segment import attach_codes, segment_turns

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
CODEBOOK = load_codebook(ROOT / "configs" / "codebook.yaml")
INFORMANT_HEADER = "transcript,speaker_label,informant_id,name,group,dusun,gender\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
# Invalid UTF-8 (a lone continuation byte) that Windows-1252 does not define either (0x81).
UNDECODABLE = b"P: Bapak tinggal di mana?\nNarasumber: Di Sentul." + b" \x81\x8d\n"
BAD_BYTE_AT = UNDECODABLE.index(b"\x81")

# name -> (file content, speaker label of its informant row or None for no row)
BAD_FILES = {
    "kosong.txt": (b"", "Narasumber"),
    "spasi.txt": (b"  \n\t\n   \n", "Narasumber"),
    "hanya_pewawancara.txt": (b"P: Selamat pagi, Bu.\nP: Boleh saya bertanya?\n",
                              "Narasumber"),
    "tanpa_label.txt": (b"Wawancara dengan perajin di Sentul.\nBeliau bercerita.\n",
                        "Narasumber"),
    "salah_ketik.txt": ((b"P: Sudah ikut pelatihan?\nNarasumber: Belum pernah, Mas.\n"
                         b"P: Kenapa?\nNarasumbr: Tidak ada undangan dari pengurus.\n"),
                        "Narasumber"),
    "dua_label.txt": ((b"P: Programnya jalan? Narasumber: Tidak jalan, Mas.\n"
                       b"Narasumber: Pengurusnya sibuk sendiri.\n"), "Narasumber"),
    "tanpa_baris.txt": (b"P: Ikut paguyuban?\nNarasumber: Ikut, tapi jarang rapat.\n", None),
    "rusak_bytes.txt": (UNDECODABLE, "Narasumber"),
    "laporan.txt": (PDF, "Narasumber"),
    "foto.txt": (PNG, "Narasumber"),
    "kosong.docx": (b"", "Narasumber"),
    "rusak.docx": (b"PK\x03\x04" + b"\x00garbage not a zip" * 10, "Narasumber"),
    "besar.txt": (("P: Ceritakan, Pak.\nNarasumber: "
                   + "Pameran jarang diadakan. " * 800 + "\n").encode(), "Narasumber"),
}
MAX_FILE_MB = 0.01  # 10 KiB: besar.txt (~20 KB) is over it, the others are not
MISSING_TRANSCRIPT = "hilang.txt"  # has an informants row but no file
MISSING_TURN = 99  # a code row points at turn 99 of desa_01.txt, which has 6 turns


def write_corpus(root: Path, files: dict[str, tuple[bytes, str | None]],
                 extra_informants: str = "", extra_codes: str = "") -> list[str]:
    """Mini corpus plus ``files``; returns the ``--set`` arguments pointing at it."""
    folder = root / "transcripts"
    shutil.copytree(MINI / "transcripts", folder)
    rows = (MINI / "informants.csv").read_text(encoding="utf-8")
    for i, (name, (content, label)) in enumerate(sorted(files.items())):
        (folder / name).write_bytes(content)
        if label is not None:
            rows += f"{name},{label},x{i:02d},Warga {i},pengrajin_lokal,Sentul,L\n"
    (root / "informants.csv").write_text(rows + extra_informants, encoding="utf-8")
    codes = (MINI / "codes.csv").read_text(encoding="utf-8") + extra_codes
    (root / "codes.csv").write_text(codes, encoding="utf-8")
    return ["--set", f"corpus.path={folder}", "--set",
            f"corpus.informants={root / 'informants.csv'}",
            "--set", f"corpus.codes={root / 'codes.csv'}",
            "--set", f"corpus.max_file_mb={MAX_FILE_MB}"]


def invoke(args: list[str]):
    return CliRunner().invoke(app, args)


def run_args(out: Path, *more: str, config: Path = MINI / "config.yaml") -> list[str]:
    return ["run", str(config), "--out", str(out), *more]


def error_line(result) -> str:
    """The CLI's single error line; checks exit 2 and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith("error ")]
    assert len(lines) == 1, result.output
    return lines[0]


def assert_nothing_written(out: Path) -> None:
    assert not out.exists() and not out.is_symlink()
    assert not versions_dir(out).exists() and not cache_dir(out).exists()


def strict_error(tmp_path, name: str) -> str:
    """Run the mini corpus plus the one bad file ``name`` with --strict."""
    files = {name: BAD_FILES[name]} if name in BAD_FILES else {}
    extra = (f"{MISSING_TRANSCRIPT},Narasumber,x99,Warga,pengrajin_lokal,Sentul,L\n"
             if name == MISSING_TRANSCRIPT else "")
    codes = f"desa_01.txt,{MISSING_TURN},politis,ana\n" if name == "codes" else ""
    sets = write_corpus(tmp_path, files, extra, codes)
    out = tmp_path / "out"
    line = error_line(invoke(run_args(out, "--strict", *sets)))
    assert_nothing_written(out)
    return line


# ------------------------------------------------------- one default run, every bad file


@pytest.fixture(scope="module")
def skipping_run(tmp_path_factory):
    """Default mode over the mini corpus plus every bad file: (result, manifest, out)."""
    root = tmp_path_factory.mktemp("skipping")
    sets = write_corpus(
        root, BAD_FILES,
        extra_informants=f"{MISSING_TRANSCRIPT},Narasumber,x99,Warga,pengrajin_lokal,"
                         "Sentul,L\n",
        extra_codes=f"desa_01.txt,{MISSING_TURN},politis,ana\n")
    out = root / "out"
    result = invoke(run_args(out, *sets))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return result, manifest, out


def reported(skipping_run, path_part: str, code: str, action: str) -> str:
    """The summary line of one problem; checks it is in the manifest too."""
    result, manifest, _ = skipping_run
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line.strip() for line in result.output.splitlines()
             if line.strip().startswith(f"[{code}]") and path_part in line]
    assert len(lines) == 1, result.output
    assert lines[0].endswith(f"({action})")
    entries = [p for p in manifest["problems"]
               if p["code"] == code and path_part in f"{p['path']}:{p['line']}"]
    assert len(entries) == 1 and entries[0]["action"] == action
    return lines[0]


def transcripts_used(skipping_run) -> set[str]:
    out = skipping_run[2]
    return set(pd.read_csv(out / "segments.csv", keep_default_na=False)["transcript"])


def test_bad_input_skipping_run_lists_every_problem(skipping_run):
    result, manifest, out = skipping_run
    assert result.exit_code == 1
    assert manifest["strict"] is False
    skipped = sorted(p["path"] for p in manifest["problems"] if p["action"] == "skipped")
    assert skipped == sorted(set(BAD_FILES) - {"salah_ketik.txt", "dua_label.txt"})
    assert transcripts_used(skipping_run) == {"desa_01.txt", "anggota_02.md", "lokal_03.txt",
                                              "salah_ketik.txt", "dua_label.txt"}
    n = len(manifest["problems"])
    assert f"{n} problem(s) with the inputs:" in result.output
    assert sorted(p.name for p in (out / "sources").iterdir()) == sorted(
        transcripts_used(skipping_run))


# kind -> (where: "file" or "file:line" in the messages, code, action in the default run,
#          phrases of the message (what is wrong, the fix), the bad file run alone)
SKIPPED_OR_WARNED = {
    "empty_file": ("kosong.txt", "T123", "skipped",
                   ("transcript is empty", "remove it or add its text"), "kosong.txt"),
    "whitespace_only_file": ("spasi.txt", "T123", "skipped",
                             ("transcript is empty", "remove it or add its text"),
                             "spasi.txt"),
    "only_interviewer_turns": ("hanya_pewawancara.txt", "T122", "skipped",
                               ("no informant speech found", "check the speaker labels"),
                               "hanya_pewawancara.txt"),
    "no_recognisable_speaker_label": ("tanpa_label.txt", "T121", "skipped",
                                      ("no speaker turn found", "'Narasumber:'"),
                                      "tanpa_label.txt"),
    "label_typo_suggests_known_label": ("salah_ketik.txt:4", "T120", "warning",
                                        ("'Narasumbr:'", "did you mean Narasumber?"),
                                        "salah_ketik.txt"),
    "two_labels_on_one_line": ("dua_label.txt:1", "T120", "warning",
                               ("second speaker label 'Narasumber:'",
                                "start each turn on its own line"), "dua_label.txt"),
    "transcript_without_informants_row": ("tanpa_baris.txt", "T207", "skipped",
                                          ("no row in informants.csv", "add a row"),
                                          "tanpa_baris.txt"),
    "informants_row_without_transcript": ("informants.csv", "T206", "warning",
                                          (f"'{MISSING_TRANSCRIPT}'",
                                           "fix the name or remove the rows"),
                                          MISSING_TRANSCRIPT),
    "code_for_missing_turn": ("codes.csv:6", "T214", "warning",
                              (f"turn {MISSING_TURN} of 'desa_01.txt'",
                               "turn_index counts every turn from 0"), "codes"),
    "bytes_neither_utf8_nor_cp1252": ("rusak_bytes.txt", "T104", "skipped",
                                      (f"not valid UTF-8 (at byte {BAD_BYTE_AT})",
                                       "nor Windows-1252", "save the file as UTF-8",
                                       "or set corpus.encoding"), "rusak_bytes.txt"),
    "pdf_renamed_txt": ("laporan.txt", "T103", "skipped",
                        ("is a PDF file, not a text transcript", "export the transcript"),
                        "laporan.txt"),
    "image_renamed_txt": ("foto.txt", "T103", "skipped",
                          ("is a PNG image", "remove it from the corpus folder"), "foto.txt"),
    "zero_byte_docx": ("kosong.docx", "T105", "skipped",
                       ("empty (0-byte) .docx", "save it again from Word"), "kosong.docx"),
    "corrupt_docx": ("rusak.docx", "T105", "skipped",
                     ("is not a readable .docx", "save it again from Word"), "rusak.docx"),
    "file_over_max_file_mb": ("besar.txt", "T102", "skipped",
                              (f"over corpus.max_file_mb ({MAX_FILE_MB:g} MB)",
                               "split the transcript or raise corpus.max_file_mb"),
                              "besar.txt"),
}


@pytest.mark.parametrize("kind", sorted(SKIPPED_OR_WARNED))
def test_bad_input_skipped_or_warned_by_default_and_fatal_with_strict(skipping_run,
                                                                      tmp_path, kind):
    where, code, action, phrases, alone = SKIPPED_OR_WARNED[kind]
    line = reported(skipping_run, where, code, action)
    assert all(phrase in line for phrase in phrases), line
    error = strict_error(tmp_path, alone)
    assert f"[{code}] " in error and f"{where}: " in error, error
    assert all(phrase in error for phrase in phrases), error


# --------------------------------------------------- errors that stop a run (exit 2)


def test_bad_input_duplicate_informant_rows(tmp_path):
    sets = write_corpus(tmp_path, {}, "lokal_03.txt,Narasumber,inf09,Sukardi,"
                        "pengrajin_lokal,Sentul,L\n")
    line = error_line(invoke(run_args(tmp_path / "out", *sets)))
    assert "[T203]" in line and "informants.csv:5:" in line
    assert "duplicate row for transcript 'lokal_03.txt' and speaker_label 'Narasumber'" in line
    assert "keep one row per speaker" in line
    assert_nothing_written(tmp_path / "out")


def test_bad_input_group_not_declared_in_config(tmp_path):
    sets = write_corpus(tmp_path, {})
    line = error_line(invoke(run_args(tmp_path / "out", *sets, "--set",
                                      "groups=[pemerintah_desa,anggota_kajigelem]")))
    assert "[T208]" in line and "informants.csv" in line
    assert "group 'pengrajin_lokal' is not declared" in line and "add it to groups:" in line
    assert_nothing_written(tmp_path / "out")


def test_bad_input_unknown_theme_in_codes(tmp_path):
    sets = write_corpus(tmp_path, {}, extra_codes="desa_01.txt,5,korupsi,ana\n")
    line = error_line(invoke(run_args(tmp_path / "out", *sets)))
    assert "[T210]" in line and "codes.csv:6:" in line
    assert "theme 'korupsi' is not in the codebook; use one of sosialisasi" in line
    assert_nothing_written(tmp_path / "out")


def test_bad_input_codebook_with_duplicate_theme_ids(tmp_path):
    text = (ROOT / "configs" / "codebook.yaml").read_text(encoding="utf-8")
    codebook = tmp_path / "codebook.yaml"
    codebook.write_text(text.replace("id: politis", "id: sosialisasi"), encoding="utf-8")
    line = error_line(invoke(run_args(tmp_path / "out", "--set", f"codebook={codebook}")))
    assert "[T023]" in line and "codebook.yaml" in line
    assert "duplicate theme id 'sosialisasi'" in line
    assert_nothing_written(tmp_path / "out")


def test_bad_input_config_with_wrong_type(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text((MINI / "config.yaml").read_text(encoding="utf-8").replace(
        "num_topics: 7", "num_topics: tujuh"), encoding="utf-8")
    for name in ("transcripts", "informants.csv", "codes.csv"):
        target = tmp_path / name
        target.symlink_to(MINI / name)
    line = error_line(invoke(run_args(tmp_path / "out", config=config)))
    assert f"[T001] {config}: invalid value for 'topics.num_topics'" in line
    assert "(got 'tujuh')" in line
    assert_nothing_written(tmp_path / "out")


def test_bad_input_config_path_does_not_exist(tmp_path):
    missing = tmp_path / "konfigurasi.yaml"
    line = error_line(invoke(run_args(tmp_path / "out", config=missing)))
    assert f"[T004] {missing}: config file not found; check the path" in line
    assert_nothing_written(tmp_path / "out")


def test_bad_input_output_folder_not_writable(tmp_path):
    blocker = tmp_path / "hasil.txt"
    blocker.write_text("bukan folder\n")
    out = blocker / "run"
    line = error_line(invoke(run_args(out)))
    assert "[T502]" in line and str(out) in line and "choose a writable --out" in line
    assert blocker.read_text() == "bukan folder\n"


def test_bad_input_output_folder_read_only(tmp_path, monkeypatch):
    folder = tmp_path / "arsip"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root may write anywhere; answer as the file system would
        real = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False
                            if Path(path) == folder and mode & os.W_OK else real(path, mode))
    line = error_line(invoke(run_args(folder / "run")))
    assert "[T502]" in line and "not a writable folder" in line
    assert list(folder.iterdir()) == []


def test_bad_input_full_disk_while_writing_keeps_previous_run(tmp_path, monkeypatch):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.write_text("manifest.json", '{"lama": true}\n')
        folder.write_text("segments.csv", "segment_id\nlama.txt:0\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    previous = out.resolve()

    def full(self, name, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunFolder, "write_text", full)
    line = error_line(invoke(run_args(out)))
    assert f"[T502] {out}: cannot write the run folder (No space left on device)" in line
    assert "the previous run is unchanged" in line
    assert out.resolve() == previous
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in versions_dir(out).iterdir()] == [previous.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.runs", "run"]


def table_error(tmp_path, rows: str) -> tuple[Path, str]:
    """Run a segment table (``corpus.format: table``); its path and the error line."""
    table = tmp_path / "segmen.csv"
    table.write_text(rows, encoding="utf-8")
    line = error_line(invoke(run_args(tmp_path / "out", "--set", "corpus.format=table",
                                      "--set", f"corpus.path={table}")))
    assert_nothing_written(tmp_path / "out")
    return table, line


def test_bad_input_segment_table_missing_configured_column(tmp_path):
    table, line = table_error(tmp_path, "teks,informant_id,group\n"
                                        "Pengurusnya sibuk.,a,pengrajin_lokal\n")
    assert f"[T112] {table}: table has no column 'text'; columns found: teks" in line
    assert "set corpus.text_column" in line


def test_bad_input_segment_table_empty_text_cells(tmp_path):
    table, line = table_error(tmp_path, "text,informant_id,group\n"
                                        "Pengurusnya sibuk.,a,pengrajin_lokal\n"
                                        ",b,pengrajin_lokal\n  ,c,pengrajin_lokal\n")
    assert f"[T113] {table}:3: 2 empty 'text' cell(s), first in row 2" in line
    assert "remove those rows or fill them in" in line


def test_bad_input_segment_table_duplicate_segment_ids(tmp_path):
    table, line = table_error(tmp_path, "segment_id,text,informant_id,group\n"
                                        "s1,Pengurusnya sibuk.,a,pengrajin_lokal\n"
                                        "s2,Rapat jarang.,a,pengrajin_lokal\n"
                                        "s1,Tidak ada sosialisasi.,b,pengrajin_lokal\n")
    assert f"[T800] {table}:4: duplicate segment_id 's1' (first in line 2)" in line
    assert "make the ids unique" in line


def test_bad_input_config_python_object_tag_is_refused(tmp_path):
    marker = tmp_path / "dijalankan"
    config = tmp_path / "config.yaml"
    config.write_text("corpus:\n  path: !!python/object/apply:os.system "
                      f"['touch {marker}']\ncodebook: codebook.yaml\n", encoding="utf-8")
    line = error_line(invoke(run_args(tmp_path / "out", config=config)))
    assert f"[T003] {config}:2: YAML tag '!!python/object/apply:os.system' is not " in line
    assert "remove the tag" in line
    assert not marker.exists()


@pytest.mark.parametrize("where", ["set", "codebook", "front_matter"])
def test_bad_input_python_tag_elsewhere_executes_nothing(tmp_path, where):
    marker = tmp_path / "dijalankan"
    tag = f"!!python/object/apply:os.system ['touch {marker}']"
    if where == "set":
        config = load_config(MINI / "config.yaml", [f"corpus.path={tag}"])
        assert str(config.corpus.path).endswith(f"{tag}")  # kept as plain text
    elif where == "codebook":
        path = tmp_path / "codebook.yaml"
        path.write_text(f"- id: politis\n  label: {tag}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="T021"):
            load_codebook(path)
    else:
        from themepipe.speakers import parse_transcript
        parsed = parse_transcript(f"---\njudul: {tag}\n---\nP: Apa kabar?\n"
                                  "Narasumber: Baik.\n", known_labels=["P", "Narasumber"])
        assert parsed.problems[0].kind == "invalid_header" and parsed.metadata == {}
        assert len(parsed.turns) == 2
    assert not marker.exists()


# ----------------------------------------------- big files: 50 MB, one 5 MB line


def _check_offsets(segments: pd.DataFrame, sources: dict[str, str]) -> None:
    for row in segments.itertuples(index=False):
        assert sources[row.transcript][row.start_char:row.end_char] == row.text


def test_bad_input_50mb_transcript_keeps_offsets(tmp_path):
    words = ["paguyuban", "perajin", "pameran", "pengurus", "rapat", "sosialisasi", "dinas", "kabupaten", "anggaran", "bantuan", "alat", "pelatihan", "pemasaran", "kerajinan"]
    lines = []
    size, i = 0, 0
    while size < 50 * 1024 * 1024:
        speech = " ".join(words[(i * 7 + k) % len(words)] for k in range(40))
        line = (f"P: Pertanyaan {i}, bagaimana menurut Bapak?\n" if i % 2 == 0 else
                f"Narasumber: {speech}, {i} kali. {speech}.\n")
        lines.append(line)
        size += len(line)
        i += 1
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "panjang.txt").write_text("".join(lines), encoding="utf-8")
    (tmp_path / "inf.csv").write_text(INFORMANT_HEADER + "panjang.txt,Narasumber,i1,Sukardi,"
                                      "pengrajin_lokal,Sentul,L\n", encoding="utf-8")
    corpus = ingest_transcripts(CorpusConfig(path=folder, informants=tmp_path / "inf.csv"))
    assert len(corpus.turns) == i and corpus.problems == []
    pre = Preprocessor()
    segments = segment_turns(corpus.turns)
    _check_offsets(segments, corpus.sources)
    segments = pre.transform(segments, n_process=1)
    assert segments["stems"].str.len().gt(0).sum() >= i // 2


def test_bad_input_single_5mb_line_beyond_spacy_max_length(tmp_path):
    speech = " ".join(f"pengurus{n % 97} tidak pernah rapat, perajin jalan sendiri."
                      for n in range(100_000))
    assert len(speech) > 5_000_000
    text = "P: Bagaimana paguyubannya?\nNarasumber: " + speech + "\n"
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "satu_baris.txt").write_text(text, encoding="utf-8")
    (tmp_path / "inf.csv").write_text(INFORMANT_HEADER + "satu_baris.txt,Narasumber,i1,"
                                      "Sukardi,pengrajin_lokal,Sentul,L\n", encoding="utf-8")
    corpus = ingest_transcripts(CorpusConfig(path=folder, informants=tmp_path / "inf.csv"))
    pre = Preprocessor()
    assert len(speech) > pre.nlp.max_length
    segments = segment_turns(corpus.turns, max_sentences=1000, split_sentences=pre.sentences)
    assert len(segments) == 1 + 100_000 // 1000
    _check_offsets(segments, corpus.sources)
    segments = pre.transform(segments)
    last = segments["stems"].iloc[-1].split()
    assert len(last) >= 1000 and "rapat" in last
    tokens = pre.analyze(speech)
    assert len(tokens) == 100_000 * 7
    assert all(speech[t.start:t.end] == t.text for t in tokens[::997])


# ------------------------------------------------------- library-level kinds (earlier)


def test_bad_input_turn_index_unicode_digit(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("transcript,turn_index,themes\na.txt,³,politis\n", encoding="utf-8")
    with pytest.raises(InformantError, match="T212") as info:
        load_codes(path, CODEBOOK)
    assert info.value.line == 2


def test_bad_input_themes_cell_without_theme(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("transcript,turn_index,themes\na.txt,1, ; \n")
    with pytest.raises(InformantError, match="T210.*names no theme"):
        load_codes(path, CODEBOOK)


@pytest.mark.parametrize("rows, code", [
    ("", "T114"),
    ("Pengurusnya sibuk.,,g1,\n", "T113"),
    ("Pengurusnya sibuk.,a,,\n", "T113"),
    ("Pengurusnya sibuk.,a,g1,\nRapat jarang.,a,g2,\n", "T115"),
])
def test_bad_input_segment_table_rows(tmp_path, rows, code):
    path = tmp_path / "segs.csv"
    path.write_text("text,informant_id,group,themes\n" + rows)
    with pytest.raises(InputError, match=code):
        ingest_table(CorpusConfig(path=path, format="table"), CODEBOOK)


def test_bad_input_corrupt_xlsx_table(tmp_path):
    path = tmp_path / "segs.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InputError, match="T111"):
        ingest_table(CorpusConfig(path=path, format="table"), CODEBOOK)


def test_bad_input_speaker_labels_differing_in_case(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("transcript,speaker_label,informant_id,group\n"
                    "a.txt,Narasumber,i1,g\na.txt,narasumber,i2,g\n")
    with pytest.raises(InformantError, match="T203.*only in case") as info:
        load_informants(path)
    assert info.value.line == 3


def test_bad_input_code_for_missing_turn_is_reported_not_fatal():
    segments = pd.DataFrame({"transcript": ["a.txt"] * 2, "turn_index": [0, 1],
                             "role": ["interviewer", "informant"]})
    codes = pd.DataFrame({"transcript": ["a.txt"] * 3, "turn_index": [0, 1, 7],
                          "themes": ["politis", "politis", "politis"], "line": [2, 3, 4]})
    out, problems = attach_codes(segments, codes, "codes.csv")
    assert list(out["gold_themes"]) == ["", "politis"]
    assert [(p.code, p.line) for p in problems] == [("T215", 2), ("T214", 4)]
    with pytest.raises(InformantError, match="T215"):
        attach_codes(segments, codes, "codes.csv", strict=True)


@pytest.mark.parametrize("override", ["topics.random_state=-1", "classifier.inputs=[]",
                                      "corpus.encoding=rot13", "topics.alpha=-1"])
def test_bad_input_config_values(override):
    with pytest.raises(ConfigError, match=r"T001\] --set ") as info:
        load_config(MINI / "config.yaml", [override])
    assert "\n" not in info.value.format() and "literal[" not in info.value.format()


def test_bad_input_config_that_is_a_list(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("- a\n")
    with pytest.raises(ConfigError, match="T003"):
        load_config(path, ["topics.num_topics=8"])


def test_bad_input_full_disk_keeps_previous_run(tmp_path, monkeypatch):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.write_text("t.csv", "old\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="T502.*No space left"), RunFolder(out) as folder:
        monkeypatch.setattr(pd.DataFrame, "to_csv", full)
        folder.write_csv("t.csv", pd.DataFrame({"x": [1]}))
    assert (out / "t.csv").read_text() == "old\n"


def test_bad_input_error_text_with_brackets_is_printed_verbatim(tmp_path):
    corpus = tmp_path / "t"
    shutil.copytree(MINI / "transcripts", corpus)
    (corpus / "catatan [revisi].txt").write_text("  \n")
    informants = (MINI / "informants.csv").read_text() + \
        "catatan [revisi].txt,Narasumber,inf09,X,pengrajin_lokal,Sentul,L\n"
    (tmp_path / "inf.csv").write_text(informants)
    result = CliRunner().invoke(app, [
        "run", str(MINI / "config.yaml"), "--out", str(tmp_path / "o"), "--strict",
        "--set", f"corpus.path={corpus}", "--set", f"corpus.informants={tmp_path / 'inf.csv'}"])
    assert result.exit_code == 2
    assert "catatan [revisi].txt" in result.output and "Traceback" not in result.output


def test_bad_input_extra_codes_problems_name_their_own_file(tmp_path):
    from themepipe.pipeline import load_corpus

    extra = tmp_path / "extra.csv"
    extra.write_text("transcript,turn_index,themes,coder\n"
                     "desa_01.txt,1,politis,budi\n"
                     "lokal_03.txt,99,sosialisasi,budi\n"
                     "hilang.txt,1,politis,budi\n", encoding="utf-8")
    config = load_config(MINI / "config.yaml")
    corpus, codes, _ = load_corpus(config, CODEBOOK, extra_codes=[extra])
    _, problems = attach_codes(corpus.turns, codes, str(config.corpus.codes))
    found = sorted((p.code, Path(p.path).name, p.line) for p in problems)
    assert found == [("T214", "extra.csv", 3), ("T216", "extra.csv", 4)]
    # a row of the corpus codes file still names that file
    bad = tmp_path / "codes.csv"
    bad.write_text("transcript,turn_index,themes,coder\ndesa_01.txt,0,politis,ana\n",
                   encoding="utf-8")
    more = pd.concat([load_codes(extra, CODEBOOK), load_codes(bad, CODEBOOK)])
    _, problems = attach_codes(corpus.turns, more, "elsewhere.csv")
    assert ("T215", str(bad), 2) in {(p.code, p.path, p.line) for p in problems}
