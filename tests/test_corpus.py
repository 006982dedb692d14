"""The bundled Kajigelem corpus meets its brief (counts, coverage, codes)."""

import re
from pathlib import Path

import pytest

from themepipe.codebook import load_codebook
from themepipe.config import load_config
from themepipe.ingest import ingest_transcripts, load_codes

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config(ROOT / "configs" / "kajigelem.yaml")
CODEBOOK = load_codebook(CONFIG.codebook)


@pytest.fixture(scope="module")
def corpus():
    return ingest_transcripts(CONFIG.corpus, strict=True)


@pytest.fixture(scope="module")
def coded(corpus):
    codes = load_codes(CONFIG.corpus.codes, CODEBOOK)
    turns = corpus.turns.merge(codes, on=["transcript", "turn_index"], how="inner")
    assert (turns["role"] == "informant").all()
    return turns


def test_corpus_size_groups_and_label_styles(corpus):
    turns = corpus.turns
    assert turns["transcript"].nunique() >= 24
    informant = turns[turns["role"] == "informant"]
    assert len(informant) >= 480
    per_group = informant.groupby("group")["informant_id"].nunique()
    assert sorted(per_group.index) == sorted(CONFIG.groups)
    assert (per_group >= 3).all()
    styles = set()
    for text in corpus.sources.values():
        if re.search(r"^\*\*[^*\n]+:\*\*", text, re.M):
            styles.add("markdown")
        if re.search(r"^\[\d\d:\d\d:\d\d\] ", text, re.M):
            styles.add("timestamp")
        if re.search(r"^(Pak|Bu|Mas|Mbak) [^:\n]+:", text, re.M):
            styles.add("name")
        if re.search(r"^Narasumber:", text, re.M):
            styles.add("generic")
    assert len(styles) >= 3
    attributes = set(corpus.informants.columns) - {"transcript", "speaker_label",
                                                   "informant_id", "name", "group"}
    assert {"dusun", "gender"} <= attributes


def test_corpus_codes_cover_themes_and_groups(corpus, coded):
    share_coded = coded["transcript"].nunique() / corpus.turns["transcript"].nunique()
    assert 0.6 <= share_coded <= 0.8
    per_group = coded.groupby("group")["informant_id"].nunique()
    assert len(per_group) == 6 and (per_group >= 2).all()
    counts = {t: coded["themes"].str.split(";").apply(lambda ts: t in ts).sum()
              for t in CODEBOOK.ids}
    assert min(counts.values()) >= 50, counts
    n_none = (coded["themes"] == "none").mean()
    assert 0.15 <= n_none <= 0.35
    assert (coded["themes"].str.count(";") >= 1).sum() >= 20


def test_corpus_themes_are_not_keywords(coded):
    from themepipe.pipeline import seed_stems
    from themepipe.preprocess import Preprocessor

    pre = Preprocessor.from_config(CONFIG.preprocess)
    seeds = seed_stems(CODEBOOK, pre)
    stems = pre.transform(coded[["text"]])["stems"].str.split().apply(set)
    hits = total = 0
    for theme in CODEBOOK.ids:
        mask = coded["themes"].str.split(";").apply(lambda ts: theme in ts)
        without = stems[mask].apply(lambda s: not (s & set(seeds[theme])))
        hits += int(without.sum())
        total += int(mask.sum())
    assert hits / total >= 0.30, f"only {hits}/{total} themed turns lack their seed words"
