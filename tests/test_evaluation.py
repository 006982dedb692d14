"""Tests of themepipe.evaluation: agreement statistics and grouped cross-validation."""

from __future__ import annotations

import json
from typing import ClassVar

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from themepipe.classify import KeywordBaseline, ThemeClassifier
from themepipe.errors import StageError
from themepipe.evaluation import (
    cohen_kappa,
    grouped_cross_validate,
    grouped_folds,
    krippendorff_alpha_nominal,
    metrics_table,
    theme_metrics,
)

THEMES = ["sosialisasi", "perencanaan", "politis"]
STEMS = {"sosialisasi": ["tahu", "dengar", "undang", "paham"],
         "perencanaan": ["rencana", "target", "anggar", "jadwal"],
         "politis": ["pilih", "calon", "kampanye", "dukung"]}
FILLER = ["ya", "itu", "terus", "kan", "kayu", "pasar", "jual", "desa", "orang"]


def coded_turns(n_informants: int = 10, per_informant: int = 12, seed: int = 0):
    """Segments of stems with informant ids; about a quarter coded with no theme."""
    rng = np.random.default_rng(seed)
    texts, rows, groups = [], [], []
    for informant in range(n_informants):
        for _ in range(per_informant):
            y = np.zeros(3, dtype=int)
            if rng.random() > 0.25:
                y[rng.choice(3, size=rng.integers(1, 3), replace=False)] = 1
            words = list(rng.choice(FILLER, size=5))
            for k in np.flatnonzero(y):
                words += list(rng.choice(STEMS[THEMES[k]], size=2))
            rng.shuffle(words)
            texts.append(" ".join(words))
            rows.append(y)
            groups.append(f"inf{informant:02d}")
    return texts, np.array(rows), np.array(groups)


class SpyEstimator:
    """Records what it was trained on; predicts 'no theme'."""

    seen: ClassVar[list[list[str]]] = []

    def fit(self, X, Y):
        SpyEstimator.seen.append(list(X))
        self.n_themes = np.asarray(Y).shape[1]
        return self

    def predict(self, X):
        return np.zeros((len(X), self.n_themes), dtype=int)


# -- Krippendorff's alpha and Cohen's kappa ------------------------------------------

def test_evaluation_alpha_matches_hand_computed_binary_table():
    # Coincidences: o11 = 2, o10 = o01 = 1, o00 = 16; n = 20, n1 = 3, n0 = 17.
    # alpha = 1 - (n - 1) * (o10 + o01) / (2 * n0 * n1) = 1 - 19 * 2 / 102.
    a = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    b = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert krippendorff_alpha_nominal([a, b]) == pytest.approx(1 - 38 / 102)
    # kappa: p_o = 0.9, p_e = 0.2 * 0.1 + 0.8 * 0.9 = 0.74 -> 0.16 / 0.26.
    assert cohen_kappa(a, b) == pytest.approx(0.16 / 0.26)


def test_evaluation_alpha_matches_hand_computed_table_with_missing_values():
    # Three coders, four units, one value missing; categories a, b.
    # unit 1 (a, a, a): m=3, o_aa += 6/2 = 3
    # unit 2 (a, b, -): m=2, o_ab += 1, o_ba += 1
    # unit 3 (b, b, b): o_bb += 3
    # unit 4 (a, a, b): m=3, pairs aa x2, ab x2, ba x2 -> o_aa += 1, o_ab += 1, o_ba += 1
    # o_aa = 4, o_ab = o_ba = 2, o_bb = 3; n_a = 6, n_b = 5, n = 11
    # alpha = 1 - (11 - 1) * 4 / (2 * 6 * 5) = 1 - 40 / 60 = 1/3
    data = [["a", "a", "b", "a"], ["a", "b", "b", "a"], ["a", None, "b", "b"]]
    assert krippendorff_alpha_nominal(data) == pytest.approx(1 / 3)
    coded = [[0, 0, 1, 0], [0, 1, 1, 0], [0, np.nan, 1, 1]]
    assert krippendorff_alpha_nominal(coded) == pytest.approx(1 / 3)


@pytest.mark.parametrize("seed", range(6))
def test_evaluation_alpha_agrees_with_krippendorff_package(seed):
    rng = np.random.default_rng(seed)
    n_coders, n_units, n_values = 2 + seed % 3, 30 + 7 * seed, 2 + seed % 4
    truth = rng.integers(0, n_values, n_units)
    data = np.where(rng.random((n_coders, n_units)) < 0.7, truth,
                    rng.integers(0, n_values, (n_coders, n_units))).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(data) == pytest.approx(expected, abs=1e-12)


def test_evaluation_alpha_edge_cases():
    assert krippendorff_alpha_nominal([[1, 0, 1], [1, 0, 1]]) == pytest.approx(1.0)
    assert np.isnan(krippendorff_alpha_nominal([[0, 0, 0], [0, 0, 0]]))  # no variation
    assert np.isnan(krippendorff_alpha_nominal([[1, None], [None, 0]]))  # nothing pairable
    # Systematic disagreement is below chance.
    assert krippendorff_alpha_nominal([[1, 0, 1, 0], [0, 1, 0, 1]]) < 0


@pytest.mark.parametrize("seed", range(4))
def test_evaluation_kappa_agrees_with_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, 50)
    b = np.where(rng.random(50) < 0.6, a, rng.integers(0, 3, 50))
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))


def test_evaluation_theme_metrics_per_theme_values():
    Y_true = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    Y_pred = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    report = theme_metrics(Y_true, Y_pred, ["a", "b"])
    a = report["per_theme"]["a"]
    assert (a["precision"], a["recall"], a["f1"], a["support"]) == (0.5, 0.5, 0.5, 2)
    b = report["per_theme"]["b"]
    assert (b["precision"], b["recall"], b["f1"], b["support"]) == (1.0, 1.0, 1.0, 2)
    assert b["krippendorff_alpha"] == pytest.approx(1.0)
    assert a["cohen_kappa"] == pytest.approx(0.0)
    assert a["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=np.vstack([Y_true[:, 0], Y_pred[:, 0]]),
                           level_of_measurement="nominal"))
    assert report["macro_f1"] == pytest.approx(0.75)
    assert report["micro_f1"] == pytest.approx(0.75)  # tp 3, fp 1, fn 1: 6 / 8
    assert report["label_cardinality"] == {"true": 1.0, "predicted": 1.0}


def test_evaluation_theme_metrics_undefined_agreement_is_none():
    report = theme_metrics(np.array([[0, 1], [0, 0]]), np.array([[0, 1], [0, 0]]),
                           ["a", "b"])
    assert report["per_theme"]["a"]["krippendorff_alpha"] is None
    assert report["per_theme"]["a"]["cohen_kappa"] is None
    assert report["macro_f1"] == 1.0  # theme a has no support and is left out


# -- grouped cross-validation ----------------------------------------------------------

def test_evaluation_grouped_cv_never_puts_an_informant_in_train_and_test():
    texts, Y, groups = coded_turns()
    texts = [f"{text} seg{i}" for i, text in enumerate(texts)]  # traceable segments
    informant_of = {f"seg{i}": group for i, group in enumerate(groups)}
    SpyEstimator.seen = []
    report = grouped_cross_validate(SpyEstimator, texts, Y, groups, THEMES, n_splits=5)
    fold = np.array(report["fold_assignment"])
    assert report["n_splits"] == 5 and sorted(set(fold)) == [0, 1, 2, 3, 4]
    assert len(SpyEstimator.seen) == 5
    for k, trained_on in enumerate(SpyEstimator.seen):
        test_groups = set(groups[fold == k])
        seen_groups = {informant_of[text.split()[-1]] for text in trained_on}
        # What the estimator was trained on in fold k holds no test informant.
        assert test_groups and not test_groups & seen_groups
        assert seen_groups | test_groups == set(groups)
        assert test_groups == set(report["folds"][k]["test_groups"])
        assert len(trained_on) == int((fold != k).sum()) == report["folds"][k]["n_train"]
    # Each informant's segments are all in one fold.
    for group in set(groups):
        assert len(set(fold[groups == group])) == 1


def test_evaluation_grouped_cv_reduces_folds_when_informants_are_few():
    texts, Y, groups = coded_turns(n_informants=3)
    report = grouped_cross_validate(SpyEstimator, texts, Y, groups, THEMES, n_splits=5)
    assert report["n_splits"] == 3 and report["n_splits_requested"] == 5
    assert "reduced from 5 to 3" in report["notes"][0]
    with pytest.raises(StageError) as info:
        grouped_cross_validate(SpyEstimator, texts, Y, np.full(len(texts), "x"), THEMES)
    assert info.value.code == "T420"


def test_evaluation_grouped_folds_are_reproducible_and_seed_dependent():
    _, Y, groups = coded_turns(n_informants=20, per_informant=4)
    first, _ = grouped_folds(Y, groups, 5, random_state=0)
    again, _ = grouped_folds(Y, groups, 5, random_state=0)
    other, _ = grouped_folds(Y, groups, 5, random_state=1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_evaluation_grouped_cv_of_theme_classifier_and_keyword_baseline():
    texts, Y, groups = coded_turns(n_informants=10, per_informant=14, seed=3)
    report = grouped_cross_validate(lambda: ThemeClassifier(themes=THEMES), texts, Y,
                                    groups, THEMES, n_splits=4, random_state=0,
                                    return_predictions=True)
    assert report["macro_f1"]["mean"] >= 0.9
    assert len(report["macro_f1"]["folds"]) == 4
    assert report["macro_f1"]["sd"] == pytest.approx(np.std(report["macro_f1"]["folds"],
                                                             ddof=1))
    assert set(report["per_theme"]) == set(THEMES)
    assert sum(v["support"] for v in report["per_theme"].values()) == int(Y.sum())
    assert report["label_cardinality"]["true"] == pytest.approx(Y.sum(axis=1).mean())
    assert report["predictions"].shape == Y.shape
    alpha = report["per_theme"]["politis"]["krippendorff_alpha"]
    expected = krippendorff.alpha(
        reliability_data=np.vstack([Y[:, 2], report["predictions"][:, 2]]),
        level_of_measurement="nominal")
    assert alpha == pytest.approx(expected)
    seeds = {theme: stems[:1] for theme, stems in STEMS.items()}
    baseline = grouped_cross_validate(lambda: KeywordBaseline(seeds), texts, Y, groups,
                                      THEMES, n_splits=4, random_state=0)
    assert baseline["fold_assignment"] == report["fold_assignment"]
    assert baseline["macro_f1"]["mean"] < report["macro_f1"]["mean"]
    del report["predictions"]
    json.dumps(report, allow_nan=False)
    json.dumps(baseline, allow_nan=False)


def test_evaluation_grouped_cv_single_label_ids_and_1d_predictions():
    """A reference estimator that takes and returns 1-D labels (multiclass)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, Y, groups = coded_turns(n_informants=8, per_informant=10, seed=5)
    single = Y.sum(axis=1) == 1
    texts = [t for t, keep in zip(texts, single, strict=True) if keep]
    labels = Y[single].argmax(axis=1)
    report = grouped_cross_validate(
        lambda: make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000)),
        texts, labels, groups[single], THEMES, n_splits=3)
    assert report["label_cardinality"] == {"true": 1.0, "predicted": 1.0}
    # Single-label micro F1 is accuracy.
    assert 0.8 <= report["micro_f1"]["mean"] <= 1.0
    ours = grouped_cross_validate(lambda: ThemeClassifier(themes=THEMES, mode="multiclass"),
                                  texts, labels, groups[single], THEMES, n_splits=3)
    assert ours["fold_assignment"] == report["fold_assignment"]


def test_evaluation_rejects_mismatched_lengths():
    texts, Y, groups = coded_turns(n_informants=4, per_informant=3)
    with pytest.raises(StageError) as info:
        grouped_cross_validate(SpyEstimator, texts, Y, groups[:-1], THEMES)
    assert info.value.code == "T421"
    with pytest.raises(StageError) as info:
        grouped_cross_validate(SpyEstimator, texts, Y[:, :2], groups, THEMES)
    assert info.value.code == "T421"


def test_evaluation_metrics_table_has_one_row_per_theme_and_summaries():
    texts, Y, groups = coded_turns(n_informants=6, per_informant=6)
    report = grouped_cross_validate(SpyEstimator, texts, Y, groups, THEMES, n_splits=3)
    table = metrics_table(report, model="spy")
    assert table["theme"].tolist() == THEMES + ["macro", "micro"]
    assert (table["model"] == "spy").all()
    assert table.loc[table["theme"] == "macro", "f1"].item() == 0.0
    assert table.loc[table["theme"] == "politis", "support"].item() == int(Y[:, 2].sum())
    assert table.loc[table["theme"] == "macro", "label_cardinality_true"].item() == (
        pytest.approx(Y.sum(axis=1).mean()))
    assert table.loc[table["theme"] == "micro", "label_cardinality_predicted"].item() == 0.0
    assert table.loc[table["theme"] == "politis", "n_predicted"].item() == 0


# -- themepipe evaluate ---------------------------------------------------------------

def _evaluate_table_corpus(bundled_run, tmp_path, cv_folds: int, inner_folds: int):
    """Run `evaluate` on the bundled run's informant segments as a format: table corpus.

    Returns the CLI result and the informant segments.
    """
    from pathlib import Path

    import pandas as pd
    from typer.testing import CliRunner

    from themepipe.cli import app

    root = Path(__file__).resolve().parents[1]
    segments = pd.read_csv(Path(bundled_run.out) / "segments.csv", keep_default_na=False)
    informant = segments[segments.role == "informant"]
    pd.DataFrame({"teks": informant["text"], "informant_id": informant["informant_id"],
                  "group": informant["group"], "themes": informant["gold_themes"]}
                 ).to_csv(tmp_path / "segs.csv", index=False)
    args = ["evaluate", str(root / "tests" / "fixtures" / "mini" / "config.yaml"),
            "--out", str(tmp_path / "eval")]
    for item in (f"corpus.path={tmp_path / 'segs.csv'}", "corpus.format=table",
                 "corpus.text_column=teks", "corpus.codes=null", "corpus.informants=null",
                 f"classifier.cv_folds={cv_folds}", f"classifier.inner_folds={inner_folds}"):
        args += ["--set", item]
    return CliRunner().invoke(app, args), informant


def test_evaluation_cli_evaluate_on_a_table_corpus(bundled_run, tmp_path):
    """`evaluate` on a format: table corpus prints and writes metrics.json / metrics.csv."""
    import pandas as pd

    result, informant = _evaluate_table_corpus(bundled_run, tmp_path, 3, 3)
    assert result.exit_code == 0, result.output
    assert "seed-word keyword baseline" in result.output and "macro-F1" in result.output
    out = tmp_path / "eval"
    assert out.is_symlink()  # published atomically as a run-folder link
    metrics = json.loads((out / "metrics.json").read_text())
    table = pd.read_csv(out / "metrics.csv")
    n_coded = int((informant["gold_themes"] != "").sum())
    for model in ("themepipe", "keyword_baseline"):
        report = metrics[model]
        assert report["n_segments"] == n_coded and report["n_splits"] == 3
        assert report["n_groups"] == informant.loc[informant["gold_themes"] != "",
                                                   "informant_id"].nunique()
        rows = table[table["model"] == model].set_index("theme")
        for theme, values in report["per_theme"].items():
            assert rows.loc[theme, "f1"] == pytest.approx(values["f1"], abs=1e-6)
            assert rows.loc[theme, "support"] == values["support"]
        folds = report["macro_f1"]["folds"]
        assert rows.loc["macro", "f1"] == pytest.approx(np.mean(folds), abs=1e-6)
        assert rows.loc["macro", "f1_sd"] == pytest.approx(np.std(folds, ddof=1), abs=1e-6)
        assert "fold_assignment" not in report
    assert metrics["themepipe"]["macro_f1"]["mean"] > metrics["keyword_baseline"][
        "macro_f1"]["mean"] + 0.1
    assert metrics["coder_agreement"]["coders"] == ["segs"]


def test_evaluation_cli_warns_when_folds_are_reduced(bundled_run, tmp_path):
    """`evaluate --set classifier.cv_folds=100` says the folds were reduced, and why."""
    result, informant = _evaluate_table_corpus(bundled_run, tmp_path, 100, 2)
    n_informants = informant.loc[informant["gold_themes"] != "", "informant_id"].nunique()
    assert 2 <= n_informants < 100
    assert result.exit_code == 0, result.output
    expected = (f"reduced from 100 to {n_informants}: folds are grouped by informant and "
                f"only {n_informants} informants have coded segments")
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and expected in warnings[0], result.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    for model in ("themepipe", "keyword_baseline"):
        assert metrics[model]["n_splits"] == n_informants
        assert metrics[model]["n_splits_requested"] == 100
        assert any(expected in note for note in metrics[model]["notes"])
