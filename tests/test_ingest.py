from pathlib import Path

import pandas as pd
import pytest

from themepipe.codebook import load_codebook
from themepipe.config import CorpusConfig
from themepipe.errors import InformantError, InputError
from themepipe.ingest import (TURN_COLUMNS, check_themes, ingest_table, ingest_transcripts,
                              load_codes, load_informants)

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
CODEBOOK = load_codebook(ROOT / "configs" / "codebook.yaml")


def _corpus(**kw):
    base = dict(path=MINI / "transcripts", informants=MINI / "informants.csv",
                interviewer_labels=["P", "Peneliti", "Pewawancara"])
    base.update(kw)
    return CorpusConfig(**base)


def test_ingest_transcripts_turns_roles_and_offsets():
    corpus = ingest_transcripts(_corpus())
    turns = corpus.turns
    assert list(turns.columns) == TURN_COLUMNS
    assert sorted(corpus.sources) == ["anggota_02.md", "desa_01.txt", "lokal_03.txt"]
    assert list(turns["transcript"].unique()) == ["anggota_02.md", "desa_01.txt",
                                                   "lokal_03.txt"]
    desa = turns[turns.transcript == "desa_01.txt"].reset_index(drop=True)
    assert list(desa["role"]) == ["interviewer", "informant"] * 3
    assert list(desa["turn_index"]) == list(range(6))
    assert desa.loc[1, "text"] == ("Nggih, monggo. Paguyuban itu dulu dibentuk habis gempa.\n"
                                   "Waktu itu banyak yang semangat.\n\n"
                                   "Tapi sekarang ya sepi, Mbak.")
    assert desa.loc[1, "informant_id"] == "inf01" and desa.loc[1, "group"] == "pemerintah_desa"
    assert desa.loc[0, "informant_id"] == "" and desa.loc[1, "speaker"] == "Pak Joyo (Dukuh)"
    assert corpus.metadata["desa_01.txt"]["Informan"] == "Pak Joyo"
    for row in turns.itertuples():
        assert corpus.sources[row.transcript][row.start_char:row.end_char] == row.text
    lokal = corpus.sources["lokal_03.txt"]
    assert "\r" not in lokal
    assert turns.loc[turns.segment_id == "lokal_03.txt:3", "text"].item() == (
        "Lewat langganan sendiri, ke pengepul di Kasongan.")
    assert corpus.problems == []


def test_ingest_skips_bad_file_and_reports_it(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    for path in (MINI / "transcripts").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "kosong.txt").write_text("  \n")
    informants = pd.read_csv(MINI / "informants.csv")
    informants.loc[len(informants)] = ["kosong.txt", "Narasumber", "inf09", "X", "pengrajin_lokal",
                                       "Sentul", "L"]
    informants.to_csv(tmp_path / "inf.csv", index=False)
    corpus = ingest_transcripts(_corpus(path=folder, informants=tmp_path / "inf.csv"))
    assert [p.code for p in corpus.problems] == ["T123"]
    assert corpus.problems[0].path == "kosong.txt" and corpus.problems[0].action == "skipped"
    assert "kosong.txt" not in corpus.sources
    with pytest.raises(InputError, match="T123"):
        ingest_transcripts(_corpus(path=folder, informants=tmp_path / "inf.csv"), strict=True)


def test_ingest_transcript_without_informant_row_is_reported(tmp_path):
    informants = pd.read_csv(MINI / "informants.csv").iloc[:2]
    informants.to_csv(tmp_path / "inf.csv", index=False)
    corpus = ingest_transcripts(_corpus(informants=tmp_path / "inf.csv"))
    assert [(p.code, p.path) for p in corpus.problems] == [("T207", "lokal_03.txt")]


def test_ingest_informants_duplicate_and_missing_column(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("transcript,speaker_label,informant_id,group\na.txt,K,i1,g\na.txt,K,i2,g\n")
    with pytest.raises(InformantError, match="T203") as info:
        load_informants(path)
    assert info.value.line == 3
    path.write_text("transcript,speaker_label,informant_id,kelompok\na.txt,K,i1,g\n")
    with pytest.raises(InformantError, match="no column 'group'; columns found: "
                       "transcript, speaker_label, informant_id, kelompok"):
        load_informants(path)


def test_ingest_codes_checks_themes(tmp_path):
    codes = load_codes(MINI / "codes.csv", CODEBOOK)
    assert list(codes["themes"]) == ["none", "sosialisasi;perencanaan", "sdm_pengurus",
                                     "sosialisasi"]
    assert check_themes("perencanaan; sosialisasi", CODEBOOK, "x", 1) == ["sosialisasi",
                                                                         "perencanaan"]
    bad = tmp_path / "codes.csv"
    bad.write_text("transcript,turn_index,themes\na.txt,1,sosialisasi;korupsi\n")
    with pytest.raises(InformantError, match="T210.*'korupsi' is not in the codebook") as info:
        load_codes(bad, CODEBOOK)
    assert info.value.line == 2


def test_ingest_table_rows_become_segments(tmp_path):
    path = tmp_path / "segs.csv"
    pd.DataFrame({"text": ["Sosialisasinya kurang.", "Pengurus sibuk.", "Harga tanah liat naik."],
                  "informant_id": ["a", "b", "a"], "group": ["g1", "g2", "g1"],
                  "themes": ["sosialisasi", "", "none"]}).to_csv(path, index=False)
    corpus, codes = ingest_table(CorpusConfig(path=path, format="table"), CODEBOOK)
    assert list(corpus.turns["segment_id"]) == ["segs.csv:0", "segs.csv:1", "segs.csv:2"]
    assert list(corpus.turns["end_char"]) == [22, 15, 22]
    assert list(codes["turn_index"]) == [0, 2] and list(codes["themes"]) == ["sosialisasi", "none"]
    assert sorted(corpus.informants["informant_id"]) == ["a", "b"]
    with pytest.raises(InputError, match="T112.*no column 'kelompok'; columns found: text"):
        ingest_table(CorpusConfig(path=path, format="table", group_column="kelompok"), CODEBOOK)
