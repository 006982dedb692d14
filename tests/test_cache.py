"""Stage cache: keys, storage without pickle, and reruns of the pipeline."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themepipe.cache import Entry, StageCache, cache_dir, section_digest, stage_key
from themepipe.config import PreprocessConfig

ROOT = Path(__file__).resolve().parents[1]


def frame():
    return pd.DataFrame({"segment_id": ["a.txt:0", "a.txt:1"], "turn_index": [0, 1],
                         "text": ["Pengurusnya sibuk.", ""], "p_politis": [0.25, np.nan]})


def test_cache_round_trip_keeps_values_and_types(tmp_path):
    cache = StageCache(tmp_path / "c")
    entry = Entry({"segments": frame()}, {"problems": [{"code": "T120", "line": 4}]},
                  {"doc_topic": np.eye(2)})
    cache.save("topics", "k1", entry)
    loaded = cache.load("topics", "k1")
    pd.testing.assert_frame_equal(loaded.frames["segments"], frame())
    assert loaded.data == {"problems": [{"code": "T120", "line": 4}]}
    np.testing.assert_array_equal(loaded.arrays["doc_topic"], np.eye(2))
    assert cache.reused == ["topics"]
    stored = sorted(p.name for p in (tmp_path / "c" / "topics" / "k1").iterdir())
    assert stored == ["arrays.npz", "data.json", "segments.parquet"]


def test_cache_miss_disabled_and_corrupt_entries(tmp_path):
    assert StageCache(None).load("topics", "k1") is None
    StageCache(None).save("topics", "k1", Entry({"segments": frame()}))
    cache = StageCache(tmp_path / "c")
    assert cache.load("topics", "nope") is None
    cache.save("topics", "k1", Entry({"segments": frame()}))
    (tmp_path / "c" / "topics" / "k1" / "segments.parquet").write_bytes(b"PAR1 rusak")
    assert cache.load("topics", "k1") is None
    assert not (tmp_path / "c" / "topics" / "k1").exists()
    assert cache.reused == []


def test_cache_refuses_pickled_arrays(tmp_path):
    cache = StageCache(tmp_path / "c")
    cache.save("topics", "k1", Entry(arrays={"x": np.zeros(2)}))
    folder = tmp_path / "c" / "topics" / "k1"
    np.savez(folder / "arrays.npz", x=np.array([{"a": 1}], dtype=object))
    assert cache.load("topics", "k1") is None


def test_cache_unwritable_value_is_skipped_not_fatal(tmp_path):
    cache = StageCache(tmp_path / "c")
    bad = pd.DataFrame({"text": pd.Series(["lone surrogate \ud800"], dtype=object)})
    cache.save("ingest", "k1", Entry({"turns": bad}))
    assert cache.load("ingest", "k1") is None
    assert [p.name for p in (tmp_path / "c" / "ingest").iterdir()] == []


def test_cache_keeps_the_newest_entries(tmp_path):
    cache = StageCache(tmp_path / "c")
    for i in range(5):
        cache.save("compare", f"k{i}", Entry(data={"i": i}))
        os.utime(tmp_path / "c" / "compare" / f"k{i}", (1000 + i, 1000 + i))
    cache.save("compare", "k5", Entry(data={"i": 5}))
    assert sorted(p.name for p in (tmp_path / "c" / "compare").iterdir()) == [
        "k3", "k4", "k5"]


def test_cache_keys_follow_config_and_files(tmp_path):
    words = tmp_path / "stop.txt"
    words.write_text("yang\n", encoding="utf-8")
    section = PreprocessConfig(stop_words=words)
    first = stage_key("preprocess", "upstream", section_digest(section))
    assert first == stage_key("preprocess", "upstream", section_digest(section))
    assert first != stage_key("preprocess", "other-upstream", section_digest(section))
    assert first != stage_key("preprocess", "upstream",
                              section_digest(PreprocessConfig(stop_words=words, stem=False)))
    words.write_text("yang\ndan\n", encoding="utf-8")
    assert first != stage_key("preprocess", "upstream", section_digest(section))
    assert len(first) == 64 and json.dumps(section_digest(section))


def test_cache_dir_is_beside_the_run_link(tmp_path):
    assert cache_dir(tmp_path / "runs" / "kajigelem") == tmp_path / "runs" / ".kajigelem.cache"


@pytest.mark.parametrize("dtype", ["int64", "float64", "object", "bool"])
def test_cache_frame_dtypes_survive(tmp_path, dtype):
    cache = StageCache(tmp_path / "c")
    values = {"int64": [1, 2], "float64": [0.5, np.nan], "object": ["a", ""],
              "bool": [True, False]}[dtype]
    table = pd.DataFrame({"x": pd.Series(values, dtype=dtype)})
    cache.save("s", "k", Entry({"t": table}))
    pd.testing.assert_frame_equal(cache.load("s", "k").frames["t"], table)


# ------------------------------------------------------------------ pipeline reruns

MINI = ROOT / "tests" / "fixtures" / "mini"
RUN_SPECIFIC = {"manifest.json", "report.html", "report.xlsx"}
ALL_STAGES = ["ingest", "segment", "preprocess", "topics", "classify", "compare"]


def files_of(out: Path) -> dict[str, bytes]:
    target = out.resolve()
    return {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*"))
            if p.is_file() and p.name not in RUN_SPECIFIC}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A cold run of the mini corpus: (out, its files)."""
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out = tmp_path_factory.mktemp("cache") / "run"
    result = run(load_config(MINI / "config.yaml"), out)
    assert result.manifest["reused_stages"] == []
    return out, files_of(out)


def rerun(first_run, tmp_path, overrides=(), forbid_loading=False, monkeypatch=None,
          use_cache=True, config=MINI / "config.yaml"):
    """Run again into a fresh --out that shares a copy of the first run's cache."""
    import shutil

    from themepipe.config import load_config
    from themepipe.pipeline import run

    out = tmp_path / "run"
    shutil.copytree(cache_dir(first_run[0]), cache_dir(out))
    if forbid_loading:
        def refuse(*args, **kwargs):
            raise AssertionError("spaCy or the model was loaded")

        monkeypatch.setattr("themepipe.classify_stage.load_classifier", refuse)
        monkeypatch.setattr("themepipe.preprocess.Preprocessor.from_config", refuse)
        monkeypatch.setattr("themepipe.preprocess.tokenizer.get_nlp", refuse)
    result = run(load_config(config, list(overrides)), out, use_cache=use_cache)
    return out, result.manifest


def test_cache_unchanged_rerun_reuses_every_stage_without_loading(first_run, tmp_path,
                                                                  monkeypatch):
    out, manifest = rerun(first_run, tmp_path, forbid_loading=True, monkeypatch=monkeypatch)
    assert manifest["reused_stages"] == ALL_STAGES
    assert files_of(out) == first_run[1]
    assert manifest["cache"] == str(cache_dir(out))


@pytest.mark.parametrize("override, rerun_from", [
    ("topics.num_topics=8", "topics"),
    ("classifier.cv_folds=4", "classify"),
    ("compare.permutations=999", "compare"),
    ("preprocess.stem=false", "segment"),
    ("segment.max_sentences=1", "segment"),
])
def test_cache_changed_section_reruns_it_and_downstream_only(first_run, tmp_path,
                                                             override, rerun_from):
    _, manifest = rerun(first_run, tmp_path, [override])
    assert manifest["reused_stages"] == ALL_STAGES[:ALL_STAGES.index(rerun_from)]
    assert set(manifest["timings_s"]) >= set(ALL_STAGES[ALL_STAGES.index(rerun_from):])


def test_cache_edited_transcript_reruns_everything(first_run, tmp_path):
    import shutil

    corpus = tmp_path / "transcripts"
    shutil.copytree(MINI / "transcripts", corpus)
    with open(corpus / "lokal_03.txt", "a", encoding="utf-8") as handle:
        handle.write("Peneliti: Ada lagi?\nNarasumber: Sudah, Mas.\n")
    out, manifest = rerun(first_run, tmp_path, [f"corpus.path={corpus}"])
    assert manifest["reused_stages"] == []
    segments = (out / "segments.csv").read_text(encoding="utf-8")
    assert "Sudah, Mas." in segments


def test_cache_edited_lexicon_reruns_from_segment(first_run, tmp_path):
    lexicon = tmp_path / "lexicon.tsv"
    lexicon.write_text((ROOT / "configs" / "lexicon.tsv").read_text(encoding="utf-8")
                       + "ngurusin\turus\n", encoding="utf-8")
    _, manifest = rerun(first_run, tmp_path, [f"preprocess.lexicon={lexicon}"])
    assert manifest["reused_stages"] == ["ingest"]


def test_cache_no_cache_computes_everything_and_stores_nothing(first_run, tmp_path):
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out = tmp_path / "run"
    result = run(load_config(MINI / "config.yaml"), out, use_cache=False)
    assert result.manifest["reused_stages"] == [] and result.manifest["cache"] is None
    assert not cache_dir(out).exists()
    assert files_of(out) == first_run[1]


def test_cache_strict_rerun_does_not_reuse_a_lenient_ingest(first_run, tmp_path):
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out = tmp_path / "run"
    lenient = run(load_config(MINI / "config.yaml"), out)
    strict = run(load_config(MINI / "config.yaml"), out, strict=True)
    assert lenient.manifest["reused_stages"] == []
    assert strict.manifest["reused_stages"] == []


def test_cache_deferred_entries_are_written_only_on_flush(tmp_path):
    cache = StageCache(tmp_path / "c", deferred=True)
    cache.save("topics", "k1", Entry(data={"a": 1}))
    assert not (tmp_path / "c").exists()
    cache.flush()
    assert cache.load("topics", "k1").data == {"a": 1}
