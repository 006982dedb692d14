"""Tallies: partitions of the segments table merge into exactly the whole table's tables."""

import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from themepipe.cli import app
from themepipe.compare import (
    COMPARISON_FILES,
    compare_groups,
    compare_tally,
    informant_themes,
    informant_themes_from_tally,
    merge_tallies,
    read_run_folder,
    tally_segments,
)
from themepipe.errors import StageError
from themepipe.quotes import select_quotes
from themepipe.runfolder import write_csv
from themepipe.segment_tables import iter_segment_parts, read_segments
from themepipe.topics.prevalence import (
    prevalence_from_tally,
    topic_prevalence,
    topic_tally,
)

SETTINGS = {"n_bootstrap": 300, "n_permutations": 400, "random_state": 3}


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    write_csv(frame, buffer)
    return buffer.getvalue()


def _partitions(segments: pd.DataFrame, n_parts: int) -> list[pd.DataFrame]:
    """Split the table into ``n_parts`` runs of whole transcripts, in table order."""
    transcripts = list(dict.fromkeys(segments["transcript"]))
    chunks = np.array_split(np.arange(len(transcripts)), n_parts)
    return [segments[segments["transcript"].isin([transcripts[i] for i in chunk])]
            for chunk in chunks]


def _merged(parts: list[pd.DataFrame], themes, by: str, seed: int, nested: bool):
    tallies = [tally_segments(part, themes, by, position_offset=k << 32)
               for k, part in enumerate(parts)]
    random.Random(seed).shuffle(tallies)
    if nested and len(tallies) > 2:  # merge of merges, as a tree reduction would do
        half = len(tallies) // 2
        tallies = [merge_tallies(tallies[half:]), merge_tallies(tallies[:half])]
    return merge_tallies(tallies)


@pytest.fixture(scope="module")
def bundled_tables(bundled_run):
    segments, _informants, manifest = read_run_folder(Path(bundled_run.out))
    return segments, manifest["themes"], manifest["config"]["groups"]


@pytest.mark.parametrize("n_parts, seed, nested", [(2, 0, False), (5, 1, True),
                                                   (13, 2, False), (13, 3, True)])
def test_tally_partitions_merge_to_the_whole_tables(bundled_tables, n_parts, seed, nested):
    segments, themes, groups = bundled_tables
    whole = compare_groups(segments, themes, "group", groups, **SETTINGS)
    parts = _partitions(segments, n_parts)
    assert len(parts) == n_parts and sum(map(len, parts)) == len(segments)
    merged = _merged(parts, themes, "group", seed, nested)
    streamed = compare_tally(merged, "group", groups, **SETTINGS)
    assert list(streamed.tables) == COMPARISON_FILES
    for name in COMPARISON_FILES:
        pd.testing.assert_frame_equal(streamed.tables[name], whole.tables[name])
        assert _csv_bytes(streamed.tables[name]) == _csv_bytes(whole.tables[name]), name
    per_informant = informant_themes_from_tally(merged)
    pd.testing.assert_frame_equal(per_informant, informant_themes(segments, themes))
    # the merged tally is the whole table's tally, column for column
    one = tally_segments(segments, themes, "group")
    pd.testing.assert_frame_equal(merged.informants, one.informants)
    pd.testing.assert_frame_equal(merged.groups, one.groups)
    assert (merged.informants.drop(columns=["group", "informant_id"]).dtypes
            == np.int64).all()
    # the bundled run has 6 groups x 6 themes, quotes in most cells
    assert len(whole.tables["quotes.csv"]) >= 50


def test_tally_merge_is_a_plain_group_by_sum(bundled_tables):
    segments, themes, _ = bundled_tables
    tallies = [tally_segments(part, themes) for part in _partitions(segments, 5)]
    stacked = pd.concat([t.informants for t in tallies], ignore_index=True)
    summed = stacked.groupby(["group", "informant_id"]).sum().reset_index()
    pd.testing.assert_frame_equal(summed, merge_tallies(tallies).informants)
    stacked = pd.concat([t.groups for t in tallies], ignore_index=True)
    summed = stacked.groupby("group").sum().reset_index()
    pd.testing.assert_frame_equal(summed, merge_tallies(tallies).groups)

    def unsorted_sum(frames, keys):  # an executor's group-by sum: any row/column order
        frame = pd.concat(frames[::-1], ignore_index=True)
        summed = frame.groupby(keys, sort=False).sum().reset_index()
        return summed[summed.columns[::-1]]

    merged = merge_tallies(tallies, merge_sum=unsorted_sum)
    for name in ("informants", "groups", "quotes"):
        pd.testing.assert_frame_equal(getattr(merged, name), getattr(merge_tallies(tallies),
                                                                       name))


def test_tally_mean_probability_from_micro_units(bundled_tables):
    segments, themes, _ = bundled_tables
    tally = tally_segments(segments, themes)
    informant = segments[segments["role"] == "informant"]
    theme = min(themes)
    row = tally.groups.set_index("group").loc["pengrajin_lokal"]
    p = informant.loc[informant["group"] == "pengrajin_lokal", f"p_{theme}"].dropna()
    assert row[f"pn_{theme}"] == len(p) > 0
    assert row[f"psum_{theme}"] == int(np.rint(p * 1e6).sum())


def test_tally_quote_ties_follow_table_order_across_partitions():
    n = 8
    segments = pd.DataFrame({
        "segment_id": [f"w.txt:{k}" for k in range(n)], "transcript": "w.txt",
        "informant_id": ["inf01", "inf02"] * (n // 2), "group": "pengrajin",
        "role": "informant", "start_char": np.arange(n) * 10,
        "end_char": np.arange(n) * 10 + 9, "text": [f"kalimat ke-{k}" for k in range(n)],
        "gold_themes": "", "pred_themes": "politis",
        "p_politis": [0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5],
    })
    segments.loc[6, "gold_themes"] = "politis"  # a human coding ranks first
    whole = select_quotes(segments, ["politis"])
    assert list(whole["segment_id"]) == ["w.txt:6", "w.txt:5", "w.txt:0"]
    # ties at 0.5: segment 0 comes first in the table; partition 2 must not win them
    # although its own positions (0, 1, ...) are smaller than partition 1's
    parts = [segments.iloc[:3], segments.iloc[3:5], segments.iloc[5:]]
    tallies = [tally_segments(p, ["politis"], position_offset=k << 32)
               for k, p in enumerate(parts)]
    for order in ([2, 1, 0], [1, 2, 0], [0, 2, 1]):
        merged = merge_tallies([tallies[k] for k in order])
        quotes = compare_tally(merged, n_bootstrap=0, n_permutations=0).tables["quotes.csv"]
        pd.testing.assert_frame_equal(quotes, whole)
    without = segments.drop(index=[5, 6])  # only ties left: table order 0, 1, 2
    tallies = [tally_segments(p, ["politis"], position_offset=k << 32)
               for k, p in enumerate([without.iloc[:2], without.iloc[2:]])]
    quotes = compare_tally(merge_tallies(tallies[::-1]), n_bootstrap=0,
                           n_permutations=0).tables["quotes.csv"]
    assert list(quotes["segment_id"]) == ["w.txt:0", "w.txt:1", "w.txt:2"]


def test_tally_merge_rejects_other_themes_and_nothing():
    frame = pd.DataFrame({"informant_id": ["i1"], "group": ["g"], "role": ["informant"],
                          "pred_themes": ["a"]})
    with pytest.raises(StageError, match="T610"):
        merge_tallies([tally_segments(frame, ["a"], per_cell=0),
                       tally_segments(frame, ["a", "b"], per_cell=0)])
    with pytest.raises(StageError, match="T610"):
        merge_tallies([])


def test_tally_empty_partition_merges_as_nothing(bundled_tables):
    segments, themes, _groups = bundled_tables
    interviewer = segments[segments["role"] != "informant"].iloc[:5]
    empty = tally_segments(interviewer, themes, position_offset=7 << 32)
    assert empty.informants.empty and empty.groups.empty and empty.quotes.empty
    whole = tally_segments(segments, themes)
    merged = merge_tallies([empty, whole, empty])
    for name in ("informants", "groups", "quotes"):
        pd.testing.assert_frame_equal(getattr(merged, name), getattr(whole, name))


@pytest.mark.parametrize("n_parts, seed", [(2, 0), (5, 1), (13, 2)])
def test_tally_topic_prevalence_from_partitions(bundled_run, bundled_tables, n_parts, seed):
    segments, _, groups = bundled_tables
    doc = pd.read_csv(Path(bundled_run.out) / "segment_topics.csv")
    doc = doc.merge(segments[["segment_id", "transcript", "informant_id", "group"]],
                    on="segment_id", how="left", validate="one_to_one")
    topics = [c for c in doc.columns if c.startswith("topic_")]
    doc[topics] = doc[topics].div(doc[topics].sum(axis=1), axis=0)
    whole = topic_prevalence(doc[topics].to_numpy(), doc["informant_id"], doc["group"],
                             n_boot=300, random_state=seed, group_order=groups)
    tallies = [topic_tally(p[topics].to_numpy(), p["informant_id"], p["group"])
               for p in _partitions(doc, n_parts)]
    random.Random(seed).shuffle(tallies)
    merged = pd.concat(tallies).groupby(["group", "informant_id"]).sum().reset_index()
    merged = merged.sample(frac=1.0, random_state=seed)  # row order does not matter
    streamed = prevalence_from_tally(merged, n_boot=300, random_state=seed,
                                     group_order=groups)
    pd.testing.assert_frame_equal(streamed, whole)
    assert _csv_bytes(streamed) == _csv_bytes(whole)
    # the fixed-point mean is the float mean to within the 1e-9 rounding
    group = groups[0]
    rows = doc[doc["group"] == group]
    assert streamed.loc[streamed.group == group, "mean_proportion"].to_numpy() == \
        pytest.approx(rows[topics].mean().to_numpy(), abs=1e-9)


def _parquet_run(out: Path, copy: Path, n_parts: int) -> None:
    """A copy of a run folder whose segments are Parquet parts (as a streamed run)."""
    copy.mkdir()
    for name in ("informants.csv", "manifest.json", "theme_distribution.csv"):
        (copy / name).write_bytes((out / name).read_bytes())
    table = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    for column in ("turn_index", "start_char", "end_char"):
        table[column] = table[column].astype(np.int64)
    for column in [c for c in table.columns if c.startswith("p_")]:
        table[column] = pd.to_numeric(table[column]).astype(np.float64)
    (copy / "segments").mkdir()
    for k, part in enumerate(_partitions(table, n_parts)):
        part.to_parquet(copy / "segments" / f"part-{k:05d}.parquet", index=False)


def test_tally_compare_cli_on_parquet_parts_equals_csv(bundled_run, tmp_path):
    pytest.importorskip("pyarrow")
    out = Path(bundled_run.out)
    _parquet_run(out, tmp_path / "parquet", 4)
    as_csv = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    parts = list(iter_segment_parts(tmp_path / "parquet"))
    assert len(parts) == 4
    pd.testing.assert_frame_equal(read_segments(tmp_path / "parquet"), as_csv)
    some = ["segment_id", "p_politis", "gold_themes", "not_a_column"]
    pd.testing.assert_frame_equal(read_segments(tmp_path / "parquet", some),
                                  as_csv[some[:3]])
    csv_run = tmp_path / "csv"
    csv_run.mkdir()
    for name in ("segments.csv", "informants.csv", "manifest.json",
                 "theme_distribution.csv"):
        (csv_run / name).write_bytes((out / name).read_bytes())
    for run in (csv_run, tmp_path / "parquet"):
        for by in ("group", "dusun"):
            result = CliRunner().invoke(app, ["compare", str(run), "--by", by])
            assert result.exit_code in (0, 1), result.output
    for by in ("group", "dusun"):
        for name in COMPARISON_FILES:
            assert (tmp_path / "parquet" / f"compare-{by}" / name).read_bytes() == \
                (csv_run / f"compare-{by}" / name).read_bytes(), (by, name)
    for name in COMPARISON_FILES:  # and `compare --by group` is the run's own tables
        assert (csv_run / "compare-group" / name).read_bytes() == \
            (out / name).read_bytes(), name


def test_tally_run_folder_without_segments_is_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "group"])
    assert result.exit_code == 2
    assert "[T603]" in result.output and "segments.csv" in result.output


def test_tally_qdpx_export_reads_parquet_parts(bundled_run, tmp_path):
    pytest.importorskip("pyarrow")
    import shutil

    from themepipe.qdpx.export import build_project

    out = Path(bundled_run.out)
    _parquet_run(out, tmp_path / "parquet", 3)
    shutil.copytree(out / "sources", tmp_path / "parquet" / "sources")
    xml, sources, _ = build_project(tmp_path / "parquet")
    expected_xml, expected_sources, _ = build_project(out)
    assert xml == expected_xml and sources == expected_sources
    assert len(sources) == len(list((out / "sources").rglob("*.*")))
