"""Bad inputs get one clear line (or a reported problem), never a traceback."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themepipe.cli import app
from themepipe.codebook import load_codebook
from themepipe.config import CorpusConfig, load_config
from themepipe.errors import ConfigError, InformantError, InputError, OutputError
from themepipe.ingest import ingest_table, load_codes, load_informants
from themepipe.runfolder import RunFolder
from themepipe.segment import attach_codes

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
CODEBOOK = load_codebook(ROOT / "configs" / "codebook.yaml")


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

    with pytest.raises(OutputError, match="T502.*No space left"):
        with RunFolder(out) as folder:
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
