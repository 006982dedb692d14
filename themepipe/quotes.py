"""Quotes: exemplar informant segments for each group x theme.

The numbers of a comparison are only as good as the segments behind them; ``quotes.csv``
lists, for each group and theme, up to ``per_cell`` segments that carry the theme — human
(gold) codings first, then the model's codings by the theme's probability, highest
first; ties keep the order of the segments table.  Offsets point into the transcript's
original decoded source (``sources/<transcript>``); the text may be pseudonymised.

Quotes are chosen from mergeable candidates: each partition of the segments table keeps
its top ``per_cell`` candidates per group x theme (:func:`quote_candidates`, part of a
:class:`themepipe.compare.Tally`), merging keeps the top ``per_cell`` of the union
(:func:`merge_quote_candidates`), so the quotes of a streamed run are those of the whole
table.  "Order of the segments table" is the candidate's ``position``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .compare import group_order

QUOTE_COLUMNS = ["group", "theme", "rank", "segment_id", "informant_id", "transcript",
                 "start_char", "end_char", "source", "probability", "text"]


#: Columns of the quote candidates of a tally: the quote's columns (text unredacted),
#: then the ranking keys ``is_gold`` (1 for a human coding), ``p_micro`` (the theme's
#: probability rounded to 6 decimals, in micro-units; -10**6 when missing) and
#: ``position`` (order of the segments table), all int64.
CANDIDATE_COLUMNS = ["group", "theme", "segment_id", "informant_id", "transcript",
                     "start_char", "end_char", "source", "probability", "text", "is_gold",
                     "p_micro", "position"]
_KEYS = ["group", "theme", "is_gold", "p_micro", "position"]
_ASCENDING = [True, True, False, False, True]


def _ranked(candidates: pd.DataFrame, per_cell: int) -> pd.DataFrame:
    """Candidates sorted by cell and rank, the top ``per_cell`` of each cell kept."""
    ordered = candidates.sort_values(_KEYS, ascending=_ASCENDING, kind="stable")
    return ordered.groupby(["group", "theme"], sort=False).head(per_cell) \
        .reset_index(drop=True)[CANDIDATE_COLUMNS]


def _no_candidates() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in CANDIDATE_COLUMNS})
    return frame.astype({c: np.int64 for c in ("start_char", "end_char", "is_gold",
                                               "p_micro", "position")}
                        | {"probability": float})


def quote_candidates(informant: pd.DataFrame, matrix: np.ndarray, themes: Sequence[str],
                     group: np.ndarray, is_gold: np.ndarray, p_micro: np.ndarray,
                     per_cell: int = 3, position_offset: int = 0) -> pd.DataFrame:
    """The top ``per_cell`` quote candidates per group x theme of one partition.

    Parameters
    ----------
    informant : pandas.DataFrame
        The partition's informant rows, in table order, with ``segment_id``,
        ``informant_id``, ``transcript``, ``start_char``, ``end_char``, ``text`` and,
        when a model ran, ``p_<theme>``.
    matrix : ndarray of int, shape (n_rows, n_themes)
        1 where the row's final themes hold the theme.
    themes : sequence of str
        Theme ids of the columns of ``matrix``.
    group : ndarray of str, shape (n_rows,)
        Each row's group (value of the attribute compared by).
    is_gold : ndarray of bool, shape (n_rows,)
        The row's themes are a human coding.
    p_micro : ndarray of int64, shape (n_rows, n_themes)
        Probabilities rounded to 6 decimals in micro-units, -10**6 where missing.
    per_cell : int
        Candidates kept per group x theme (0: none).
    position_offset : int
        Added to the row's position among ``informant``'s rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`, sorted by group, theme and rank (gold first,
        probability descending, position ascending).
    """
    rows, cols = np.nonzero(np.asarray(matrix).reshape(len(informant), len(themes)) == 1)
    if per_cell <= 0 or len(rows) == 0:
        return _no_candidates()
    keys = pd.DataFrame({"group": np.asarray(group, dtype=object)[rows],
                         "theme": np.asarray(themes, dtype=object)[cols],
                         "is_gold": np.asarray(is_gold)[rows].astype(np.int64),
                         "p_micro": np.asarray(p_micro)[rows, cols].astype(np.int64),
                         "position": rows.astype(np.int64) + np.int64(position_offset),
                         "_row": rows, "_col": cols})
    keys = keys.sort_values(_KEYS, ascending=_ASCENDING, kind="stable")
    keys = keys.groupby(["group", "theme"], sort=False).head(per_cell)
    picked = informant.iloc[keys["_row"].to_numpy()]
    probability = np.full(len(keys), np.nan)
    for j, theme in enumerate(themes):
        column = f"p_{theme}"
        at = keys["_col"].to_numpy() == j
        if column in picked.columns and at.any():
            probability[at] = pd.to_numeric(picked[column], errors="coerce") \
                .to_numpy(float)[at]
    candidates = keys.drop(columns=["_row", "_col"]).reset_index(drop=True)
    candidates["segment_id"] = picked["segment_id"].to_numpy()
    candidates["informant_id"] = picked["informant_id"].to_numpy()
    candidates["transcript"] = picked["transcript"].to_numpy()
    candidates["start_char"] = picked["start_char"].astype(np.int64).to_numpy()
    candidates["end_char"] = picked["end_char"].astype(np.int64).to_numpy()
    candidates["source"] = np.where(candidates["is_gold"] == 1, "gold", "model")
    candidates["probability"] = probability
    candidates["text"] = picked["text"].astype(str).to_numpy()
    return candidates[CANDIDATE_COLUMNS]


def merge_quote_candidates(frames, per_cell: int = 3) -> pd.DataFrame:
    """The top ``per_cell`` candidates per group x theme of the union of partitions.

    Order-free: the ranking (gold first, probability descending, position ascending) is
    a total order when positions differ across partitions.

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        Candidates from :func:`quote_candidates` (or earlier merges).
    per_cell : int

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`, sorted by group, theme and rank.
    """
    frames = [f for f in frames if len(f)]
    if not frames or per_cell <= 0:
        return _no_candidates()
    return _ranked(pd.concat(frames, ignore_index=True), per_cell)


def quotes_from_tally(tally, groups: Sequence[str] | None = None,
                      redact: Callable[[str], str] | None = None) -> pd.DataFrame:
    """``quotes.csv`` from a (merged) :class:`themepipe.compare.Tally`.

    Parameters
    ----------
    tally : themepipe.compare.Tally
        Holding up to ``per_cell`` candidates per group x theme.
    groups : sequence of str, optional
        Declared group order (see :func:`themepipe.compare.group_order`).
    redact : callable, optional
        As :func:`select_quotes`; applied here, so the tally holds the raw text.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QUOTE_COLUMNS`, as :func:`select_quotes`.
    """
    def shown(value):
        return redact(value) if redact is not None and isinstance(value, str) else value

    candidates = _ranked(tally.quotes, max(len(tally.quotes), 1))
    cells = {key: sub for key, sub in candidates.groupby(["group", "theme"], sort=False)}
    rows = []
    for group in group_order(tally.groups["group"], groups):
        for theme in tally.themes:
            cell = cells.get((group, theme))
            if cell is None:
                continue
            for rank, row in enumerate(cell.itertuples(index=False), start=1):
                rows.append({
                    "group": shown(group), "theme": theme, "rank": rank,
                    "segment_id": shown(row.segment_id),
                    "informant_id": row.informant_id,
                    "transcript": shown(row.transcript),
                    "start_char": int(row.start_char), "end_char": int(row.end_char),
                    "source": row.source,
                    "probability": row.probability,
                    "text": shown(str(row.text)),
                })
    return pd.DataFrame(rows, columns=QUOTE_COLUMNS)


def select_quotes(segments: pd.DataFrame, themes: Sequence[str], by: str = "group",
                  groups: Sequence[str] | None = None, per_cell: int = 3,
                  redact: Callable[[str], str] | None = None) -> pd.DataFrame:
    """Up to ``per_cell`` exemplar segments per group x theme.

    Parameters
    ----------
    segments : pandas.DataFrame
        The segments table; only ``role == informant`` rows are quoted.  Needs
        ``segment_id``, ``informant_id``, ``transcript``, ``start_char``, ``end_char``,
        ``text``, ``by``, the theme columns and, when a model ran, ``p_<theme>``.
    themes : sequence of str
        Theme ids; rows follow sorted theme ids.
    by : str
        Informant attribute column to group by.
    groups : sequence of str, optional
        Declared group order (see :func:`themepipe.compare.group_order`).
    per_cell : int
        Quotes per group x theme at most.
    redact : callable, optional
        Applied to each quote's text and to the columns that can carry names: ``group``
        (an attribute value), ``segment_id`` and ``transcript`` (file names such as
        ``t3 Pak Budi.txt``), e.g. :meth:`themepipe.privacy.Pseudonymiser.redact`;
        offsets stay those of the original source.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QUOTE_COLUMNS`; ``rank`` 1..``per_cell``; ``source`` ``gold`` or
        ``model``; ``probability`` the model's ``p_<theme>`` (NaN when no model ran).
    """
    from .compare import tally_segments

    return quotes_from_tally(tally_segments(segments, themes, by, per_cell), groups, redact)
