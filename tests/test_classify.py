"""Tests of themepipe.classify: ThemeClassifier and KeywordBaseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score

from themepipe.classify import (
    HYPERPARAMETERS,
    THRESHOLD_GRID,
    KeywordBaseline,
    ThemeClassifier,
    _nb_ratio,
    make_classifier,
)
from themepipe.config import ClassifierConfig
from themepipe.errors import StageError

THEMES = ["sosialisasi", "perencanaan", "politis"]
# Stems that carry each theme, and stems any segment may contain.
THEME_STEMS = {
    "sosialisasi": ["tahu", "dengar", "informasi", "undang", "kumpul", "paham", "warga"],
    "perencanaan": ["rencana", "target", "anggar", "jadwal", "program", "dadak", "arah"],
    "politis": ["pilih", "calon", "kampanye", "lurah", "dukung", "partai", "jabat"],
}
FILLER = ["ya", "itu", "terus", "kan", "sih", "gitu", "banyak", "orang", "dulu", "sana",
          "bikin", "kerajinan", "kayu", "pasar", "jual", "pengrajin", "desa", "mbak"]
SHARE = Path(__file__).resolve().parents[2] / "shared"


def synthetic_corpus(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Segments of stems: 0-2 themes each (about a quarter none), noisy filler."""
    rng = np.random.default_rng(seed)
    texts, Y = [], np.zeros((n, len(THEMES)), dtype=int)
    for i in range(n):
        draw = rng.random()
        k = 0 if draw < 0.25 else (1 if draw < 0.8 else 2)
        chosen = rng.choice(len(THEMES), size=k, replace=False)
        words = list(rng.choice(FILLER, size=rng.integers(4, 9)))
        for j in chosen:
            Y[i, j] = 1
            words += list(rng.choice(THEME_STEMS[THEMES[j]], size=rng.integers(1, 3)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, Y


@pytest.fixture(scope="module")
def corpus():
    X_train, Y_train = synthetic_corpus(240, seed=1)
    X_test, Y_test = synthetic_corpus(120, seed=2)
    return X_train, Y_train, X_test, Y_test


@pytest.fixture(scope="module")
def fitted(corpus):
    X_train, Y_train, _, _ = corpus
    return ThemeClassifier(themes=THEMES, random_state=0).fit(X_train, Y_train)


def test_classify_multilabel_outputs_have_documented_shapes(fitted, corpus):
    _, _, X_test, _ = corpus
    proba = fitted.predict_proba(X_test)
    scores = fitted.decision_function(X_test)
    pred = fitted.predict(X_test)
    assert proba.shape == scores.shape == pred.shape == (120, 3)
    assert proba.min() >= 0 and proba.max() <= 1
    assert set(np.unique(pred)) <= {0, 1}
    assert pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, (proba >= fitted.thresholds_).astype(int))
    # Calibration is monotone per theme: higher score, higher probability.
    for k in range(3):
        order = np.argsort(scores[:, k])
        assert np.all(np.diff(proba[order, k]) >= -1e-12)


def test_classify_learns_themes_from_stems(fitted, corpus):
    _, _, X_test, Y_test = corpus
    pred = fitted.predict(X_test)
    assert f1_score(Y_test, pred, average="macro") >= 0.9
    # Segments with no theme are mostly left uncoded.
    none = Y_test.sum(axis=1) == 0
    assert (pred[none].sum(axis=1) == 0).mean() >= 0.8


def test_classify_thresholds_come_from_the_grid(fitted):
    assert fitted.thresholds_.shape == (3,)
    assert np.all(np.isin(fitted.thresholds_, THRESHOLD_GRID))
    np.testing.assert_array_equal(fitted.theme_counts_, fitted.theme_counts_.astype(int))
    assert fitted.coef_.shape == (3, fitted.n_features_)


def test_classify_same_seed_and_data_give_identical_predictions(corpus, fitted):
    X_train, Y_train, X_test, _ = corpus
    again = ThemeClassifier(themes=THEMES, random_state=0).fit(X_train, Y_train)
    np.testing.assert_array_equal(again.predict_proba(X_test), fitted.predict_proba(X_test))
    np.testing.assert_array_equal(again.thresholds_, fitted.thresholds_)


def test_classify_reads_raw_text_case_insensitively(fitted, corpus):
    _, _, X_test, _ = corpus
    shouted = [text.upper() for text in X_test]
    np.testing.assert_array_equal(fitted.predict_proba(shouted),
                                  fitted.predict_proba(X_test))


@pytest.mark.parametrize("label_form", ["onehot", "ids", "names"])
def test_classify_multiclass_accepts_each_label_form(corpus, label_form):
    X_train, Y_train, X_test, _ = corpus
    single = Y_train.sum(axis=1) == 1
    X1 = [x for x, keep in zip(X_train, single, strict=True) if keep]
    ids = Y_train[single].argmax(axis=1)
    labels = {"onehot": Y_train[single], "ids": ids,
              "names": np.array([THEMES[i] for i in ids], dtype=object)}[label_form]
    clf = ThemeClassifier(themes=THEMES, mode="multiclass").fit(X1, labels)
    proba = clf.predict_proba(X_test)
    pred = clf.predict(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(pred.sum(axis=1), np.ones(len(X_test)))
    np.testing.assert_array_equal(pred.argmax(axis=1), proba.argmax(axis=1))
    reference = ThemeClassifier(themes=THEMES, mode="multiclass").fit(X1, ids)
    np.testing.assert_array_equal(proba, reference.predict_proba(X_test))
    assert np.isnan(clf.thresholds_).all()


def test_classify_multiclass_learns_single_theme_segments(corpus):
    X_train, Y_train, X_test, Y_test = corpus
    single = Y_train.sum(axis=1) == 1
    X1 = [x for x, keep in zip(X_train, single, strict=True) if keep]
    clf = ThemeClassifier(themes=THEMES, mode="multiclass").fit(
        X1, Y_train[single].argmax(axis=1))
    test_single = Y_test.sum(axis=1) == 1
    pred = clf.predict([x for x, keep in zip(X_test, test_single, strict=True) if keep])
    assert (pred.argmax(axis=1) == Y_test[test_single].argmax(axis=1)).mean() >= 0.9


def test_classify_theme_never_coded_is_never_predicted(corpus):
    X_train, Y_train, X_test, _ = corpus
    Y = np.hstack([Y_train, np.zeros((len(X_train), 1), dtype=int)])
    clf = ThemeClassifier(themes=THEMES + ["sinkronisasi"]).fit(X_train, Y)
    proba = clf.predict_proba(X_test)
    assert proba[:, 3].max() < 1e-3
    assert clf.predict(X_test)[:, 3].sum() == 0


def test_classify_handles_a_theme_with_one_coded_segment(corpus):
    X_train, Y_train, X_test, _ = corpus
    Y = Y_train.copy()
    Y[:, 2] = 0
    Y[0, 2] = 1
    clf = ThemeClassifier(themes=THEMES).fit(X_train, Y)
    assert clf.thresholds_[2] == 0.5  # no internal CV possible: default threshold
    assert clf.predict(X_test).shape == (120, 3)


def test_classify_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        ThemeClassifier(themes=THEMES).predict(["tahu"])
    with pytest.raises(NotFittedError):
        KeywordBaseline({"a": ["tahu"]}).predict(["tahu"])


@pytest.mark.parametrize("kwargs, X, Y, code", [
    ({}, "tahu dengar", np.zeros((1, 3)), "T410"),
    ({}, ["tahu", 3], np.zeros((2, 3)), "T410"),
    ({}, ["tahu", "rencana"], np.zeros((2, 2)), "T411"),
    ({}, ["tahu", "rencana"], np.array([[0, 2, 0], [1, 0, 0]]), "T411"),
    ({}, ["tahu", "rencana"], np.array([0, 1]), "T411"),
    ({"mode": "multiclass"}, ["tahu", "rencana"], np.array([[1, 1, 0], [1, 0, 0]]), "T412"),
    ({"mode": "multiclass"}, ["tahu", "rencana"], np.array(["tahu", "x"]), "T411"),
    ({"mode": "topic"}, ["tahu", "rencana"], np.zeros((2, 3)), "T413"),
    ({"char_ngrams": (3, 2)}, ["tahu", "rencana"], np.zeros((2, 3)), "T413"),
    ({"C": 0}, ["tahu", "rencana"], np.zeros((2, 3)), "T413"),
    ({}, ["tahu"], np.zeros((1, 3)), "T414"),
    ({"char_ngrams": None}, ["", " "], np.zeros((2, 3)), "T414"),
])
def test_classify_rejects_invalid_input_with_a_coded_error(kwargs, X, Y, code):
    with pytest.raises(StageError) as info:
        ThemeClassifier(themes=THEMES, **kwargs).fit(X, Y)
    assert info.value.code == code
    assert "\n" not in str(info.value)


def test_classify_nb_ratio_matches_hand_computation():
    import scipy.sparse as sp

    presence = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0]], dtype=float))
    y = np.array([1, 1, 0])
    # positive counts (2, 1, 1) + 1 -> (3, 2, 2)/7; negative (0, 1, 0) + 1 -> (1, 2, 1)/4
    expected = np.log(np.array([3, 2, 2]) / 7) - np.log(np.array([1, 2, 1]) / 4)
    np.testing.assert_allclose(_nb_ratio(presence, y, 1.0), expected)


def test_classify_config_defaults_match_estimator_defaults():
    config = ClassifierConfig()
    defaults = ThemeClassifier().get_params()
    for name in HYPERPARAMETERS:
        value = getattr(config, name)
        assert (tuple(value) if isinstance(value, list) else value) == defaults[name], name
    config = ClassifierConfig(mode="multiclass", C=2.0, random_state=7)
    clf = make_classifier(config, THEMES)
    assert (clf.mode, clf.C, clf.random_state, clf.themes) == ("multiclass", 2.0, 7, THEMES)


def test_classify_keyword_baseline_matches_whole_stems_and_phrases():
    baseline = KeywordBaseline({"sosialisasi": ["tahu", "dengar"],
                                "perencanaan": ["dana desa"], "politis": ["Pilih"]})
    texts = ["saya tidak tahu", "ketahuan dengar", "dana desa habis", "desa dana",
             "pilih lurah", "tahuan"]
    pred = baseline.fit(texts, np.zeros((6, 3), dtype=int)).predict(texts)
    np.testing.assert_array_equal(pred, [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0],
                                         [0, 0, 1], [0, 0, 0]])
    assert baseline.themes_ == ["sosialisasi", "perencanaan", "politis"]
    np.testing.assert_array_equal(baseline.predict_proba(texts), pred.astype(float))


def test_classify_keyword_baseline_needs_seed_words():
    with pytest.raises(StageError) as info:
        KeywordBaseline({}).fit(["a"], None)
    assert info.value.code == "T415"


def test_classify_beats_keyword_baseline_on_turns_without_seed_words(corpus, fitted):
    """Segments coded with a theme but lacking its first seed stems still get it."""
    _, _, X_test, Y_test = corpus
    seeds = {theme: stems[:2] for theme, stems in THEME_STEMS.items()}
    keyword = KeywordBaseline(seeds).fit(X_test, Y_test).predict(X_test)
    model = fitted.predict(X_test)
    assert f1_score(Y_test, model, average="macro") > f1_score(Y_test, keyword,
                                                               average="macro") + 0.2


@pytest.mark.skipif(not (SHARE / "data" / "indonlu").is_dir(),
                    reason="../shared/data/indonlu not available")
def test_classify_real_indonesian_reviews_aspects():
    """HoASA hotel reviews: aspect mention (label not 'neut'), train 800 / test 400."""
    table = pd.read_csv(SHARE / "data" / "indonlu" / "hoasa_absa-airy" /
                        "train_preprocess.csv")
    aspects = [c for c in table.columns if c != "review"]
    Y = (table[aspects] != "neut").to_numpy().astype(int)
    texts = table["review"].tolist()
    clf = ThemeClassifier(themes=aspects).fit(texts[:800], Y[:800])
    pred = clf.predict(texts[800:1200])
    assert f1_score(Y[800:1200], pred, average="macro") >= 0.8


def test_bad_input_train_theme_without_positive_examples(tmp_path):
    """A codebook theme nobody coded: one line naming the theme, the codes and the fix."""
    from typer.testing import CliRunner

    from themepipe.cli import app

    mini = Path(__file__).resolve().parent / "fixtures" / "mini"
    result = CliRunner().invoke(app, ["train", str(mini / "config.yaml"), "--set",
                                      f"classifier.model={tmp_path / 'models'}"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if "error" in line]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "[T450]" in lines[0] and "theme 'politis' has no coded example" in lines[0]
    assert "codes.csv" in lines[0] and "remove it from the codebook" in lines[0]
    assert not (tmp_path / "models").exists()


def test_classify_members_sum_their_scores(corpus):
    X_train, Y_train, X_test, _ = corpus
    both = ThemeClassifier(themes=THEMES, members=("nb", "tfidf")).fit(X_train, Y_train)
    nb = ThemeClassifier(themes=THEMES, members=("nb",)).fit(X_train, Y_train)
    tfidf = ThemeClassifier(themes=THEMES, members=("tfidf",)).fit(X_train, Y_train)
    assert both.tfidf_coef_.shape == both.coef_.shape == (3, both.n_features_)
    assert nb.tfidf_coef_ is None and not tfidf.coef_.any()
    # Same features and the same per-member fits: the ensemble's score is their sum.
    np.testing.assert_allclose(both.decision_function(X_test),
                               nb.decision_function(X_test)
                               + tfidf.decision_function(X_test), rtol=1e-5, atol=1e-5)


def test_classify_interpolation_mixes_nb_and_fitted_weights(corpus):
    # Wang & Manning (2012), eq. 3: w' = (1 - beta) mean|w| + beta w, on NB-scaled
    # features, so coef(beta) - beta coef(1) = (1 - beta) mean|w| r: proportional to r.
    X_train, Y_train, _, _ = corpus
    full = ThemeClassifier(themes=THEMES, members=("nb",)).fit(X_train, Y_train)
    half = ThemeClassifier(themes=THEMES, members=("nb",), interpolation=0.5
                           ).fit(X_train, Y_train)
    presence = full._counts(X_train)
    presence.data[:] = 1.0
    for k in range(len(THEMES)):
        ratio = _nb_ratio(presence, Y_train[:, k], 1.0)
        rest = half.coef_[k].astype(float) - 0.5 * full.coef_[k].astype(float)
        scale = rest / ratio
        assert scale.min() > 0
        np.testing.assert_allclose(scale, np.median(scale), rtol=1e-3)


@pytest.mark.parametrize("kwargs", [{"members": ()}, {"members": ("nb", "svm")},
                                    {"members": ("nb", "nb")}, {"interpolation": 0.0},
                                    {"tfidf_C": 0}, {"multiclass_members": ("svm",)},
                                    {"multiclass_members": ()}])
def test_classify_rejects_bad_ensemble_settings(corpus, kwargs):
    X_train, Y_train, _, _ = corpus
    with pytest.raises(StageError, match="T454"):
        ThemeClassifier(themes=THEMES, **kwargs).fit(X_train, Y_train)


def test_classify_state_packs_vocabularies_into_byte_arrays(fitted, corpus):
    import pickle  # only to copy the state in memory; model files never use pickle

    state = fitted.__getstate__()
    assert "word_vectorizer_" not in state and "char_vectorizer_" not in state
    assert state["char_vocabulary_"].dtype == np.uint8
    assert "word_vectorizer_" in fitted.__dict__  # the estimator itself is untouched
    clone = pickle.loads(pickle.dumps(fitted))
    assert clone.char_vectorizer_.vocabulary_ == fitted.char_vectorizer_.vocabulary_
    np.testing.assert_array_equal(clone.predict_proba(corpus[2]), fitted.predict_proba(corpus[2]))


def _single_theme(corpus):
    X_train, Y_train, X_test, _ = corpus
    single = Y_train.sum(axis=1) == 1
    X1 = [x for x, keep in zip(X_train, single, strict=True) if keep]
    return X1, Y_train[single].argmax(axis=1), X_test


def test_classify_multiclass_stacks_member_scores(corpus):
    from scipy.special import softmax

    X1, labels, X_test = _single_theme(corpus)
    stacked = ThemeClassifier(themes=THEMES, mode="multiclass").fit(X1, labels)
    assert stacked.multiclass_members == ("nb", "tfidf")
    assert stacked.calibration_coef_.shape == (3, 6)  # one block of scores per member
    nb = ThemeClassifier(themes=THEMES, mode="multiclass", members=("nb",),
                         multiclass_members=None).fit(X1, labels)
    tfidf = ThemeClassifier(themes=THEMES, mode="multiclass", members=("tfidf",),
                            multiclass_members=None).fit(X1, labels)
    assert nb.calibration_coef_.shape == (3, 3)
    # Same features and per-member fits: the stacker sees each member's scores.
    # (both members' intercepts are summed into the first block)
    blocks = np.hstack([nb.decision_function(X_test) + tfidf.intercept_,
                        tfidf.decision_function(X_test) - tfidf.intercept_])
    expected = softmax(blocks @ stacked.calibration_coef_.T
                       + stacked.calibration_intercept_, axis=1)
    np.testing.assert_allclose(stacked.predict_proba(X_test), expected, atol=1e-5)
    # The summed score stays the decision function.
    np.testing.assert_allclose(stacked.decision_function(X_test),
                               nb.decision_function(X_test)
                               + tfidf.decision_function(X_test), atol=1e-5)


def test_classify_multiclass_members_leave_multilabel_mode_alone(corpus, fitted):
    X_train, Y_train, X_test, _ = corpus
    other = ThemeClassifier(themes=THEMES, random_state=0,
                            multiclass_members=("tfidf",)).fit(X_train, Y_train)
    np.testing.assert_array_equal(other.predict_proba(X_test), fitted.predict_proba(X_test))
    assert fitted.tfidf_coef_ is None


def test_classify_model_saved_before_multiclass_members_keeps_summing(corpus):
    X1, labels, X_test = _single_theme(corpus)
    summed = ThemeClassifier(themes=THEMES, mode="multiclass", members=("nb", "tfidf"),
                             multiclass_members=None).fit(X1, labels)
    state = summed.__getstate__()
    del state["multiclass_members"]  # as in a model file written before the key existed
    old = ThemeClassifier.__new__(ThemeClassifier)
    old.__setstate__(state)
    assert old.get_params()["multiclass_members"] is None
    np.testing.assert_array_equal(old.predict_proba(X_test), summed.predict_proba(X_test))


def test_classify_decide_matches_predict_in_both_modes():
    texts = ["dinas jalan sendiri", "pengurus sibuk kerja", "sosialisasi kurang warga",
             "dinas tidak koordinasi", "pengurus tidak aktif", "warga tidak tahu program"] * 3
    themes = ["sinkronisasi", "sdm_pengurus", "sosialisasi"]
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]] * 3)
    for mode in ("multilabel", "multiclass"):
        model = ThemeClassifier(themes=themes, mode=mode, random_state=0).fit(texts, Y)
        proba = model.predict_proba(texts)
        assert np.array_equal(model.decide(proba), model.predict(texts))
        assert model.decide(proba[:0]).shape == (0, 3)


# -- fast n-gram counts (NgramCounter) against scikit-learn's transform -------------------

MODEL = Path(__file__).resolve().parents[1] / "models" / "kajigelem-themes"


def reference_counts(estimator: ThemeClassifier, texts: list[str]):
    """The n-gram counts with plain scikit-learn ``CountVectorizer.transform``."""
    import scipy.sparse as sp

    blocks = [vec.transform(texts) for vec in (estimator.word_vectorizer_,
                                               estimator.char_vectorizer_)
              if vec is not None]
    counts = sp.hstack(blocks, format="csr", dtype=np.float64)
    counts.sum_duplicates()
    counts.sort_indices()
    return counts


def assert_same_matrix(fast, reference) -> None:
    assert fast.shape == reference.shape
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)
    assert np.array_equal(fast.data, reference.data)
    assert fast.data.dtype == np.float64


def _reference_for(counter, texts):
    """``NgramCounter.transform`` replaced by the scikit-learn reference."""
    holder = ThemeClassifier()
    holder.word_vectorizer_, holder.char_vectorizer_ = counter.word, counter.char
    return reference_counts(holder, texts)


def bundled_segments(bundled_run) -> pd.DataFrame:
    """The bundled run's segments, without the classifier's columns."""
    table = pd.read_csv(Path(bundled_run.out) / "segments.csv", keep_default_na=False,
                        dtype={"stems": str, "text": str, "role": str})
    return table.drop(columns=[c for c in table.columns
                               if c == "pred_themes" or c.startswith("p_")])


def test_classify_fast_counts_equal_sklearn_on_bundled_corpus(bundled_run):
    from themepipe.modelstore import load_model

    estimator, _ = load_model(MODEL, "latest")
    segments = bundled_segments(bundled_run)
    # stems (the classifier's input) and raw turns (punctuation, capitals, numbers)
    texts = list(segments["stems"]) + list(segments["text"])
    assert len(texts) > 500
    first = estimator._counts(texts)
    again = estimator._counts(texts[::-1])  # every word now cached
    reference = reference_counts(estimator, texts)
    assert_same_matrix(first, reference)
    assert_same_matrix(again, reference_counts(estimator, texts[::-1]))


def test_classify_segments_fast_path_matches_reference_bit_for_bit(bundled_run,
                                                                  monkeypatch):
    from themepipe import classify
    from themepipe.classify_stage import classify_segments, load_classifier
    from themepipe.codebook import NO_THEME, load_codebook
    from themepipe.config import load_config
    from themepipe.pipeline import classifier_input

    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "configs" / "kajigelem.yaml")
    themes = load_codebook(config.codebook).ids
    model = load_classifier(config)
    segments = bundled_segments(bundled_run)
    fast, _ = classify_segments(config, themes, segments, model)

    # reference: scikit-learn counts and the former pandas body of classify_segments
    monkeypatch.setattr(classify.NgramCounter, "transform", _reference_for)
    estimator = model[0]
    out = segments.copy()
    informant = (out["role"] == "informant").to_numpy()
    mask = informant & (out["stems"].fillna("").str.strip() != "").to_numpy()
    X = classifier_input(out.loc[mask], config.classifier.inputs)
    proba = estimator.predict_proba(X)
    predicted = estimator.predict(X)
    out["pred_themes"] = ""
    out.loc[informant, "pred_themes"] = NO_THEME
    out.loc[mask, "pred_themes"] = [";".join(t for t, hit in zip(themes, row) if hit)
                                    or NO_THEME for row in predicted]
    for j, theme in enumerate(themes):
        out[f"p_{theme}"] = np.nan
        out.loc[mask, f"p_{theme}"] = proba[:, j]

    assert mask.sum() > 100
    assert (fast["pred_themes"] != NO_THEME).sum() > 10  # real predictions compared
    assert list(fast.columns) == list(out.columns)
    assert fast["pred_themes"].tolist() == out["pred_themes"].tolist()
    p = [f"p_{t}" for t in themes]
    assert np.array_equal(fast[p].to_numpy(), out[p].to_numpy(), equal_nan=True)
    pd.testing.assert_frame_equal(fast, out, check_exact=True)
    assert "pred_themes" not in segments.columns  # the input is not modified


@pytest.mark.parametrize("kwargs", [
    {},
    {"word_ngrams": (1, 3), "char_ngrams": (1, 4)},
    {"word_ngrams": (2, 2), "char_ngrams": None},
    {"word_ngrams": None, "char_ngrams": (3, 6)},
    {"mode": "multiclass", "members": ("nb", "tfidf")},
])
def test_classify_fast_counts_equal_sklearn_for_each_featuriser(corpus, kwargs,
                                                                monkeypatch):
    from themepipe import classify

    X_train, Y_train, X_test, _ = corpus
    if kwargs.get("mode") == "multiclass":
        Y_train = np.eye(len(THEMES), dtype=int)[Y_train.argmax(axis=1)]
    model = ThemeClassifier(themes=THEMES, **kwargs).fit(X_train, Y_train)
    texts = X_test + ["", "   ", "Pak  Darmo:\tbilang\u00a0IYA, don't 12", "ΟΔΟΣ Σ x_y",
                      "İbu  ke-2 ngomong  ‘rapat’ …", "a", "ab abc abcd abcde abcdef"]
    assert_same_matrix(model._counts(texts), reference_counts(model, texts))
    fast = model.predict_proba(texts)
    monkeypatch.setattr(classify.NgramCounter, "transform", _reference_for)
    assert np.array_equal(fast, model.predict_proba(texts))


def test_classify_fast_counts_start_afresh_beyond_the_cache_limit(fitted, corpus,
                                                                 monkeypatch):
    from themepipe import classify

    _, _, X_test, _ = corpus
    monkeypatch.setattr(classify, "MAX_CACHED_WORDS", 5)
    counter = classify.NgramCounter(fitted.word_vectorizer_, fitted.char_vectorizer_)
    first = counter.transform(X_test[:40])
    assert len(counter._rows) > 5
    second = counter.transform(["kayu desa kayu"])
    assert sorted(counter._rows) == ["desa", "kayu"]  # the cache was emptied first
    third = counter.transform(X_test[40:])
    assert_same_matrix(first, reference_counts(fitted, X_test[:40]))
    assert_same_matrix(second, reference_counts(fitted, ["kayu desa kayu"]))
    assert_same_matrix(third, reference_counts(fitted, X_test[40:]))


def test_classify_saved_state_leaves_the_count_cache_out(fitted, corpus):
    _, _, X_test, _ = corpus
    fitted.predict_proba(X_test)
    assert "_ngram_counter" in fitted.__dict__
    assert "_ngram_counter" not in fitted.__getstate__()


# Letters of the stems plus odd whitespace (NBSP, em space, U+001C, NEL), punctuation,
# and characters whose lowercase depends on context or grows (final sigma, dotted I).
_ODD_TEXT = st.lists(
    st.sampled_from([*"aeiknrstudgpmjyl", " ", "  ", "\t", "\n", "\u00a0", "\u2003",
                     "\x1c", "\u0085", "-", "'", ".", ":", "2", "_", "\u1e9e", "\u03a3",
                     "\u03c2", "\u0130", "K", "A", "\u0301", "\ufb01", "ya ", "kayu ",
                     "desa "]),
    max_size=30).map("".join)


@given(texts=st.lists(_ODD_TEXT, min_size=1, max_size=6))
def test_classify_fast_counts_equal_sklearn_on_any_text(fitted, texts):
    from themepipe import classify

    counter = classify.NgramCounter(fitted.word_vectorizer_, fitted.char_vectorizer_)
    assert_same_matrix(counter.transform(texts), reference_counts(fitted, texts))
    assert_same_matrix(counter.transform(texts[::-1]),  # cached words
                       reference_counts(fitted, texts[::-1]))
