"""Quotes: exemplar informant segments for each group x theme.

The numbers of a comparison are only as good as the segments behind them; ``quotes.csv``
lists, for each group and theme, up to ``per_cell`` segments that carry the theme — human
(gold) codings first, then the model's codings by the theme's probability, highest
first; ties keep the order of the segments table.  Offsets point into the transcript's
original decoded source (``sources/<transcript>``); the text may be pseudonymised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .codebook import theme_matrix
from .compare import final_themes, group_order, informant_segments

QUOTE_COLUMNS = ["group", "theme", "rank", "segment_id", "informant_id", "transcript",
                 "start_char", "end_char", "source", "probability", "text"]


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
    def shown(value):
        return redact(value) if redact is not None and isinstance(value, str) else value

    informant = informant_segments(segments, by)
    labels, source = final_themes(informant)
    matrix = theme_matrix(list(labels), themes)
    group_values = informant[by].astype(str).to_numpy()
    is_gold = (source == "gold").to_numpy()
    position = np.arange(len(informant))
    probabilities = {}
    for theme in themes:
        column = f"p_{theme}"
        probability = (informant[column].to_numpy(dtype=float) if column in informant
                       else np.full(len(informant), np.nan))
        # probabilities as written to segments.csv, so that `compare` on a run folder
        # ranks exactly as the run did
        probabilities[theme] = probability, np.nan_to_num(np.round(probability, 6), nan=-1.0)
    rows = []
    for group in group_order(group_values, groups):
        in_group = group_values == group
        for j in np.argsort(themes):
            theme = themes[j]
            probability, ranked_p = probabilities[theme]
            candidates = np.flatnonzero(in_group & (matrix[:, j] == 1))
            order = np.lexsort((position[candidates], -ranked_p[candidates],
                                ~is_gold[candidates]))
            for rank, k in enumerate(candidates[order][:per_cell], start=1):
                row = informant.iloc[k]
                rows.append({
                    "group": shown(group), "theme": theme, "rank": rank,
                    "segment_id": shown(row["segment_id"]),
                    "informant_id": row["informant_id"],
                    "transcript": shown(row["transcript"]),
                    "start_char": int(row["start_char"]), "end_char": int(row["end_char"]),
                    "source": "gold" if is_gold[k] else "model",
                    "probability": probability[k],
                    "text": shown(str(row["text"])),
                })
    return pd.DataFrame(rows, columns=QUOTE_COLUMNS)
