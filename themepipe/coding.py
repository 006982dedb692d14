"""Gold codes from one or several coders: merging and inter-coder agreement.

Conflict rule (documented in the README): codes are merged per turn over the coders who
coded that turn.  A theme is kept when at least half of those coders applied it; a turn
whose merged set is empty is coded ``none``.  With one coder this is the coder's codes;
with two coders who disagree on a theme, the theme is kept (a researcher reviewing
disagreements would rather see a candidate theme than lose it).

A coder is the ``coder`` column of a codes file, or the file's name without extension
when the column is missing or the cell is empty (:func:`themepipe.ingest.load_codes`).
When one coder coded the same turn in two files, the file given last wins.
:func:`coder_agreement` reports Krippendorff's alpha between coders per theme.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .codebook import NO_THEME


def merge_codes(tables: Sequence[pd.DataFrame],
                theme_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Merge codes tables into one row per turn.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        From :func:`themepipe.ingest.load_codes` (``transcript, turn_index, themes,
        coder`` and optionally ``line`` and ``file``).

    Returns
    -------
    pandas.DataFrame
        ``transcript, turn_index, themes, coder, n_coders, line, file``; ``coder`` lists
        the coders of the turn joined by ``;``; ``line`` and ``file`` locate one of its
        rows (``0`` and ``""`` when unknown); ``themes`` follows the conflict rule above,
        in the first table's order of theme ids.
    """
    frames = [t for t in tables if t is not None and not t.empty]
    if not frames:
        return pd.DataFrame(columns=["transcript", "turn_index", "themes", "coder",
                                     "n_coders", "line", "file"])
    codes = pd.concat(frames, ignore_index=True)
    # Tables without line numbers (a segment table's themes column) next to codes files.
    codes["line"] = codes["line"].fillna(0) if "line" in codes.columns else 0
    codes["file"] = codes["file"].fillna("") if "file" in codes.columns else ""
    keys = ["transcript", "turn_index"]
    codes["_turn"] = codes.groupby(keys, sort=False).ngroup()  # order of first appearance
    codes = (codes.drop_duplicates([*keys, "coder"], keep="last")  # a coder's last word
             .sort_values("_turn", kind="stable"))
    n_coders = codes.groupby("_turn", sort=False)["coder"].transform("size").to_numpy()
    single = n_coders == 1

    def kept_themes(cells: list[str]) -> str:
        n = len(cells)
        votes: dict[str, int] = {}
        for cell in cells:
            for theme in cell.split(";"):
                if theme and theme != NO_THEME:
                    votes[theme] = votes.get(theme, 0) + 1
        order = list(theme_order) if theme_order is not None else [
            t for cell in cells for t in cell.split(";")]
        kept = [t for t in dict.fromkeys(order) if t in votes and 2 * votes[t] >= n]
        return ";".join(kept) if kept else NO_THEME

    one = codes[single]  # most turns have one coder: one cached rule per distinct cell
    cache: dict[str, str] = {}
    merged = pd.DataFrame({
        "_turn": one["_turn"].to_numpy(), "transcript": one["transcript"].to_numpy(),
        "turn_index": one["turn_index"].astype(int).to_numpy(),
        "themes": [cache[c] if c in cache else cache.setdefault(c, kept_themes([c]))
                   for c in one["themes"]],
        "coder": one["coder"].to_numpy(), "n_coders": 1,
        "line": one["line"].astype(int).to_numpy(), "file": one["file"].astype(str).to_numpy()})
    rows = []
    for turn, group in codes[~single].groupby("_turn", sort=False):
        rows.append((turn, group["transcript"].iloc[0], int(group["turn_index"].iloc[0]),
                     kept_themes(list(group["themes"])), ";".join(group["coder"]),
                     len(group), int(group["line"].iloc[0]), str(group["file"].iloc[0])))
    several = pd.DataFrame(rows, columns=list(merged.columns))
    out = pd.concat([merged, several], ignore_index=True) if rows else merged
    return (out.sort_values("_turn", kind="stable").drop(columns="_turn")
            .reset_index(drop=True))


def coder_agreement(tables: Sequence[pd.DataFrame], themes: Sequence[str],
                    turns: set[tuple[str, int]] | None = None) -> dict:
    """Agreement between human coders on the turns that two or more of them coded.

    For each theme, every coder's code of a turn is 1 (theme applied) or 0 (not
    applied; the turn was coded, with other themes or ``none``); turns a coder did not
    code are missing.  Krippendorff's alpha (nominal) is computed per theme on the
    turns coded by at least two coders, and overall on all (turn, theme) decisions
    pooled.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        Codes tables (``transcript, turn_index, themes, coder``), one or more per coder.
    themes : sequence of str
        Theme ids of the codebook.
    turns : set of (transcript, turn_index), optional
        Keep only these turns (e.g. the informant turns of the corpus).

    Returns
    -------
    dict, JSON-ready
        ``coders`` (sorted ids), ``n_turns_shared`` (turns coded by >= 2 coders),
        ``per_theme`` {theme: {alpha, n_applied}} (``alpha`` ``None`` where undefined,
        ``n_applied`` codings of the theme on the shared turns), ``overall_alpha``.
        With fewer than two coders or no shared turn, ``per_theme`` is empty and
        ``overall_alpha`` is ``None``.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg
    School for Communication, University of Pennsylvania, departmental paper 43.
    """
    from .evaluation import krippendorff_alpha_nominal

    frames = [t for t in tables if t is not None and not t.empty]
    empty = {"coders": [], "n_turns_shared": 0, "per_theme": {}, "overall_alpha": None}
    if not frames:
        return empty
    codes = pd.concat(frames, ignore_index=True)[["transcript", "turn_index", "themes",
                                                  "coder"]]
    codes["turn_index"] = codes["turn_index"].astype(int)
    codes = codes.drop_duplicates(["transcript", "turn_index", "coder"], keep="last")
    if turns is not None:
        keep = [(t, i) in turns for t, i in zip(codes["transcript"], codes["turn_index"])]
        codes = codes[keep]
    coders = sorted(codes["coder"].unique())
    n_coders = codes.groupby(["transcript", "turn_index"])["coder"].transform("size")
    shared = codes[n_coders >= 2]
    units = list(dict.fromkeys(zip(shared["transcript"], shared["turn_index"])))
    if len(coders) < 2 or not units:
        return {**empty, "coders": coders}
    unit_pos = {unit: j for j, unit in enumerate(units)}
    coder_pos = {coder: i for i, coder in enumerate(coders)}
    # (coder position, unit position, themes applied) of each code, built once for all
    # themes.
    cells = [(coder_pos[coder], unit_pos[(transcript, turn)], set(tags.split(";")))
             for transcript, turn, tags, coder in zip(
                 shared["transcript"], shared["turn_index"], shared["themes"],
                 shared["coder"], strict=True)]
    pooled = []
    per_theme = {}
    for theme in themes:
        table = np.full((len(coders), len(units)), np.nan)
        for i, j, tags in cells:
            table[i, j] = theme in tags
        alpha = krippendorff_alpha_nominal(table)
        per_theme[theme] = {"alpha": None if np.isnan(alpha) else alpha,
                            "n_applied": int(np.nansum(table))}
        pooled.append(table)
    overall = krippendorff_alpha_nominal(np.hstack(pooled))
    return {"coders": coders, "n_turns_shared": len(units), "per_theme": per_theme,
            "overall_alpha": None if np.isnan(overall) else overall}
