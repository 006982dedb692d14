"""End-to-end runs: the bundled corpus, a mini corpus and a segment table."""

import json
from pathlib import Path

import pandas as pd
import pytest

from themepipe.config import load_config
from themepipe.errors import InformantError, StageError
from themepipe.pipeline import run

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
OUTPUTS = {"segments.csv", "segment_topics.csv", "topics.csv", "theme_distribution.csv",
           "informant_themes.csv", "informants.csv", "manifest.json", "sources"}


def _read(out, name):
    return pd.read_csv(Path(out) / name, dtype={"gold_themes": str, "pred_themes": str},
                       keep_default_na=False)


def test_pipeline_bundled_run_outputs(bundled_run):
    out = Path(bundled_run.out)
    assert OUTPUTS <= {p.name for p in out.iterdir()}
    dist = _read(out, "theme_distribution.csv")
    assert len(dist) == 36
    assert sorted(dist["group"].unique()) == sorted(load_config(
        ROOT / "configs" / "kajigelem.yaml").groups)
    assert dist["share_segments"].between(0, 1).all()
    assert set(dist["source"]) <= {"gold", "model", "gold+model"}
    for _, group in dist.groupby("group"):
        assert group["share_codings"].sum() == pytest.approx(1.0, abs=1e-5)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["transcripts"] >= 24
    assert set(manifest["timings_s"]) >= {"ingest", "preprocess", "topics", "classify"}
    assert all(len(v) == 64 for v in manifest["inputs"].values())


def test_pipeline_bundled_offsets_slice_sources(bundled_run):
    out = Path(bundled_run.out)
    segments = _read(out, "segments.csv")
    assert len(segments) > 900
    cache = {}
    for row in segments.itertuples():
        if row.transcript not in cache:
            cache[row.transcript] = (out / "sources" / row.transcript).read_text(
                encoding="utf-8")
        assert cache[row.transcript][row.start_char:row.end_char] == row.text, row.segment_id


def test_pipeline_bundled_segment_topics_rows_sum_to_one(bundled_run):
    out = Path(bundled_run.out)
    topics = pd.read_csv(out / "segment_topics.csv")
    assert topics.shape[1] == 1 + 9
    assert topics.drop(columns="segment_id").sum(axis=1).round(4).eq(1).all()
    table = pd.read_csv(out / "topics.csv", keep_default_na=False)
    assert list(table["anchored_theme"][:6]) == ["sosialisasi", "perencanaan", "politis",
                                                  "sinkronisasi", "respon_masyarakat",
                                                  "sdm_pengurus"]


def test_pipeline_mini_run_is_deterministic_and_honours_num_topics(tmp_path):
    config = load_config(MINI / "config.yaml", ["topics.num_topics=8"])
    first = run(config, tmp_path / "a")
    second = run(config, tmp_path / "b")
    for name in ("segments.csv", "theme_distribution.csv", "topics.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert len(pd.read_csv(tmp_path / "a" / "topics.csv")) == 8
    segments = _read(first.out, "segments.csv")
    assert list(segments.loc[segments.segment_id == "desa_01.txt:3", "gold_themes"]) == [
        "sosialisasi;perencanaan"]
    assert list(segments.loc[segments.segment_id == "desa_01.txt:1", "gold_themes"]) == ["none"]
    assert (segments.loc[segments.role == "interviewer", "pred_themes"] == "").all()
    informant = segments[segments.role == "informant"]
    assert (informant["pred_themes"] != "").all()
    # "Nggih, nggih. [tertawa]" has no stems: no topic, no predicted theme
    thanks = segments[segments.segment_id == "desa_01.txt:5"].iloc[0]
    assert thanks["stems"] == "" and thanks["pred_themes"] == "none"
    assert thanks["dominant_topic"] == ""
    # one informant per group in the mini corpus: T605 warns that groups cannot be
    # compared; every theme finds seed words (codebook example text adds some), so no T431
    assert {p.code for p in second.problems} == {"T605"}
    assert all(p.action == "warning" for p in second.problems)


def test_pipeline_num_topics_below_seeded_is_clear_error(tmp_path):
    config = load_config(MINI / "config.yaml", ["topics.num_topics=4"])
    with pytest.raises(StageError, match="num_topics is 4 but the codebook seeds 6"):
        run(config, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_pipeline_undeclared_group_is_refused(tmp_path):
    config = load_config(MINI / "config.yaml", ["groups=[pemerintah_desa]"])
    with pytest.raises(InformantError, match="T208.*'anggota_kajigelem' is not declared"):
        run(config, tmp_path / "x")


def test_pipeline_table_format_writes_same_outputs(tmp_path, bundled_run):
    segments = _read(bundled_run.out, "segments.csv")
    informant = segments[segments.role == "informant"].head(60)
    table = pd.DataFrame({"text": informant["text"], "informant_id": informant["informant_id"],
                          "group": informant["group"], "themes": informant["gold_themes"]})
    table.to_csv(tmp_path / "segs.csv", index=False)
    config = load_config(MINI / "config.yaml", [
        f"corpus.path={tmp_path / 'segs.csv'}", "corpus.format=table", "corpus.codes=null",
        "corpus.informants=null"])
    result = run(config, tmp_path / "out")
    assert OUTPUTS - {"sources"} <= {p.name for p in Path(result.out).iterdir()}
    out = _read(result.out, "segments.csv")
    assert list(out["text"]) == list(table["text"])
    assert list(out["gold_themes"]) == list(table["themes"])
    dist = pd.read_csv(Path(result.out) / "theme_distribution.csv")
    assert len(dist) == informant["group"].nunique() * 6


def test_pipeline_theme_without_seed_words_is_a_warning(tmp_path):
    # without the codebook's example text, short transcripts lack some themes' seed words
    config = load_config(MINI / "config.yaml", ["topics.seed_fields=[]"])
    result = run(config, tmp_path / "run")
    unseeded = [p for p in result.problems if p.code == "T431"]
    assert unseeded and all(p.action == "warning" for p in unseeded)
    assert all("has none of its seed words" in p.message for p in unseeded)
    topics = pd.read_csv(tmp_path / "run" / "topics.csv", keep_default_na=False)
    assert len(topics) == config.topics.num_topics
