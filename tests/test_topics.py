"""Tests of the topics stage: seeded models, coherence, stability, K, prevalence."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

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
@pytest.mark.parametrize("seed_words", [None, SEEDS], ids=["unseeded", "seeded"])
def test_topics_same_random_state_gives_identical_topics(corpus, model, seed_words):
    docs, _ = corpus
    first = SeededTopicModel(num_topics=4, model=model, random_state=3,
                             seed_words=seed_words).fit(docs)
    second = SeededTopicModel(num_topics=4, model=model, random_state=3,
                              seed_words=seed_words).fit(docs)
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
    # The pipeline builds the model as SeededTopicModel(**topics config minus the keys
    # it uses itself: seeded, seed_fields, fit_sample).
    own = {"seeded", "seed_fields", "fit_sample"}
    params = set(inspect.signature(SeededTopicModel.__init__).parameters) - {"self"}
    keys = set(TopicsConfig.model_fields) - own
    assert keys <= params
    defaults = TopicsConfig().model_dump(exclude=own)
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
    table = topic_prevalence(doc_topic, informants, groups, n_boot=500, random_state=1,
                             anchored_themes=["politis", None])
    assert list(table.columns) == ["group", "topic", "anchored_theme", "mean_proportion",
                                   "ci_low", "ci_high", "n_informants"]
    assert table[["group", "topic"]].values.tolist() == [["desa", 0], ["desa", 1],
                                                         ["dinas", 0], ["dinas", 1]]
    assert table["anchored_theme"].tolist() == ["politis", "", "politis", ""]
    desa = table[table["group"] == "desa"]
    np.testing.assert_allclose(desa["mean_proportion"], [1.7 / 4, 2.3 / 4])
    assert desa["n_informants"].tolist() == [3, 3]
    assert (desa["ci_low"] <= desa["mean_proportion"]).all()
    assert (desa["mean_proportion"] <= desa["ci_high"]).all()
    # informant means are 0.75, 0, 0.2: a resample cannot leave [0, 0.75] for topic 0
    assert desa["ci_low"].iloc[0] >= 0 and desa["ci_high"].iloc[0] <= 0.75
    dinas = table[table["group"] == "dinas"]
    np.testing.assert_allclose(dinas["mean_proportion"], [0.75, 0.25])
    assert dinas[["ci_low", "ci_high"]].isna().all().all()  # one informant: no spread
    again = topic_prevalence(doc_topic, informants, groups, n_boot=500, random_state=1,
                             anchored_themes=["politis", None])
    pd.testing.assert_frame_equal(table, again)
    # The config's group order wins over sorting.
    ordered = topic_prevalence(doc_topic, informants, groups, n_boot=0,
                               group_order=["dinas", "desa"])
    assert ordered["group"].tolist() == ["dinas", "dinas", "desa", "desa"]
    assert ordered[["ci_low", "ci_high"]].isna().all().all()


def test_topics_prevalence_rejects_inconsistent_input():
    doc_topic = np.full((3, 2), 0.5)
    with pytest.raises(StageError, match="T435.*3 segments"):
        topic_prevalence(doc_topic, ["a", "b"], ["g", "g", "g"])
    with pytest.raises(StageError, match="T435.*'a'"):
        topic_prevalence(doc_topic, ["a", "a", "b"], ["g", "h", "g"])
    with pytest.raises(StageError, match="T435"):
        topic_prevalence(doc_topic, ["a", "", "b"], ["g", "g", "g"])


@pytest.mark.parametrize("n_informants, seed", [(4, 0), (6, 1), (12, 2)])
def test_topics_prevalence_intervals_contain_mean_and_lie_in_unit_interval(n_informants,
                                                                           seed):
    rng = np.random.default_rng(seed)
    n = n_informants * 6
    # informants differ in how many segments they have and what they talk about
    informants = [f"i{rng.integers(n_informants)}" for _ in range(n)]
    informants[:n_informants] = [f"i{i}" for i in range(n_informants)]
    doc_topic = rng.dirichlet(np.full(4, 0.3), size=n)
    groups = ["pengrajin_lokal" if int(i[1:]) < n_informants // 2 else "pemerintah_desa"
              for i in informants]
    table = topic_prevalence(doc_topic, informants, groups, n_boot=400, random_state=seed)
    spread = table.dropna(subset=["ci_low"])
    assert len(spread) == len(table)  # every group has 2+ informants: all intervals
    assert (spread["ci_low"] <= spread["mean_proportion"]).all()
    assert (spread["mean_proportion"] <= spread["ci_high"]).all()
    assert spread[["ci_low", "ci_high"]].stack().between(0, 1).all()
    assert table["mean_proportion"].between(0, 1).all()
    # per group, the mean proportions of the topics sum to 1
    np.testing.assert_allclose(table.groupby("group")["mean_proportion"].sum(), 1.0)


# ---------------------------------------------------------------- anchoring, seeds


def test_topics_anchoring_keeps_seed_words_leading_their_topic(corpus):
    docs, _ = corpus
    # one seed word per theme: the start alone lets a topic drift; anchoring keeps it
    seeds = {"sosialisasi": ["sosialisasi"], "perencanaan": ["rencana"],
             "politis": ["politik"]}
    anchored = SeededTopicModel(num_topics=5, seed_words=seeds, no_above=0.5,
                                anchor_weight=1.0).fit(docs)
    assert anchored.n_anchor_rows_ == 3
    assert anchored.transform(docs).shape == (len(docs), 5)  # pseudo-segments left out
    top = anchored.top_terms(3)
    for k, words in enumerate(seeds.values()):
        assert words[0] in top[k], top[k]
    unanchored = SeededTopicModel(num_topics=5, seed_words=seeds, no_above=0.5,
                                  anchor_weight=0.0).fit(docs)
    assert unanchored.n_anchor_rows_ == 0
    assert not np.array_equal(anchored.topic_term_, unanchored.topic_term_)
    with pytest.raises(StageError, match="T432.*anchor_weight"):
        SeededTopicModel(anchor_weight=-1).fit(docs)


class _StubPreprocessor:
    """Lowercases and drops a few stop words; 'pengurusnya' stems to 'urus'."""

    STOP = frozenset({"yang", "itu", "dan", "tidak", "ada", "di"})

    def stem_word(self, word: str) -> str:
        word = word.lower()
        return {"pengurusnya": "urus", "perencanaan": "rencana"}.get(word, word)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        stems = [" ".join(self.stem_word(w) for w in re.findall(r"\w+", text)
                          if w.lower() not in self.STOP) for text in frame["text"]]
        return frame.assign(stems=stems)


def test_topics_theme_seed_stems_adds_words_of_one_theme_only():
    from themepipe.codebook import Codebook
    from themepipe.topics import theme_seed_stems

    codebook = Codebook(themes=[
        {"id": "perencanaan", "label": "Perencanaan lemah", "seed_words": ["Perencanaan",
                                                                             "target"],
         "example": "Tidak ada target dan anggaran, desa diam", "when_not_to_use": "pilkada"},
        {"id": "sdm_pengurus", "label": "SDM pengurus", "seed_words": ["pengurusnya"],
         "example": "Pengurusnya sibuk, desa itu sepi", "full_definition": "regenerasi"},
    ])
    pre = _StubPreprocessor()
    assert theme_seed_stems(codebook, pre) == {"perencanaan": ["rencana", "target"],
                                               "sdm_pengurus": ["urus"]}
    seeds = theme_seed_stems(codebook, pre, ["label", "example"])
    # "desa" is in both examples; "rencana" and "urus" are seed words already; the
    # when_not_to_use text is never read
    assert seeds == {"perencanaan": ["rencana", "target", "lemah", "anggaran", "diam"],
                     "sdm_pengurus": ["urus", "sdm", "pengurus", "sibuk", "sepi"]}
    assert "regenerasi" in theme_seed_stems(codebook, pre, ["full_definition"])[
        "sdm_pengurus"]
    with pytest.raises(ValueError):
        theme_seed_stems(codebook, pre, ["when_not_to_use"])


# Hand-written turns about selling pottery ("pasar") and about water ("air").  "untung"
# comes with the pasar seeds in all 6 pasar turns, "laku" in 2; "kemarau" with the air
# seeds in all 6, "sawah" in 2; "rapat" in 2 turns of each theme (no single theme);
# "orang" in every pasar turn but also in 4 others (half the turns: very common); "desa"
# in all 20.
EXPANSION_TURNS = [
    "jual untung laku orang desa", "harga untung laku orang desa",
    "jual harga untung orang rapat desa", "jual untung orang rapat desa",
    "harga untung orang desa", "jual untung orang desa",
    "sumur kemarau sawah desa", "irigasi kemarau sawah desa", "sumur kemarau rapat desa",
    "irigasi kemarau rapat desa", "sumur kemarau desa", "irigasi kemarau desa",
    "gerabah bakar orang desa", "gerabah cetak orang desa", "tanah liat orang desa",
    "tanah cetak orang desa", "gerabah warna desa", "motor jalan desa",
    "anak sekolah desa", "hujan sore desa",
]
EXPANSION_SEEDS = {"pasar": ["jual", "harga"], "air": ["sumur", "irigasi", "bendungan"]}


def test_topics_expand_seed_terms_adds_words_that_come_with_the_seeds():
    from themepipe.topics.seeding import expand_seed_terms

    docs = [t.split() for t in EXPANSION_TURNS]
    added = expand_seed_terms(docs, EXPANSION_SEEDS, n_terms=10, max_df=0.3, min_count=2)
    # NPMI: untung/kemarau always with their seeds (1.0) before laku/sawah (log 3/log 10);
    # "rapat" is as close to both themes, "orang" (10 of 20 turns) is above the cap,
    # "desa" is everywhere; the absent seed "bendungan" and the seed words are not added
    assert added == {"pasar": ["untung", "laku"], "air": ["kemarau", "sawah"]}
    # without the cap the common "orang" joins pasar (it is in every pasar turn)
    assert "orang" in expand_seed_terms(docs, EXPANSION_SEEDS, 10, max_df=1.0,
                                        min_count=2)["pasar"]
    assert expand_seed_terms(docs, EXPANSION_SEEDS, 1, max_df=0.3, min_count=2) == {
        "pasar": ["untung"], "air": ["kemarau"]}
    # words seen with the seeds in fewer than min_count turns are not added
    assert expand_seed_terms(docs, EXPANSION_SEEDS, 10, max_df=0.3, min_count=3) == {
        "pasar": ["untung"], "air": ["kemarau"]}
    assert expand_seed_terms(docs, EXPANSION_SEEDS, 0) == {"pasar": [], "air": []}
    with pytest.raises(ValueError):
        expand_seed_terms(docs, EXPANSION_SEEDS, 5, max_df=0)


@pytest.mark.parametrize("model", MODELS)
def test_topics_expanded_terms_join_their_themes_topic(model):
    docs = [t.split() for t in EXPANSION_TURNS]
    params = {"num_topics": 3, "seed_words": EXPANSION_SEEDS, "model": model,
              "no_below": 2, "no_above": 1.0, "expand_max_df": 0.3,
              "expand_min_count": 2, "random_state": 0}
    tm = SeededTopicModel(expand_terms=10, **params).fit(docs)
    assert tm.expanded_terms_ == {"pasar": ["untung", "laku"], "air": ["kemarau", "sawah"]}
    assert tm.missing_seed_words_ == {"air": ["bendungan"]}
    terms = {t: tm.dictionary_.token2id[t] for t in ("jual", "harga", "untung", "laku")}
    ids = dict(zip(tm.seed_term_ids_[0].tolist(), tm.seed_term_weights_[0].tolist()))
    assert ids == {terms["jual"]: 1.0, terms["harga"]: 1.0, terms["untung"]: 0.5,
                   terms["laku"]: 0.5}
    assert "untung" in tm.top_terms(4)[0] and "kemarau" in tm.top_terms(4)[1]
    same = SeededTopicModel(expand_terms=10, **params).fit(docs)
    np.testing.assert_array_equal(tm.topic_term_, same.topic_term_)
    plain = SeededTopicModel(expand_terms=0, **params).fit(docs)
    assert plain.expanded_terms_ == {"pasar": [], "air": []}
    assert len(plain.seed_term_ids_[0]) == 2
    with pytest.raises(StageError, match="T432.*expand_weight"):
        SeededTopicModel(expand_weight=0, **params).fit(docs)
    with pytest.raises(StageError, match="T432.*seed_max_df"):
        SeededTopicModel(seed_max_df=1.5, **params).fit(docs)


def test_topics_seed_max_df_drops_common_seed_words():
    docs = [t.split() for t in EXPANSION_TURNS]
    seeds = {"pasar": ["jual", "orang"], "air": ["sumur"]}
    tm = SeededTopicModel(num_topics=3, seed_words=seeds, no_below=2, no_above=1.0,
                          seed_max_df=0.4, expand_terms=0).fit(docs)
    # "orang" is in 10 of 20 turns: not a seed; "jual" (4 turns) stays one
    assert tm.common_seed_words_ == {"pasar": ["orang"]}
    assert tm.seed_term_ids_[0].tolist() == [tm.dictionary_.token2id["jual"]]


# ---------------------------------------------------------------- topics command


@pytest.mark.parametrize("text, ks", [("6:8", [6, 7, 8]), ("6:12:3", [6, 9, 12]),
                                      ("9,6, 7", [6, 7, 9]), ("5", [5])])
def test_topics_parse_k_range(text, ks):
    from themepipe.topics.command import parse_k_range

    assert parse_k_range(text) == ks


@pytest.mark.parametrize("text", ["8:6", "0:3", "six", "", "6:8:0", "6-8"])
def test_topics_parse_k_range_rejects_bad_values(text):
    from themepipe.topics.command import parse_k_range

    with pytest.raises(StageError, match="T443"):
        parse_k_range(text)


def test_topics_selection_csv_contents_for_tiny_k_range(corpus, tmp_path):
    from themepipe.topics.command import write_csv_atomic

    docs, _ = corpus
    small = docs[:120]
    calls = []
    table = select_num_topics(small, [3, 4], n_seeds=3, seed_words=SEEDS, no_above=0.5,
                              callback=lambda k, i: calls.append((k, i)))
    assert calls == [(3, 0), (3, 1), (3, 2), (4, 0), (4, 1), (4, 2)]
    path = tmp_path / "sel" / "topic_selection.csv"
    write_csv_atomic(table, path)
    assert [p.name for p in path.parent.iterdir()] == ["topic_selection.csv"]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "k,n_runs,npmi_mean,npmi_sd,umass_mean,umass_sd,stability,selected"
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "4"]
    assert all(line.split(",")[1] == "3" for line in lines[1:])
    for line in lines[1:]:
        for cell in line.split(",")[2:7]:
            assert re.fullmatch(r"-?\d+\.\d{6}", cell), line
    back = pd.read_csv(path)
    assert back["selected"].tolist().count(True) == 1
    assert back.loc[back["selected"], "k"].item() == choose_num_topics(back)
    # each row's figures are those of its K's fits with random states 0, 1, 2
    for k in (3, 4):
        runs = [SeededTopicModel(num_topics=k, seed_words=SEEDS, no_above=0.5,
                                 random_state=r).fit(small) for r in range(3)]
        npmi = [m.npmi_.mean() for m in runs]
        row = back[back["k"] == k].iloc[0]
        assert row["npmi_mean"] == pytest.approx(np.mean(npmi), abs=1e-6)
        assert row["npmi_sd"] == pytest.approx(np.std(npmi, ddof=1), abs=1e-6)
        assert row["stability"] == pytest.approx(
            topic_stability([m.top_terms(10) for m in runs]), abs=1e-6)


def test_topics_cli_writes_selection_and_prints_chosen_k(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from themepipe.cli import app

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    out = tmp_path / "choice"
    result = CliRunner().invoke(app, ["topics", "configs/kajigelem.yaml", "--k", "6:7",
                                      "--seeds", "2", "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    table = pd.read_csv(out / "topic_selection.csv")
    assert table["k"].tolist() == [6, 7] and table["n_runs"].tolist() == [2, 2]
    assert np.isfinite(table[["npmi_mean", "umass_mean", "stability"]]).all().all()
    chosen = table.loc[table["selected"], "k"].item()
    assert f"chosen K = {chosen}" in result.output
    bad = CliRunner().invoke(app, ["topics", "configs/kajigelem.yaml", "--k", "3:4",
                                   "--out", str(tmp_path / "no")])
    assert bad.exit_code == 2 and "T436" in bad.output
    assert not (tmp_path / "no").exists()


# ---------------------------------------------------------------- the bundled run


def test_topics_bundled_run_writes_topic_prevalence(bundled_run):
    out = bundled_run.out
    table = pd.read_csv(out / "topic_prevalence.csv", keep_default_na=False)
    for column in ("ci_low", "ci_high"):  # empty cell: a group with one informant
        table[column] = pd.to_numeric(table[column].replace("", np.nan))
    assert list(table.columns) == ["group", "topic", "anchored_theme", "mean_proportion",
                                   "ci_low", "ci_high", "n_informants"]
    config_groups = ["pemerintah_desa", "pemerintah_daerah", "dinas_instansi",
                     "pengurus_kajigelem", "anggota_kajigelem", "pengrajin_lokal"]
    groups = list(dict.fromkeys(table["group"]))
    assert groups == [g for g in config_groups if g in groups]
    topics = pd.read_csv(out / "topics.csv", keep_default_na=False)
    k = len(topics)
    assert len(table) == len(groups) * k
    assert table["anchored_theme"].tolist()[:k] == topics["anchored_theme"].tolist()
    spread = table.dropna(subset=["ci_low", "ci_high"])
    assert (spread["ci_low"] <= spread["mean_proportion"] + 1e-6).all()
    assert (spread["mean_proportion"] <= spread["ci_high"] + 1e-6).all()
    assert spread[["ci_low", "ci_high"]].stack().between(0, 1).all()
    np.testing.assert_allclose(table.groupby("group")["mean_proportion"].sum(), 1.0,
                               atol=1e-5)
    # the group means are the means of segment_topics.csv over the group's segments
    segments = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    proportions = pd.read_csv(out / "segment_topics.csv").merge(
        segments[["segment_id", "group"]], on="segment_id")
    first = groups[0]
    expected = proportions[proportions["group"] == first][[f"topic_{t}" for t in
                                                           range(k)]].mean()
    got = table[table["group"] == first]["mean_proportion"].to_numpy()
    np.testing.assert_allclose(got, expected.to_numpy(), atol=2e-6)


def test_topics_bundled_seeded_topics_carry_their_theme(bundled_run):
    from sklearn.metrics import roc_auc_score

    out = bundled_run.out
    segments = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    proportions = pd.read_csv(out / "segment_topics.csv").merge(
        segments[["segment_id", "gold_themes"]], on="segment_id")
    coded = proportions[proportions["gold_themes"] != ""]
    topics = pd.read_csv(out / "topics.csv", keep_default_na=False)
    for row in topics[topics["anchored_theme"] != ""].itertuples():
        theme = row.anchored_theme
        has = coded["gold_themes"].str.split(";").apply(lambda c, t=theme: t in c)
        auc = roc_auc_score(has, coded[f"topic_{row.topic}"])
        # well above chance for every theme (bench/topics.py prints the exact figures)
        assert auc > 0.58, (row.anchored_theme, auc)
