"""Honest evaluation of theme classifiers: grouped cross-validation and agreement.

Folds are grouped by informant, so no informant's segments are in both the training and
the test part of a fold (an informant's way of speaking would otherwise leak into the
test).  Results are reported the way qualitative researchers read them: per theme
precision, recall, F1 and support, and agreement of the model with the human coder as
Krippendorff's alpha (nominal) and Cohen's kappa; overall micro and macro F1 as mean and
standard deviation over folds.

Krippendorff's alpha is implemented here in its coincidence-matrix form (Krippendorff,
K. 2011, "Computing Krippendorff's Alpha-Reliability", Annenberg School for
Communication, University of Pennsylvania, departmental paper 43); Cohen's kappa and
the F1 family come from scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from .classify import label_indicator
from .errors import StageError


def krippendorff_alpha_nominal(reliability_data) -> float:
    """Krippendorff's alpha for nominal data, with missing values allowed.

    Parameters
    ----------
    reliability_data : array-like of shape (n_coders, n_units)
        Value each coder gave each unit (any hashable: 0/1, theme ids, ...); ``None``
        or ``nan`` where a coder did not code a unit.

    Returns
    -------
    alpha : float
        ``1 - D_o / D_e`` in [-1, 1] (1 = perfect agreement, 0 = chance); ``nan`` when
        undefined: fewer than two pairable values, or all pairable values equal.

    Notes
    -----
    Coincidence-matrix form of Krippendorff (2011), section C: each unit with
    ``m_u >= 2`` values adds ``1 / (m_u - 1)`` to ``o[c, k]`` for every ordered pair of
    values ``(c, k)`` from different coders; with ``n_c = sum_k o[c, k]`` and
    ``n = sum_c n_c``, ``alpha = 1 - (n - 1) * sum_{c != k} o[c, k] /
    sum_{c != k} n_c n_k``.  Units coded by fewer than two coders are not pairable and
    are dropped.
    """
    table = pd.DataFrame(np.asarray(reliability_data, dtype=object))
    if table.ndim != 2 or table.size == 0:
        return float("nan")
    missing = table.isna().to_numpy()
    observed = table.to_numpy()[~missing]
    if observed.size == 0:
        return float("nan")
    categories = {value: k for k, value in enumerate(dict.fromkeys(observed.tolist()))}
    n_values = len(categories)
    n_units = table.shape[1]
    counts = np.zeros((n_units, n_values))  # values per unit
    for coder_row, missing_row in zip(table.to_numpy(), missing, strict=True):
        for unit in np.flatnonzero(~missing_row):
            counts[unit, categories[coder_row[unit]]] += 1
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    if counts.shape[0] == 0:
        return float("nan")
    weights = 1.0 / (m - 1)
    coincidence = counts.T @ (counts * weights[:, None]) - np.diag(weights @ counts)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    disagreement_observed = n - np.trace(coincidence)
    disagreement_expected = (n * n - np.sum(n_c ** 2)) / (n - 1)
    if disagreement_expected <= 0:
        return float("nan")
    return float(1.0 - disagreement_observed / disagreement_expected)


def cohen_kappa(labels_a, labels_b) -> float:
    """Cohen's kappa between two coders' labels of the same units (scikit-learn).

    Parameters
    ----------
    labels_a, labels_b : array-like of shape (n_units,)

    Returns
    -------
    kappa : float
        In [-1, 1]; ``nan`` when undefined (both coders used one and the same label).
    """
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if a.size == 0 or len(np.union1d(a, b)) < 2:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b))


def _indicator(Y, n_rows: int, themes: Sequence[str], what: str) -> np.ndarray:
    """0/1 matrix of shape (n_rows, n_themes) from a matrix or from 1-D labels (T421)."""
    return label_indicator(Y, n_rows, themes, what, code="T421")


def _nan_to_none(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def theme_metrics(Y_true, Y_pred, themes: Sequence[str]) -> dict[str, Any]:
    """Per-theme agreement of predicted (or second-coder) codes with human codes.

    Parameters
    ----------
    Y_true, Y_pred : array-like of shape (n_segments, n_themes) of 0/1, or 1-D labels
        (theme positions or ids) for single-label data.
    themes : sequence of str
        Theme ids in column order.

    Returns
    -------
    metrics : dict
        ``per_theme``: {theme: {precision, recall, f1, support, n_predicted,
        krippendorff_alpha, cohen_kappa}} (alpha nominal and kappa on the theme's binary
        present/absent codes, model vs human; ``None`` where undefined);
        ``macro_f1`` (mean over themes with support > 0), ``micro_f1``,
        ``mean_krippendorff_alpha`` and ``mean_cohen_kappa`` (over defined values),
        ``label_cardinality`` {true, predicted} (mean themes per segment),
        ``n_segments``.  JSON-ready.

    Raises
    ------
    StageError
        Shapes that do not match the themes (T421).
    """
    themes = [str(t) for t in themes]
    Y_true = np.asarray(Y_true)
    n = Y_true.shape[0]
    Y_true = _indicator(Y_true, n, themes, "Y_true")
    Y_pred = _indicator(Y_pred, n, themes, "Y_pred")
    precision, recall, f1, support = precision_recall_fscore_support(
        Y_true, Y_pred, average=None, zero_division=0, labels=range(len(themes)))
    per_theme: dict[str, dict[str, Any]] = {}
    alphas, kappas = [], []
    for k, theme in enumerate(themes):
        alpha = krippendorff_alpha_nominal(np.vstack([Y_true[:, k], Y_pred[:, k]]))
        kappa = cohen_kappa(Y_true[:, k], Y_pred[:, k])
        alphas.append(alpha)
        kappas.append(kappa)
        per_theme[theme] = {
            "precision": float(precision[k]), "recall": float(recall[k]),
            "f1": float(f1[k]), "support": int(support[k]),
            "n_predicted": int(Y_pred[:, k].sum()),
            "krippendorff_alpha": _nan_to_none(alpha), "cohen_kappa": _nan_to_none(kappa),
        }
    present = support > 0
    return {
        "per_theme": per_theme,
        "macro_f1": float(f1[present].mean()) if present.any() else None,
        "micro_f1": float(f1_score(Y_true, Y_pred, average="micro", zero_division=0)),
        "mean_krippendorff_alpha": _nan_to_none(np.nanmean(alphas)
                                                if np.isfinite(alphas).any() else np.nan),
        "mean_cohen_kappa": _nan_to_none(np.nanmean(kappas)
                                         if np.isfinite(kappas).any() else np.nan),
        "label_cardinality": {"true": float(Y_true.sum(axis=1).mean()) if n else 0.0,
                              "predicted": float(Y_pred.sum(axis=1).mean()) if n else 0.0},
        "n_segments": int(n),
    }


def _strata(Y: np.ndarray) -> np.ndarray:
    """One stratum per segment: its rarest theme, or ``n_themes`` for no theme."""
    prevalence = Y.sum(axis=0)
    rank = np.where(Y == 1, prevalence[None, :], np.iinfo(np.int64).max)
    return np.where(Y.any(axis=1), rank.argmin(axis=1), Y.shape[1])


def grouped_folds(Y, groups, n_splits: int = 5,
                  random_state: int = 0) -> tuple[np.ndarray, list[str]]:
    """Assign each segment to a test fold so that no group spans two folds.

    Uses scikit-learn's ``StratifiedGroupKFold`` (shuffled) on one stratum per segment
    (its rarest theme, or "no theme"), which keeps themes spread over folds while every
    group (informant) stays whole.

    Parameters
    ----------
    Y : ndarray of shape (n_segments, n_themes) of 0/1
    groups : array-like of shape (n_segments,)
        Informant id of each segment.
    n_splits : int
        Requested folds; reduced to the number of groups when there are fewer.
    random_state : int

    Returns
    -------
    fold : ndarray of shape (n_segments,) of int
        Test fold of each segment, 0 .. n_splits_used - 1.
    notes : list of str
        Explanations, e.g. that the number of folds was reduced.

    Raises
    ------
    StageError
        Fewer than two groups (T420) or ``n_splits < 2`` (T422).
    """
    groups = np.asarray(groups)
    if int(n_splits) < 2:
        raise StageError("T422", f"cross-validation needs at least 2 folds; got "
                         f"{n_splits}; set classifier.cv_folds >= 2")
    n_groups = len(pd.unique(groups))
    if n_groups < 2:
        raise StageError("T420", f"grouped cross-validation needs coded segments from at "
                         f"least 2 informants; found {n_groups}; code turns of more "
                         "informants")
    notes = []
    used = min(int(n_splits), n_groups)
    if used < n_splits:
        notes.append(f"cross-validation folds (classifier.cv_folds) reduced from "
                     f"{n_splits} to {used}: folds are grouped by informant and only "
                     f"{n_groups} informants have coded segments (a fold needs at least "
                     "one informant)")
    # Groups are relabelled to their first-appearance order so the folds do not depend
    # on how the ids sort.
    group_codes = pd.factorize(groups)[0]
    splitter = StratifiedGroupKFold(n_splits=used, shuffle=True, random_state=random_state)
    fold = np.full(groups.shape[0], -1, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*least populated class.*")
        for k, (_, test) in enumerate(splitter.split(np.zeros((len(fold), 1)),
                                                     _strata(Y), group_codes)):
            fold[test] = k
    return fold, notes


def _mean_sd(values: list[float]) -> dict[str, Any]:
    """Mean and sample standard deviation (ddof=1) of per-fold figures."""
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "sd": sd, "folds": list(values)}


def grouped_cross_validate(make_estimator: Callable[[], Any], X: Sequence[str], Y,
                           groups, themes: Sequence[str], n_splits: int = 5,
                           random_state: int = 0, *,
                           return_predictions: bool = False,
                           progress: Callable[[int, int], None] | None = None,
                           ) -> dict[str, Any]:
    """Cross-validate a theme classifier with folds grouped by informant.

    Parameters
    ----------
    make_estimator : callable returning an unfitted estimator
        Called once per fold; the estimator's ``fit(X_train, Y_train)`` gets ``Y`` in
        the form passed here and its ``predict`` may return a 0/1 matrix or 1-D labels.
    X : sequence of str, length n_segments
        Segment texts (stems).
    Y : array-like of shape (n_segments, n_themes) of 0/1, or (n_segments,) labels
        (positions or ids of ``themes``) for single-label data.
    groups : array-like of shape (n_segments,)
        Informant id of each segment; no id is in both the train and test part of a fold.
    themes : sequence of str
        Theme ids in column order.
    n_splits : int, default 5
        Folds; reduced (and said so in ``notes``) when there are fewer informants.
    random_state : int, default 0
        Seed of the fold assignment; same seed, data and groups give the same folds.
    return_predictions : bool, default False
        Also return the out-of-fold predictions (an ndarray, not JSON-ready).
    progress : callable (done, total), optional
        Called after each fold.

    Returns
    -------
    report : dict, JSON-ready (``None`` for undefined values)
        ``themes``; ``n_segments``; ``n_groups``; ``n_splits`` (used) and
        ``n_splits_requested``; ``notes``; ``per_theme`` {theme: precision, recall, f1,
        support, n_predicted, krippendorff_alpha, cohen_kappa} on the pooled
        out-of-fold predictions; ``macro_f1`` and ``micro_f1`` as {mean, sd, folds}
        over folds (sd is the sample sd, ddof=1, over folds; fold macro F1 averages the
        themes present in that fold's test part); ``pooled`` (the same figures on
        all out-of-fold predictions at once); ``mean_krippendorff_alpha``,
        ``mean_cohen_kappa``; ``label_cardinality`` {true, predicted};
        ``fold_assignment`` (test fold per segment, in input order); ``folds``
        [{fold, n_train, n_test, test_groups}]; ``random_state``.
        With ``return_predictions``, ``predictions``: ndarray (n_segments, n_themes).

    Raises
    ------
    StageError
        Mismatched lengths or shapes (T421), fewer than 2 informants (T420), fewer than
        2 folds (T422).
    """
    themes = [str(t) for t in themes]
    texts = list(X)
    n = len(texts)
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise StageError("T421", f"groups has {groups.shape[0] if groups.ndim else 0} "
                         f"entries for {n} segments; give one informant id per segment")
    Y_raw = np.asarray(Y)
    if Y_raw.shape[0] != n:
        raise StageError("T421", f"Y has {Y_raw.shape[0]} rows for {n} segments")
    Y_true = _indicator(Y_raw, n, themes, "Y")
    fold, notes = grouped_folds(Y_true, groups, n_splits, random_state)
    used = int(fold.max()) + 1
    Y_oof = np.zeros_like(Y_true)
    fold_macro, fold_micro, fold_info = [], [], []
    for k in range(used):
        test = np.flatnonzero(fold == k)
        train = np.flatnonzero(fold != k)
        estimator = make_estimator()
        estimator.fit([texts[i] for i in train], Y_raw[train])
        predicted = _indicator(estimator.predict([texts[i] for i in test]), test.size,
                               themes, "predictions")
        Y_oof[test] = predicted
        present = np.flatnonzero(Y_true[test].sum(axis=0) > 0)
        fold_macro.append(float(f1_score(Y_true[test], predicted, average="macro",
                                         labels=present, zero_division=0)))
        fold_micro.append(float(f1_score(Y_true[test], predicted, average="micro",
                                         zero_division=0)))
        fold_info.append({"fold": k, "n_train": int(train.size), "n_test": int(test.size),
                          "test_groups": sorted({str(g) for g in groups[test]})})
        if progress is not None:
            progress(k + 1, used)
    pooled = theme_metrics(Y_true, Y_oof, themes)
    report: dict[str, Any] = {
        "themes": themes,
        "n_segments": n,
        "n_groups": len(pd.unique(groups)),
        "n_splits": used,
        "n_splits_requested": int(n_splits),
        "random_state": random_state,
        "notes": notes,
        "per_theme": pooled["per_theme"],
        "macro_f1": _mean_sd(fold_macro),
        "micro_f1": _mean_sd(fold_micro),
        "pooled": {"macro_f1": pooled["macro_f1"], "micro_f1": pooled["micro_f1"]},
        "mean_krippendorff_alpha": pooled["mean_krippendorff_alpha"],
        "mean_cohen_kappa": pooled["mean_cohen_kappa"],
        "label_cardinality": pooled["label_cardinality"],
        "fold_assignment": fold.tolist(),
        "folds": fold_info,
    }
    if return_predictions:
        report["predictions"] = Y_oof
    return report


METRICS_COLUMNS = ["model", "theme", "precision", "recall", "f1", "f1_sd", "support",
                   "n_predicted", "krippendorff_alpha", "cohen_kappa",
                   "label_cardinality_true", "label_cardinality_predicted"]


def metrics_table(report: dict[str, Any], model: str = "themepipe") -> pd.DataFrame:
    """Flatten a :func:`grouped_cross_validate` report into rows for ``metrics.csv``.

    Returns
    -------
    table : DataFrame
        Columns :data:`METRICS_COLUMNS`: one row per theme (pooled out-of-fold figures;
        ``f1_sd`` and the cardinality columns empty), then ``macro`` and ``micro`` rows
        whose ``f1`` is the mean over folds and ``f1_sd`` the sample sd (ddof=1) over
        folds; the ``macro`` row also holds the mean alpha and kappa over themes, and
        both summary rows the label cardinality (mean themes per segment) of the human
        codes and of the predictions.
    """
    rows = []
    for theme, values in report["per_theme"].items():
        rows.append({"model": model, "theme": theme, "precision": values["precision"],
                     "recall": values["recall"], "f1": values["f1"], "f1_sd": None,
                     "support": values["support"], "n_predicted": values["n_predicted"],
                     "krippendorff_alpha": values["krippendorff_alpha"],
                     "cohen_kappa": values["cohen_kappa"]})
    support = sum(v["support"] for v in report["per_theme"].values())
    predicted = sum(v["n_predicted"] for v in report["per_theme"].values())
    cardinality = report["label_cardinality"]
    for name in ("macro", "micro"):
        summary = report[f"{name}_f1"]
        rows.append({"model": model, "theme": name, "precision": None, "recall": None,
                     "f1": summary["mean"], "f1_sd": summary["sd"], "support": support,
                     "n_predicted": predicted,
                     "krippendorff_alpha": report["mean_krippendorff_alpha"]
                     if name == "macro" else None,
                     "cohen_kappa": report["mean_cohen_kappa"] if name == "macro" else None,
                     "label_cardinality_true": cardinality["true"],
                     "label_cardinality_predicted": cardinality["predicted"]})
    return pd.DataFrame(rows, columns=METRICS_COLUMNS)
