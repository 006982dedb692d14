"""bench/make_corpus.py: reproducible benchmark corpora that the pipeline ingests."""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
INDONLU = ROOT.parent / "shared" / "data" / "indonlu"
SCRIPT = ROOT / "bench" / "make_corpus.py"

needs_data = pytest.mark.skipif(not INDONLU.is_dir(),
                                reason="../shared/data/indonlu is absent")
N = 14


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "corpus"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(N), str(out), "--seed", "3"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@needs_data
def test_make_corpus_same_seed_is_byte_identical_and_other_seed_differs(corpus, tmp_path):
    out, _ = corpus
    spec = importlib.util.spec_from_file_location("make_corpus", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_corpus(N, tmp_path / "again", seed=3)
    module.make_corpus(N, tmp_path / "other", seed=4)
    first, again = files(out), files(tmp_path / "again")
    assert len(first) == N + 3  # transcripts + informants.csv, codes.csv, config.yaml
    assert first == again
    other = files(tmp_path / "other")
    assert other["informants.csv"] != first["informants.csv"]


@needs_data
def test_make_corpus_writes_the_bundled_formats(corpus):
    out, _ = corpus
    names = sorted(str(p.relative_to(out / "transcripts"))
                   for p in (out / "transcripts").rglob("*") if p.is_file())
    assert len(names) == N and {Path(n).suffix for n in names} <= {".txt", ".md"}
    with open(out / "informants.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["transcript", "speaker_label", "informant_id", "name", "group",
                             "dusun", "gender", "jabatan"]
    assert {r["transcript"] for r in rows} == set(names)
    for row in rows:  # every informant label opens at least one line of its transcript
        text = (out / "transcripts" / row["transcript"]).read_text(encoding="utf-8")
        assert any(line.split("] ")[-1].lstrip("*").startswith(row["speaker_label"] + ":")
                   for line in text.splitlines()), row


@needs_data
def test_make_corpus_runs_through_the_pipeline_with_distinct_texts(corpus, tmp_path):
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out, stdout = corpus
    config = out / "config.yaml"
    result = run(load_config(config, ["report.html=false", "report.xlsx=false"]),
                 tmp_path / "run", config_path=config, use_cache=False)
    assert [p.message for p in result.problems] == []
    counts = result.manifest["counts"]
    assert counts["transcripts"] == N
    segments = pd.read_csv(tmp_path / "run" / "segments.csv", dtype=str,
                           keep_default_na=False)
    share = segments["text"].nunique() / len(segments)
    assert share >= 0.95
    assert f"{len(segments)} segments" in stdout
    codes = pd.read_csv(out / "codes.csv", dtype=str)
    informant = segments[segments["role"] == "informant"]
    assert (informant["gold_themes"] != "").sum() == len(codes) > 0
    informants = pd.read_csv(out / "informants.csv", dtype=str)
    assert set(informant["informant_id"]) == set(informants["informant_id"])
    distribution = pd.read_csv(tmp_path / "run" / "theme_distribution.csv")
    assert set(distribution["group"]) <= set(informants["group"])


def test_make_corpus_fails_in_one_line_without_the_data(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "3", str(tmp_path / "c"),
                           "--indonlu", str(tmp_path / "missing")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "IndoNLU data not found" in proc.stderr
    assert not (tmp_path / "c").exists()
