"""Streaming runs (themepipe.stream): partition plan, fit sample, equality with in-memory runs."""

import filecmp
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themepipe.config import load_config
from themepipe.errors import InputError
from themepipe.ingest import discover
from themepipe.pipeline import run
from themepipe.stream import (
    BYTES_PER_SEGMENT,
    Prepared,
    fit_sample_docs,
    plan_partitions,
    sample_keys,
    sample_mask,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "kajigelem.yaml"
COMPARE_TABLES = ["theme_distribution.csv", "group_comparison.csv", "group_pairs.csv",
                  "group_distances.csv", "coding_table.csv", "coding_test.csv",
                  "quotes.csv", "informant_themes.csv", "informants.csv", "topics.csv"]


@pytest.fixture(scope="module")
def streamed_run(tmp_path_factory):
    """The bundled corpus streamed in partitions of about 200 segments."""
    out = tmp_path_factory.mktemp("streamed") / "run"
    config = load_config(CONFIG, ["executor.partition_size=200", "report.html=false",
                                  "report.xlsx=false"])
    return run(config, out, config_path=CONFIG)


def test_stream_plan_keeps_transcripts_whole_and_in_order():
    config = load_config(CONFIG)
    names = discover(config.corpus)
    root = Path(config.corpus.path)
    plan = plan_partitions(root, names, 200)
    assert [n for p in plan for n in p.names] == names
    assert [p.index for p in plan] == list(range(len(plan)))
    assert len(plan) == 7
    for part in plan[:-1]:  # every partition but the last reaches its byte budget
        assert part.nbytes >= 200 * BYTES_PER_SEGMENT
        assert part.nbytes - (root / part.names[-1]).stat().st_size < 200 * BYTES_PER_SEGMENT
    assert sum(p.nbytes for p in plan) == sum((root / n).stat().st_size for n in names)
    assert len(plan_partitions(root, names, 20000)) == 1
    assert len(plan_partitions(root, [], 200)) == 1  # one empty partition, never none


def test_stream_sample_does_not_depend_on_partitions():
    ids = [f"t{i:03d}.txt:{j}" for i in range(40) for j in range(7)]
    keys = sample_keys(ids, 3)
    assert np.array_equal(np.concatenate([sample_keys(ids[:100], 3), sample_keys(ids[100:], 3)]),
                          keys)
    assert not np.array_equal(sample_keys(ids, 4), keys)  # the seed matters
    mask = sample_mask(ids, 50, 3)
    assert mask.sum() == 50
    assert set(np.flatnonzero(mask)) == set(np.argsort(keys)[:50])
    assert sample_mask(ids, 0, 3).all() and sample_mask(ids, 280, 3).all()

    def prepared(sizes):
        out, start = [], 0
        for index, size in enumerate(sizes):
            chunk = ids[start:start + size]
            k = sample_keys(chunk, 3)
            keep = np.argsort(k)[:50]
            out.append(Prepared(index, sample=[(int(k[i]), (index << 32) + int(i), chunk[i])
                                               for i in sorted(keep)]))
            start += size
        return out

    whole = fit_sample_docs(prepared([280]), 50)
    assert whole == [[ids[i]] for i in np.flatnonzero(mask)]  # corpus order
    assert fit_sample_docs(prepared([100, 30, 150]), 50) == whole
    assert fit_sample_docs(prepared([7] * 40), 50) == whole


def test_stream_run_matches_the_in_memory_run(streamed_run, bundled_run):
    streamed, memory = streamed_run.out, bundled_run.out
    assert streamed_run.manifest["streaming"]["partitions"] == 7
    assert streamed_run.manifest["streaming"]["tables"] == "csv"
    for name in COMPARE_TABLES:
        assert filecmp.cmp(streamed / name, memory / name, shallow=False), name
    a = pd.read_csv(streamed / "segments.csv", dtype=str, keep_default_na=False)
    b = pd.read_csv(memory / "segments.csv", dtype=str, keep_default_na=False)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a.drop(columns="dominant_topic"),
                                  b.drop(columns="dominant_topic"))
    # NMF proportions are solved per partition: equal to the in-memory ones up to the
    # solver's tolerance, and the dominant topic almost everywhere
    ta = pd.read_csv(streamed / "segment_topics.csv")
    tb = pd.read_csv(memory / "segment_topics.csv")
    assert list(ta["segment_id"]) == list(tb["segment_id"])
    assert np.allclose(ta.iloc[:, 1:], tb.iloc[:, 1:], atol=0.02)
    assert np.allclose(ta.iloc[:, 1:].sum(axis=1), 1.0)
    assert (a["dominant_topic"] == b["dominant_topic"]).mean() > 0.97
    for key in ("transcripts", "turns", "segments", "informants", "informant_segments",
                "coded_segments", "stems"):
        assert streamed_run.manifest["counts"][key] == bundled_run.manifest["counts"][key], key
    assert streamed_run.manifest["inputs"] == bundled_run.manifest["inputs"]
    assert sorted(p.name for p in (streamed / "sources").iterdir()) == \
        sorted(p.name for p in (memory / "sources").iterdir())
    assert not (streamed / ".work").exists()
    assert not (streamed / "segments").exists()


def test_stream_parquet_tables_hold_the_csv_columns(tmp_path, streamed_run):
    config = load_config(CONFIG, ["executor.partition_size=200", "executor.tables=parquet",
                                  "report.html=false", "report.xlsx=false"])
    result = run(config, tmp_path / "run", config_path=CONFIG)
    folder = result.out
    assert not (folder / "segments.csv").exists()
    parts = sorted((folder / "segments").glob("part-*.parquet"))
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(7)]
    table = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    csv = pd.read_csv(streamed_run.out / "segments.csv", keep_default_na=False)
    assert list(table.columns) == list(csv.columns)
    assert list(table["segment_id"]) == list(csv["segment_id"])
    assert table["turn_index"].dtype == np.int64
    p = table["p_politis"].to_numpy()
    assert np.array_equal(np.isnan(p), csv["p_politis"].astype(str).eq("").to_numpy())
    assert np.array_equal(np.round(p[~np.isnan(p)], 6), p[~np.isnan(p)])
    assert filecmp.cmp(folder / "theme_distribution.csv",
                       streamed_run.out / "theme_distribution.csv", shallow=False)
    assert len(list((folder / "segment_topics").glob("part-*.parquet"))) == 7
    # a copy that lost a part is refused, not read as a smaller run
    from themepipe.compare import compare_run_folder
    from themepipe.errors import StageError

    copy = tmp_path / "copy"
    shutil.copytree(folder.resolve(), copy)
    assert len(compare_run_folder(copy, "group").tables["theme_distribution.csv"]) == 36
    (copy / "segments" / "part-00003.parquet").unlink()
    with pytest.raises(StageError) as info:
        compare_run_folder(copy, "group")
    assert info.value.code == "T611" and "part-00003.parquet" in info.value.message


def _corpus_copy(tmp_path):
    config = load_config(CONFIG)
    corpus = tmp_path / "transcripts"
    shutil.copytree(config.corpus.path, corpus)
    return corpus


def test_stream_a_bad_transcript_is_skipped_and_reported(tmp_path):
    corpus = _corpus_copy(tmp_path)
    victim = sorted(p for p in corpus.rglob("*.txt"))[5]
    victim.write_text("   \n", encoding="utf-8")
    name = victim.relative_to(corpus).as_posix()
    config = load_config(CONFIG, [f"corpus.path={corpus}", "executor.partition_size=200",
                                  "report.html=false", "report.xlsx=false"])
    result = run(config, tmp_path / "run", config_path=CONFIG)
    skipped = [p for p in result.problems if p.action == "skipped"]
    assert [(p.path, p.code) for p in skipped] == [(name, "T123")]
    assert not (result.out / "sources" / name).exists()
    assert result.manifest["counts"]["transcripts"] == 27
    segments = pd.read_csv(result.out / "segments.csv", dtype=str, keep_default_na=False)
    assert name not in set(segments["transcript"])


def test_stream_strict_stops_at_a_bad_transcript_and_writes_nothing(tmp_path):
    corpus = _corpus_copy(tmp_path)
    victim = sorted(p for p in corpus.rglob("*.txt"))[20]
    victim.write_text("", encoding="utf-8")
    config = load_config(CONFIG, [f"corpus.path={corpus}", "executor.partition_size=200"])
    out = tmp_path / "run"
    with pytest.raises(InputError) as info:
        run(config, out, config_path=CONFIG, strict=True)
    assert info.value.code == "T123"
    assert not out.exists()
    versions = tmp_path / ".run.runs"
    assert not versions.exists() or not any(versions.iterdir())


def test_stream_a_partition_of_skipped_files_only(tmp_path, bundled_run):
    corpus = _corpus_copy(tmp_path)
    (corpus / "zz_kosong.txt").write_text("", encoding="utf-8")  # sorts last: its own partition
    config = load_config(CONFIG, [f"corpus.path={corpus}", "executor.partition_size=1",
                                  "report.html=false", "report.xlsx=false"])
    result = run(config, tmp_path / "run", config_path=CONFIG)
    assert result.manifest["streaming"]["partitions"] == 29
    assert [(p.path, p.code, p.action) for p in result.problems
            if p.action == "skipped"] == [("zz_kosong.txt", "T123", "skipped")]
    for name in ("theme_distribution.csv", "group_comparison.csv", "quotes.csv"):
        assert filecmp.cmp(result.out / name, bundled_run.out / name, shallow=False), name


def test_stream_a_segment_table_is_not_streamed_and_says_so(tmp_path, bundled_run):
    segments = pd.read_csv(bundled_run.out / "segments.csv", keep_default_na=False)
    informant = segments[segments.role == "informant"].head(200)
    pd.DataFrame({"text": informant["text"], "informant_id": informant["informant_id"],
                  "group": informant["group"]}).to_csv(tmp_path / "segs.csv", index=False)
    config = load_config(CONFIG, [f"corpus.path={tmp_path / 'segs.csv'}",
                                  "corpus.format=table", "corpus.codes=null",
                                  "corpus.informants=null", "executor.tables=parquet",
                                  "executor.partition_size=20", "report.html=false",
                                  "report.xlsx=false"])
    result = run(config, tmp_path / "run", config_path=CONFIG)
    assert [p.code for p in result.problems if p.code == "T526"] == ["T526"]
    assert (result.out / "segments.csv").is_file() and "streaming" not in result.manifest
