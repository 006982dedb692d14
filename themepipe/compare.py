"""Compare: theme distributions per informant and per informant group.

Counts are taken over informant segments only.  A segment's themes are its gold codes
when a human coded it (``none`` = coded with no theme) and its predicted themes
otherwise: human codes override predictions.

Two shares are written, each named for what it divides (see STYLE.md, item 10):

- ``share_segments`` = segments with the theme / segments of the group.  Themes are
  multi-label, so these do not sum to 1 over themes.
- ``share_codings`` = codings of the theme / all codings of the group; sums to 1 over the
  themes of a group that has any coding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .codebook import theme_matrix

DISTRIBUTION_COLUMNS = ["group", "theme", "n_informants", "n_informants_with_theme",
                        "n_segments", "n_segments_with_theme", "share_segments",
                        "share_codings", "source"]
INFORMANT_COLUMNS = ["informant_id", "group", "theme", "n_segments",
                     "n_segments_with_theme", "share_segments"]


def final_themes(segments: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Return each segment's themes (gold overriding predicted) and their source.

    Parameters
    ----------
    segments : pandas.DataFrame
        With ``gold_themes`` and ``pred_themes`` (either may be missing).

    Returns
    -------
    themes : pandas.Series of str
        ``;``-joined theme ids (``none`` or empty mean no theme).
    source : pandas.Series of str
        ``gold`` where a human code exists, else ``model`` (``""`` when neither).
    """
    gold = segments.get("gold_themes", pd.Series("", index=segments.index)).fillna("")
    pred = segments.get("pred_themes", pd.Series("", index=segments.index)).fillna("")
    has_gold = gold != ""
    has_pred = "pred_themes" in segments.columns
    themes = gold.where(has_gold, pred)
    source = pd.Series(np.where(has_gold, "gold", "model" if has_pred else ""),
                       index=segments.index)
    return themes, source


def _check(segments: pd.DataFrame, by: str) -> pd.DataFrame:
    if by not in segments.columns:
        raise KeyError(f"segments have no column '{by}'")
    informant = segments[segments["role"] == "informant"]
    if len(informant[by]) != len(informant):  # labels must be as long as the segments
        raise ValueError("group labels and segments differ in length")
    return informant


def theme_distribution(segments: pd.DataFrame, themes: Sequence[str], by: str = "group",
                       groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Theme distribution per group: one row per group x theme, groups and themes sorted.

    Parameters
    ----------
    segments : pandas.DataFrame
        The segments table (any partition concatenation); only ``role == informant``
        rows are counted.  Needs ``informant_id``, ``by`` and the theme columns.
    themes : sequence of str
        Theme ids (codebook order); rows follow sorted theme ids.
    by : str
        Column holding the informant attribute to group by.
    groups : sequence of str, optional
        Groups to list even when they have no segment (counts 0, shares empty).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTRIBUTION_COLUMNS` (``by`` renamed to ``group``): counts of
        informants and segments, ``share_segments`` in [0, 1], ``share_codings`` in
        [0, 1] summing to 1 over a group's themes, and ``source`` (``gold``, ``model``
        or ``gold+model``: where the group's segment themes came from).
    """
    informant = _check(segments, by)
    labels, source = final_themes(informant)
    matrix = theme_matrix(list(labels), themes)
    group_values = informant[by].astype(str).to_numpy()
    all_groups = sorted(set(group_values) | set(groups or []))
    rows = []
    for group in all_groups:
        mask = group_values == group
        sub = matrix[mask]
        n_segments = int(mask.sum())
        codings = sub.sum(axis=0)
        total_codings = int(codings.sum())
        ids = informant["informant_id"].to_numpy()[mask]
        sources = set(source.to_numpy()[mask]) - {""}
        src = "+".join(s for s in ("gold", "model") if s in sources)
        for j in np.argsort(themes):
            theme = themes[j]
            with_theme = sub[:, j] == 1
            rows.append({
                "group": group, "theme": theme,
                "n_informants": len(set(ids)),
                "n_informants_with_theme": len(set(ids[with_theme])),
                "n_segments": n_segments,
                "n_segments_with_theme": int(with_theme.sum()),
                "share_segments": with_theme.mean() if n_segments else np.nan,
                "share_codings": codings[j] / total_codings if total_codings else np.nan,
                "source": src,
            })
    return pd.DataFrame(rows, columns=DISTRIBUTION_COLUMNS)


def informant_themes(segments: pd.DataFrame, themes: Sequence[str]) -> pd.DataFrame:
    """Theme counts per informant: one row per informant x theme, long format.

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`theme_distribution`.
    themes : sequence of str
        Theme ids.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INFORMANT_COLUMNS`, sorted by informant_id and theme;
        ``share_segments`` = the informant's segments with the theme / the informant's
        segments.
    """
    informant = _check(segments, "group")
    labels, _ = final_themes(informant)
    matrix = theme_matrix(list(labels), themes)
    ids = informant["informant_id"].to_numpy()
    group_of = dict(zip(informant["informant_id"], informant["group"]))
    rows = []
    for inf in sorted(set(ids)):
        sub = matrix[ids == inf]
        for j in np.argsort(themes):
            hits = int(sub[:, j].sum())
            rows.append({"informant_id": inf, "group": group_of[inf], "theme": themes[j],
                         "n_segments": len(sub), "n_segments_with_theme": hits,
                         "share_segments": hits / len(sub)})
    return pd.DataFrame(rows, columns=INFORMANT_COLUMNS)
