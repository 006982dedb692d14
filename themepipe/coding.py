"""Gold codes from one or several coders: merging and inter-coder agreement.

Conflict rule (documented in the README): codes are merged per turn over the coders who
coded that turn.  A theme is kept when at least half of those coders applied it; a turn
whose merged set is empty is coded ``none``.  With one coder this is the coder's codes;
with two coders who disagree on a theme, the theme is kept (a researcher reviewing
disagreements would rather see a candidate theme than lose it).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .codebook import NO_THEME


def merge_codes(tables: Sequence[pd.DataFrame],
                theme_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Merge codes tables into one row per turn.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        From :func:`themepipe.ingest.load_codes` (``transcript, turn_index, themes,
        coder`` and optionally ``line``).

    Returns
    -------
    pandas.DataFrame
        ``transcript, turn_index, themes, coder, n_coders, line``; ``coder`` lists the
        coders of the turn joined by ``;``; ``themes`` follows the conflict rule above,
        in the first table's order of theme ids.
    """
    frames = [t for t in tables if t is not None and not t.empty]
    if not frames:
        return pd.DataFrame(columns=["transcript", "turn_index", "themes", "coder",
                                     "n_coders", "line"])
    codes = pd.concat(frames, ignore_index=True)
    if "line" not in codes.columns:
        codes["line"] = 0
    rows = []
    for (transcript, turn), group in codes.groupby(["transcript", "turn_index"], sort=False):
        group = group.drop_duplicates("coder", keep="last")
        n = len(group)
        votes: dict[str, int] = {}
        for cell in group["themes"]:
            for theme in cell.split(";"):
                if theme and theme != NO_THEME:
                    votes[theme] = votes.get(theme, 0) + 1
        order = list(theme_order) if theme_order is not None else [
            t for cell in group["themes"] for t in cell.split(";")]
        kept = [t for t in dict.fromkeys(order) if t in votes and 2 * votes[t] >= n]
        rows.append((transcript, int(turn), ";".join(kept) if kept else NO_THEME,
                     ";".join(group["coder"]), n, int(group["line"].iloc[0])))
    return pd.DataFrame(rows, columns=["transcript", "turn_index", "themes", "coder",
                                       "n_coders", "line"])
