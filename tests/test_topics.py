"""Tests of the topics stage: seeded models, coherence, stability, K, prevalence."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from themepipe.config import TopicsConfig
from themepipe.errors import StageError
from themepipe.topics import (
    SeededTopicModel,
    absent_terms,
    choose_num_topics,
    matched_jaccard,
    npmi_coherence,
    select_num_topics,
    topic_prevalence,
    topic_stability,
    umass_coherence,
)

MODELS = ["nmf", "lda"]

# Four latent themes with their own vocabularies plus shared filler words; the words are
# stems of the kind the Kajigelem interviews use.
THEME_WORDS = {
    "sosialisasi": ["sosialisasi", "informasi", "dengar", "undang", "kumpul", "balai",
                    "umum", "kabar"],
    "perencanaan": ["rencana", "target", "anggaran", "jadwal", "evaluasi", "dana",
                    "lanjut", "tahun"],
    "politis": ["politik", "pilkada", "calon", "kampanye", "suara", "jabat", "partai",
                "pilih"],
    "pasar": ["jual", "harga", "beli", "pesan", "kirim", "laku", "untung", "pasar"],
}
FILLER = ["gerabah", "tanah", "bakar", "bentuk", "warna", "cetak", "kayu", "cat",
          "rumah", "anak", "sawah", "hujan", "pagi", "sore", "motor", "jalan"]
SEEDS = {"sosialisasi": ["sosialisasi", "informasi"],
         "perencanaan": ["rencana", "target"],
         "politis": ["politik", "pilkada", "kampanye"]}


def make_docs(n: int = 240, seed: int = 7) -> tuple[list[list[str]], list[str]]:
    rng = np.random.default_rng(seed)
    themes = list(THEME_WORDS)
    docs, labels = [], []
    for i in range(n):
        theme = themes[i % len(themes)]
        words = list(rng.choice(THEME_WORDS[theme], 4)) + list(rng.choice(FILLER, 3))
        docs.append([str(w) for w in words])
        labels.append(theme)
    return docs, labels


@pytest.fixture(scope="module")
def corpus() -> tuple[list[list[str]], list[str]]:
    return make_docs()


@pytest.fixture(scope="module", params=MODELS)
def seeded(request, corpus) -> SeededTopicModel:
    docs, _ = corpus
    return SeededTopicModel(num_topics=5, seed_words=SEEDS, model=request.param,
                            random_state=0, no_above=0.5).fit(docs)


# ---------------------------------------------------------------- model


@pytest.mark.parametrize("model", MODELS)
def test_topics_same_random_state_gives_identical_topics(corpus, model):
    docs, _ = corpus
    first = SeededTopicModel(num_topics=4, model=model, random_state=3).fit(docs)
    second = SeededTopicModel(num_topics=4, model=model, random_state=3).fit(docs)
    pd.testing.assert_frame_equal(first.topics_table(), second.topics_table())
    np.testing.assert_array_equal(first.topic_term_, second.topic_term_)
    np.testing.assert_array_equal(first.transform(docs), second.transform(docs))
    # transform is repeatable on the same fitted model, too
    np.testing.assert_array_equal(first.transform(docs), first.transform(docs))


@pytest.mark.parametrize("model", MODELS)
def test_topics_other_random_state_changes_start(corpus, model):
    docs, _ = corpus
    a = SeededTopicModel(num_topics=4, model=model, random_state=0).fit(docs)
    b = SeededTopicModel(num_topics=4, model=model, random_state=1).fit(docs)
    assert not np.array_equal(a.topic_term_, b.topic_term_)


@pytest.mark.parametrize("model", MODELS)
def test_topics_proportions_sum_to_one(corpus, model):
    docs, _ = corpus
    tm = SeededTopicModel(num_topics=5, seed_words=SEEDS, model=model).fit(docs + [[]])
    new = docs[:5] + [[], ["kata", "asing"], ["rencana"]]
    proportions = tm.transform(new)
    assert proportions.shape == (8, 5)
    np.testing.assert_allclose(proportions.sum(axis=1), 1.0, atol=1e-9)
    assert proportions.min() >= 0
    # A segment without dictionary terms gets the prior mean (LDA) or uniform (NMF).
    if model == "lda":
        alpha = tm.model_.alpha / tm.model_.alpha.sum()
        np.testing.assert_allclose(proportions[5], alpha, atol=1e-6)
    else:
        np.testing.assert_allclose(proportions[5], np.full(5, 0.2))
    np.testing.assert_allclose(proportions[5], proportions[6])
    # A segment made of one seed word leans to its theme's topic.
    assert proportions[7].argmax() == 1


def test_topics_seeded_topics_keep_their_seed_words(seeded):
    top = seeded.top_terms(10)
    for k, (theme, seeds) in enumerate(SEEDS.items()):
        assert set(seeds) <= set(top[k]), (theme, top[k])
        # and the topic takes up its theme's other words, not just the keyword list
        others = set(THEME_WORDS[theme]) - set(seeds)
        assert len(others & set(top[k][:8])) >= 3, (theme, top[k])
    assert seeded.anchored_themes_ == list(SEEDS) + [None, None]
    assert seeded.missing_seed_words_ == {}


def test_topics_seeded_proportions_separate_their_theme(seeded, corpus):
    docs, labels = corpus
    proportions = seeded.transform(docs)
    for k, theme in enumerate(SEEDS):
        in_theme = np.array([label == theme for label in labels])
        assert proportions[in_theme, k].mean() > 0.5
        assert proportions[~in_theme, k].mean() < 0.2


def test_topics_table_format(seeded):
    table = seeded.topics_table(topn=6)
    assert list(table.columns) == ["topic", "anchored_theme", "top_terms", "npmi"]
    assert table["topic"].tolist() == [0, 1, 2, 3, 4]
    assert table["anchored_theme"].tolist() == list(SEEDS) + ["", ""]
    pair = r"[^\s:]+:\d\.\d{6}"
    for cell in table["top_terms"]:
        assert re.fullmatch(rf"{pair}( {pair}){{5}}", cell), cell
        weights = [float(p.rsplit(":", 1)[1]) for p in cell.split()]
        assert weights == sorted(weights, reverse=True)
    assert np.isfinite(table["npmi"]).all()
    assert table["npmi"].between(-1, 1).all()
    # The topic-term weights are distributions.
    np.testing.assert_allclose(seeded.topic_term_.sum(axis=1), 1.0)


@pytest.mark.parametrize("model", MODELS)
def test_topics_num_topics_below_seeded_themes_is_an_error(corpus, model):
    docs, _ = corpus
    with pytest.raises(StageError) as err:
        SeededTopicModel(num_topics=2, seed_words=SEEDS, model=model).fit(docs)
    assert err.value.code == "T430"
    assert "num_topics is 2" in str(err.value) and ">= 3" in str(err.value)
    assert "\n" not in str(err.value)


def test_topics_missing_seed_words_are_skipped_and_recorded(corpus):
    docs, _ = corpus
    seeds = dict(SEEDS, politis=["politik", "pemilu", "caleg"])
    tm = SeededTopicModel(num_topics=4, seed_words=seeds).fit(docs)
    assert tm.missing_seed_words_ == {"politis": ["pemilu", "caleg"]}
    assert "politik" in tm.top_terms(5)[2]


def test_topics_theme_without_any_seed_word_keeps_an_unseeded_topic(corpus):
    docs, _ = corpus
    tm = SeededTopicModel(num_topics=4, seed_words=dict(SEEDS, politis=["pemilu"])).fit(docs)
    assert tm.unseeded_themes_ == ["politis"]
    assert tm.anchored_themes_[2] == "politis" and len(tm.seed_term_ids_[2]) == 0
    assert tm.missing_seed_words_["politis"] == ["pemilu"]
    np.testing.assert_allclose(tm.transform(docs).sum(axis=1), 1.0)


def test_topics_seed_words_survive_dictionary_filtering():
    # "program" is in every segment, far above no_above; as a seed word it is kept.
    docs = [["program", w, v] for w in ("rencana", "target", "jual", "beli")
            for v in ("gerabah", "tanah", "kayu")] * 3
    tm = SeededTopicModel(num_topics=2, seed_words={"perencanaan": ["program"]},
                          no_below=1, no_above=0.5).fit(docs)
    assert "program" in tm.dictionary_.token2id
    unseeded = SeededTopicModel(num_topics=2, no_below=1, no_above=0.5).fit(docs)
    assert "program" not in unseeded.dictionary_.token2id


def test_topics_bigrams_merge_pairs_and_anchor_seed_bigrams(corpus):
    docs, _ = corpus
    docs = [d + ["tindak", "lanjut"] if i % 4 == 1 else d for i, d in enumerate(docs)]
    seeds = dict(SEEDS, perencanaan=["rencana", "tindak", "lanjut"])
    tm = SeededTopicModel(num_topics=4, seed_words=seeds, bigrams=True,
                          bigram_min_count=3, bigram_threshold=0.5, no_above=0.5
                          ).fit(docs)
    assert "tindak_lanjut" in tm.dictionary_.token2id
    # every "tindak" was merged into the bigram; "lanjut" also occurs alone
    assert tm.missing_seed_words_ == {"perencanaan": ["tindak"]}
    bigram = tm.dictionary_.token2id["tindak_lanjut"]
    assert bigram in tm.seed_term_ids_[1]
    assert "tindak_lanjut" in tm.top_terms(5)[1]
    assert tm.transform([["tindak", "lanjut"]]).argmax() == 1


def test_topics_invalid_input_and_parameters_are_errors(corpus):
    docs, _ = corpus
    with pytest.raises(NotFittedError):
        SeededTopicModel().transform(docs)
    with pytest.raises(StageError, match="T433"):
        SeededTopicModel().fit(["rencana target anggaran"])
    with pytest.raises(StageError, match="T433"):
        SeededTopicModel().fit([[], []])
    with pytest.raises(StageError, match="T433.*no_below"):
        SeededTopicModel(num_topics=2, no_below=1000).fit(docs)
    with pytest.raises(StageError, match="T432.*model"):
        SeededTopicModel(model="ctm").fit(docs)
    with pytest.raises(StageError, match="T432.*no_above"):
        SeededTopicModel(no_above=1.5).fit(docs)
    with pytest.raises(StageError, match="T432.*alpha"):
        SeededTopicModel(model="lda", alpha="flat").fit(docs)


def test_topics_config_keys_are_model_parameters():
    # The pipeline builds the model as SeededTopicModel(**topics config minus seeded).
    params = set(inspect.signature(SeededTopicModel.__init__).parameters) - {"self"}
    keys = set(TopicsConfig.model_fields) - {"seeded"}
    assert keys <= params
    defaults = TopicsConfig().model_dump(exclude={"seeded"})
    model = SeededTopicModel(**defaults)
    assert model.get_params()["model"] == "nmf"
    for key, value in defaults.items():
        assert inspect.signature(SeededTopicModel).parameters[key].default == value, key


# ---------------------------------------------------------------- coherence


TEXTS = [["rencana", "target", "dana"]] * 5 + [["jual", "beli", "harga"]] * 5


def test_topics_npmi_of_always_paired_words_is_one_and_absent_word_scores_minus_one():
    assert npmi_coherence([["rencana", "target"]], TEXTS)[0] == pytest.approx(1.0, abs=1e-6)
    # "pemilu" never occurs: its 4 of the 6 ordered pairs score -1, the 2 others 1.
    scores = npmi_coherence([["rencana", "target", "pemilu"]], TEXTS)
    assert scores[0] == pytest.approx(-1 / 3, abs=1e-6)
    assert npmi_coherence([["pemilu", "caleg"]], TEXTS)[0] == -1.0
    assert absent_terms([["rencana", "pemilu", "caleg"]], TEXTS) == [["pemilu", "caleg"]]


def test_topics_coherence_is_finite_for_words_absent_from_reference_texts():
    topics = [["rencana", "pemilu", "target", "harga"], ["jual", "beli", "caleg"],
              ["pemilu", "caleg", "kampanye"]]
    npmi = npmi_coherence(topics, TEXTS)
    umass = umass_coherence(topics, TEXTS)
    assert np.isfinite(npmi).all() and np.isfinite(umass).all()
    assert (npmi >= -1).all() and (npmi <= 1).all()
    assert umass[2] == pytest.approx(math.log(1e-12))
    # Never-co-occurring present pairs still come from gensim, below the paired ones.
    assert npmi[1] < npmi_coherence([["jual", "beli"]], TEXTS)[0]


def test_topics_coherence_rejects_unusable_input():
    with pytest.raises(StageError, match="T434"):
        npmi_coherence([["rencana"]], TEXTS)
    with pytest.raises(StageError, match="T434"):
        npmi_coherence([["rencana", "target"]], [])
    with pytest.raises(StageError, match="T434"):
        umass_coherence(["rencana target"], TEXTS)


def test_topics_npmi_ranks_coherent_topic_above_mixed_one(corpus):
    docs, _ = corpus
    coherent = THEME_WORDS["politis"][:6]
    mixed = [THEME_WORDS[t][i] for t in THEME_WORDS for i in range(2)][:6]
    scores = npmi_coherence([coherent, mixed], docs, topn=6)
    assert scores[0] > 0.1 > scores[1]


# ---------------------------------------------------------------- stability, K


def test_topics_stability_matches_topics_one_to_one():
    run = [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]]
    assert topic_stability([run, run[::-1]], topn=3) == 1.0
    other = [["a", "b", "x"], ["d", "e", "f"], ["p", "q", "r"]]
    # matched pairs: abc~abx (2/4), def~def (1), ghi~pqr (0)
    assert matched_jaccard(run, other, topn=3) == pytest.approx(0.5)
    assert topic_stability([run, run, other], topn=3) == pytest.approx((1 + 0.5 + 0.5) / 3)
    with pytest.raises(StageError, match="T436"):
        topic_stability([run])
    with pytest.raises(StageError, match="T436"):
        matched_jaccard(run, run[:2])


def test_topics_choose_num_topics_rule():
    table = pd.DataFrame({"k": [4, 5, 6, 7], "npmi_mean": [0.10, 0.14, 0.15, 0.20],
                          "npmi_sd": [0.01, 0.01, 0.02, 0.01],
                          "stability": [0.9, 0.8, 0.7, 0.3]})
    # K=7 is unstable; best eligible is K=6 (0.15 +- 0.02); K=5 is within one sd.
    assert choose_num_topics(table) == 5
    assert choose_num_topics(table, min_stability=0.2) == 7
    assert choose_num_topics(table.assign(stability=0.1)) == 7


def test_topics_select_num_topics_table(corpus):
    docs, _ = corpus
    table = select_num_topics(docs, [4, 3], n_seeds=2, seed_words=SEEDS, no_above=0.5)
    assert list(table.columns) == ["k", "n_runs", "npmi_mean", "npmi_sd", "umass_mean",
                                   "umass_sd", "stability", "selected"]
    assert table["k"].tolist() == [3, 4]
    assert table["selected"].sum() == 1
    assert np.isfinite(table.drop(columns="selected").to_numpy(dtype=float)).all()
    assert table["stability"].between(0, 1).all()
    assert table.loc[table["selected"], "k"].item() == choose_num_topics(table)
    with pytest.raises(StageError, match="T436"):
        select_num_topics(docs, [2, 4], n_seeds=2, seed_words=SEEDS)
    with pytest.raises(StageError, match="T436"):
        select_num_topics(docs, [4], n_seeds=1)


# ---------------------------------------------------------------- prevalence


def test_topics_prevalence_means_and_intervals():
    doc_topic = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.2, 0.8],
                          [0.6, 0.4], [0.9, 0.1]])
    informants = ["a", "a", "b", "c", "d", "d"]
    groups = ["desa", "desa", "desa", "desa", "dinas", "dinas"]
    table = topic_prevalence(doc_topic, informants, groups, n_boot=500, random_state=1)
    assert list(table.columns) == ["group", "topic", "n_informants", "n_segments",
                                   "mean_proportion", "ci_low", "ci_high"]
    assert table[["group", "topic"]].values.tolist() == [["desa", 0], ["desa", 1],
                                                         ["dinas", 0], ["dinas", 1]]
    desa = table[table["group"] == "desa"]
    np.testing.assert_allclose(desa["mean_proportion"], [1.7 / 4, 2.3 / 4])
    assert desa["n_informants"].tolist() == [3, 3] and desa["n_segments"].tolist() == [4, 4]
    assert (desa["ci_low"] <= desa["mean_proportion"]).all()
    assert (desa["mean_proportion"] <= desa["ci_high"]).all()
    # informant means are 0.75, 0, 0.2: a resample cannot leave [0, 0.75] for topic 0
    assert desa["ci_low"].iloc[0] >= 0 and desa["ci_high"].iloc[0] <= 0.75
    dinas = table[table["group"] == "dinas"]
    np.testing.assert_allclose(dinas["mean_proportion"], [0.75, 0.25])
    assert dinas[["ci_low", "ci_high"]].isna().all().all()  # one informant: no spread
    again = topic_prevalence(doc_topic, informants, groups, n_boot=500, random_state=1)
    pd.testing.assert_frame_equal(table, again)


def test_topics_prevalence_rejects_inconsistent_input():
    doc_topic = np.full((3, 2), 0.5)
    with pytest.raises(StageError, match="T435.*3 segments"):
        topic_prevalence(doc_topic, ["a", "b"], ["g", "g", "g"])
    with pytest.raises(StageError, match="T435.*'a'"):
        topic_prevalence(doc_topic, ["a", "a", "b"], ["g", "h", "g"])
    with pytest.raises(StageError, match="T435"):
        topic_prevalence(doc_topic, ["a", "", "b"], ["g", "g", "g"])
