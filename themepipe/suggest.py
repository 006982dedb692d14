"""Which segments to code next: uncertainty sampling spread over informants and groups.

The current model scores every uncoded informant segment.  A segment's *margin* says how
close the model is to changing its mind about it:

- ``multilabel``: the smallest distance, over themes, between the theme's calibrated
  probability and its decision threshold (the theme the model is least sure of is
  ``uncertain_theme``);
- ``multiclass``: the difference between the two most probable themes (margin sampling).

Small margins first (uncertainty sampling; Lewis & Gale 1994; margin sampling: Scheffer,
Decomain & Wrobel 2001).  To keep the coded sample diverse, the picks go round-robin over
informant groups, and inside a group to the informant with the fewest picks so far (ties:
the smaller margin), so no informant or group takes over the batch.  At most one segment
per turn is suggested, since codes are given per turn.

The result is a codes file (``transcript, turn_index, themes, coder``) with ``themes``
and ``coder`` left empty for the researcher to fill in, plus helper columns that
``themepipe train --codes`` ignores.

References
----------
Lewis, D. D. & Gale, W. A. (1994). A sequential algorithm for training text classifiers.
SIGIR '94, 3-12.
Scheffer, T., Decomain, C. & Wrobel, S. (2001). Active hidden Markov models for
information extraction. IDA 2001, LNCS 2189, 309-318.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import NO_THEME
from .errors import OutputError, StageError

#: Columns of a suggestions file: the codes format first, then helper columns.
SUGGEST_COLUMNS = ["transcript", "turn_index", "themes", "coder", "rank", "segment_id",
                   "informant_id", "group", "guess", "guess_probability",
                   "uncertain_theme", "margin", "text"]


def margins(proba: np.ndarray, thresholds: np.ndarray, mode: str,
            ) -> tuple[np.ndarray, np.ndarray]:
    """Uncertainty margin of each segment (smaller = less certain) and its theme.

    Parameters
    ----------
    proba : ndarray of shape (n_segments, n_themes)
        Calibrated probabilities.
    thresholds : ndarray of shape (n_themes,)
        Per-theme decision thresholds (multilabel; ignored in multiclass mode).
    mode : {"multilabel", "multiclass"}

    Returns
    -------
    margin : ndarray of shape (n_segments,)
        Multilabel: ``min_k |p_k - t_k|``; multiclass: top-1 minus top-2 probability.
    theme : ndarray of shape (n_segments,) of int
        Position of the theme at that margin (multilabel) or of the runner-up theme
        (multiclass).
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if mode == "multiclass":
        order = np.argsort(-proba, axis=1, kind="stable")
        rows = np.arange(proba.shape[0])
        top, second = proba[rows, order[:, 0]], proba[rows, order[:, 1]]
        return top - second, order[:, 1]
    distance = np.abs(proba - np.asarray(thresholds)[None, :])
    theme = distance.argmin(axis=1)
    return distance[np.arange(proba.shape[0]), theme], theme


def spread_picks(candidates: pd.DataFrame, n: int) -> list[int]:
    """Pick ``n`` candidates round-robin over groups, then informants, smallest margin first.

    Parameters
    ----------
    candidates : pandas.DataFrame
        With ``group``, ``informant_id``, ``margin`` and ``order`` (segment position, the
        tie-break); one row per candidate.
    n : int

    Returns
    -------
    list of int
        Index labels of the picked rows, in pick order (most uncertain first per round).
    """
    queues: dict[str, dict[str, list]] = {}
    ranked = candidates.sort_values(["margin", "order"], kind="stable")
    for label, row in ranked.iterrows():
        queues.setdefault(row["group"], {}).setdefault(row["informant_id"], []).append(
            (row["margin"], row["order"], label))
    picks: list[int] = []
    taken = {informant: 0 for group in queues.values() for informant in group}
    while len(picks) < n and any(q for group in queues.values() for q in group.values()):
        # Groups whose best remaining candidate is least certain go first in each round.
        live = [g for g, group in queues.items() if any(group.values())]
        live.sort(key=lambda g: min(q[0][:2] for q in queues[g].values() if q))
        for group in live:
            if len(picks) >= n:
                break
            informant = min((i for i, q in queues[group].items() if q),
                            key=lambda i: (taken[i], queues[group][i][0][:2]))
            picks.append(queues[group][informant].pop(0)[2])
            taken[informant] += 1
    return picks


def suggest(config, n: int = 20, extra_codes: list[Path] | None = None,
            reporter=None) -> tuple[pd.DataFrame, dict, list]:
    """Uncoded informant segments to code next, as a codes file to fill in.

    Parameters
    ----------
    config : themepipe.config.Config
    n : int
        Number of segments (turns) to suggest (fewer when fewer are uncoded).
    extra_codes : list of Path, optional
        Codes files whose turns count as coded too (e.g. an earlier suggestions file
        already filled in).
    reporter : themepipe.pipeline.Reporter, optional

    Returns
    -------
    table : pandas.DataFrame
        Columns :data:`SUGGEST_COLUMNS`, rows in transcript/turn order; ``rank`` 1 is the
        first pick; ``guess`` the model's themes (``none`` for no theme) and
        ``guess_probability`` the probability of its most probable theme.
    model_info : dict
        ``version`` and ``path`` of the model used.
    problems : list of Problem

    Raises
    ------
    StageError
        ``n`` < 1 (T455); no uncoded informant segment with words (T456).
    ModelError
        No usable model (see :func:`themepipe.modelstore.load_model`).
    """
    from .classify_stage import classify_segments, load_classifier, read_segments
    from .pipeline import Reporter, _Timer, classifier_input

    if int(n) < 1:
        raise StageError("T455", f"--n must be at least 1; got {n}")
    reporter = reporter or Reporter()
    timer = _Timer(reporter, {}, {})
    with timer.stage("load-model") as st:
        model = load_classifier(config)
        st.summary = f"{Path(config.classifier.model).name} {model[1].version}"
    codebook, segments, _, problems = read_segments(config, extra_codes, reporter, timer)
    themes = codebook.ids
    with timer.stage("suggest") as st:
        estimator, card = model
        uncoded = segments[(segments["role"] == "informant")
                           & (segments["gold_themes"] == "")
                           & (segments["stems"].fillna("").str.strip() != "")]
        if uncoded.empty:
            raise StageError("T456", "no uncoded informant segment with words is left; "
                             "every informant turn is coded already")
        scored, _ = classify_segments(config, themes, uncoded, model)
        proba = scored[[f"p_{t}" for t in themes]].to_numpy(dtype=np.float64)
        thresholds = np.asarray(getattr(estimator, "thresholds_", np.full(len(themes), 0.5)))
        margin, theme = margins(proba, thresholds, card.mode)
        candidates = pd.DataFrame({
            "transcript": scored["transcript"].to_numpy(),
            "turn_index": scored["turn_index"].astype(int).to_numpy(),
            "segment_id": scored["segment_id"].to_numpy(),
            "informant_id": scored["informant_id"].to_numpy(),
            "group": scored["group"].to_numpy(),
            "guess": scored["pred_themes"].replace("", NO_THEME).to_numpy(),
            "guess_probability": proba.max(axis=1),
            "uncertain_theme": [themes[k] for k in theme],
            "margin": margin,
            "text": classifier_input(scored, ["text"]),
            "order": np.arange(len(scored)),
        })
        # One candidate per turn (windows of a long turn share its codes): its least
        # certain window.
        candidates = (candidates.sort_values(["margin", "order"], kind="stable")
                      .drop_duplicates(["transcript", "turn_index"]).sort_values("order"))
        picks = spread_picks(candidates, int(n))
        table = candidates.loc[picks].copy()
        table["rank"] = np.arange(1, len(table) + 1)
        table["themes"] = ""
        table["coder"] = ""
        table = table.sort_values("order")[SUGGEST_COLUMNS].reset_index(drop=True)
        st.summary = (f"{len(table)} of {len(candidates)} uncoded turns, "
                      f"{table['informant_id'].nunique()} informants, "
                      f"{table['group'].nunique()} groups")
    return table, {"version": card.version, "path": str(card.path)}, problems


def write_suggestions(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a suggestions table as CSV atomically (temporary file, then rename).

    Raises
    ------
    OutputError
        The file cannot be written (T457).
    """
    from .runfolder import replace_file, write_csv

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda tmp: write_csv(table, tmp))
    except OSError as exc:
        raise OutputError("T457", f"cannot write the suggestions ({exc.strerror}); choose "
                          "a writable -o FILE", path=path) from None
    return path
