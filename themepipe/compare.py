"""Compare: theme distributions and honest comparisons across informant groups.

Counts are taken over informant segments only.  A segment's themes are its gold codes
when a human coded it (``none`` = coded with no theme) and its predicted themes
otherwise: human codes override predictions.

Two shares are written, each named for what it divides (see STYLE.md, item 10):

- ``share_segments`` = segments with the theme / segments of the group.  Themes are
  multi-label, so these do not sum to 1 over themes.
- ``share_codings`` = codings of the theme / all codings of the group; sums to 1 over the
  themes of a group that has any coding.

Uncertainty and tests treat the *informant* as the unit (segments of one informant are
not independent): bootstrap intervals resample informants within a group, permutation
tests permute group labels across informants (see :mod:`themepipe.stats`).  The
chi-square test of the group x theme coding table is written as a description only.

Every table is computed from a :class:`Tally`: exact integer counts per informant and per
group (probabilities summed in micro-units) and the top quote candidates per cell.  A
large run tallies each partition of its segments (:func:`tally_segments`), merges the
tallies (:func:`merge_tallies`, a group-by sum) and computes the tables once
(:func:`compare_tally`); the whole-table functions (:func:`compare_groups`,
:func:`theme_distribution`, ...) are that with one partition, so both paths give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import theme_matrix
from .errors import Problem, StageError
from .stats import (
    CODING_TEST_NOTE,
    benjamini_hochberg,
    bootstrap_share_ci,
    contingency_statistics,
    js_distance,
    permutation_test,
)

DISTRIBUTION_COLUMNS = ["group", "theme", "n_informants", "n_informants_with_theme",
                        "n_segments", "n_segments_with_theme", "share_segments",
                        "ci_low", "ci_high", "share_codings", "mean_probability", "source"]
COMPARISON_COLUMNS = ["theme", "n_informants", "n_groups", "statistic", "p_value",
                      "q_value", "n_permutations"]
PAIR_COLUMNS = ["group_a", "group_b", "theme", "mean_share_a", "mean_share_b",
                "difference", "statistic", "p_value", "q_value"]
DISTANCE_COLUMNS = ["group_a", "group_b", "js_distance"]
CODING_TABLE_COLUMNS = ["group", "theme", "codings", "expected", "adjusted_residual"]
CODING_TEST_COLUMNS = ["chi_square", "dof", "p_value", "cramers_v", "note"]
#: File names of a comparison, in the order they are written.
COMPARISON_FILES = ["theme_distribution.csv", "group_comparison.csv", "group_pairs.csv",
                    "group_distances.csv", "coding_table.csv", "coding_test.csv",
                    "quotes.csv"]
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




def group_order(values, declared: Sequence[str] | None = None) -> list[str]:
    """Groups in report order: the declared ones in their order, then the others sorted.

    Parameters
    ----------
    values : iterable of str
        Group values found in the data.
    declared : sequence of str, optional
        ``groups:`` of the config (listed even when absent from the data).

    Returns
    -------
    list of str
    """
    declared = list(declared or [])
    return declared + sorted(set(map(str, values)) - set(declared))


def informant_segments(segments: pd.DataFrame, by: str) -> pd.DataFrame:
    """The informant rows of the segments table (``role == informant``).

    Raises
    ------
    StageError
        The table has no column ``by`` (T600).
    """
    if by not in segments.columns:
        raise StageError("T600", f"segments have no column '{by}' to compare by; columns "
                         f"found: {', '.join(map(str, segments.columns))}")
    informant = segments[segments["role"] == "informant"]
    if len(informant[by]) != len(informant):  # labels must be as long as the segments
        raise StageError("T600", f"the '{by}' labels and the segments differ in length")
    return informant


@dataclass
class InformantCounts:
    """Theme counts per informant (the unit of the bootstrap and the permutation tests).

    Attributes
    ----------
    group, informant_id : ndarray of str, shape (n_informants,)
        Sorted by group, then informant id.
    themes : list of str
        Sorted theme ids (the columns of ``hits``).
    hits : ndarray of shape (n_informants, n_themes)
        The informant's segments with each theme.
    totals : ndarray of shape (n_informants,)
        The informant's segments (>= 1).
    """

    group: np.ndarray
    informant_id: np.ndarray
    themes: list[str]
    hits: np.ndarray
    totals: np.ndarray

    @property
    def shares(self) -> np.ndarray:
        """Informant-level ``share_segments``, shape (n_informants, n_themes)."""
        return self.hits / self.totals[:, None]


def informant_counts(segments: pd.DataFrame, themes: Sequence[str],
                     by: str = "group") -> InformantCounts:
    """Count each informant's segments with each theme (final themes, informant rows).

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`theme_distribution`.
    themes : sequence of str
        Theme ids (any order; the result's columns are sorted).
    by : str
        Informant attribute column.

    Returns
    -------
    InformantCounts
    """
    return tally_counts(tally_segments(segments, themes, by, per_cell=0))


# -- tallies: exact, mergeable counts -------------------------------------------------

#: Fixed-point unit of the probability sums: ``p_<theme>`` rounded to 6 decimals, as
#: written to segments.csv, is an exact integer number of micro-units.
MICRO = 10**6


@dataclass
class Tally:
    """Exact, mergeable counts of informant segments for one attribute ``by``.

    Every column except the keys (``group``, ``informant_id``) is an int64 that merges by
    summation, so tallies of partitions of a segments table merge in any order and any
    grouping (also as a Dask group-by sum) into the tally of the whole table, bit for bit.

    Attributes
    ----------
    themes : list of str
        Sorted theme ids.
    informants : pandas.DataFrame
        One row per (group, informant_id), sorted: ``group`` and ``informant_id`` (str),
        ``n_segments`` and ``hit_<theme>`` (int64: the informant's segments, and those
        with the theme).
    groups : pandas.DataFrame
        One row per group, sorted: ``group``, ``n_segments``, ``n_gold`` (segments with a
        human code), ``n_model`` (segments with the model's themes only), ``psum_<theme>``
        (sum of ``p_<theme>`` in micro-units, :data:`MICRO`) and ``pn_<theme>`` (segments
        with a probability); all int64.
    quotes : pandas.DataFrame
        Quote candidates, at most ``per_cell`` per (group, theme): the columns of
        :func:`themepipe.quotes.quote_candidates` (unredacted text).
    """

    themes: list[str]
    informants: pd.DataFrame
    groups: pd.DataFrame
    quotes: pd.DataFrame


def _theme_columns(prefix: str, themes: Sequence[str]) -> list[str]:
    return [f"{prefix}{theme}" for theme in themes]


def sum_by(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Group-by sum of int64 ``columns`` over ``keys``, sorted by the keys.

    Returns
    -------
    pandas.DataFrame
        The ``keys`` then ``columns`` (int64), one row per distinct key, index reset;
        an empty frame of those columns when ``frame`` is empty.
    """
    if frame.empty:
        empty = {k: pd.Series([], dtype=object) for k in keys}
        empty.update({c: pd.Series([], dtype=np.int64) for c in columns})
        return pd.DataFrame(empty, columns=keys + columns)
    summed = frame.groupby(keys, sort=True)[columns].sum().reset_index()
    return summed.astype({c: np.int64 for c in columns})[keys + columns]


def tally_segments(segments: pd.DataFrame, themes: Sequence[str], by: str = "group",
                   per_cell: int = 3, position_offset: int = 0) -> Tally:
    """Tally one partition of the segments table (or all of it).

    Parameters
    ----------
    segments : pandas.DataFrame
        Rows of the segments table (any subset of whole transcripts, in table order);
        only ``role == informant`` rows count, with their final themes
        (:func:`final_themes`).  Needs ``informant_id``, ``by`` and the theme columns;
        ``p_<theme>`` when a model ran; the quote columns (``segment_id``,
        ``transcript``, ``start_char``, ``end_char``, ``text``) when ``per_cell`` > 0.
    themes : sequence of str
        Theme ids (any order; the tally's are sorted).
    by : str
        Informant attribute column.
    per_cell : int
        Quote candidates kept per group x theme (0: none).
    position_offset : int
        Added to each informant row's position in this partition: the quotes' tie
        breaker, "order of the segments table" (e.g. ``partition_index << 32``).

    Returns
    -------
    Tally

    Raises
    ------
    StageError
        ``segments`` has no column ``by`` (T600).
    """
    from .quotes import quote_candidates

    informant = informant_segments(segments, by)
    labels, source = final_themes(informant)
    themes = sorted(themes)
    matrix = theme_matrix(list(labels), themes).astype(np.int64).reshape(len(informant),
                                                                       len(themes))
    group = informant[by].astype(str).to_numpy()
    hit_columns = _theme_columns("hit_", themes)
    frame = pd.DataFrame(matrix, columns=hit_columns)
    frame.insert(0, "group", group)
    frame.insert(1, "informant_id", informant["informant_id"].astype(str).to_numpy())
    frame.insert(2, "n_segments", np.ones(len(informant), dtype=np.int64))
    informants = sum_by(frame, ["group", "informant_id"], ["n_segments"] + hit_columns)

    micro = np.column_stack([_micro_probabilities(informant, t) for t in themes]) \
        if themes else np.zeros((len(informant), 0), dtype=np.int64)
    source = source.to_numpy()
    per_group = pd.DataFrame({"group": group,
                              "n_segments": np.ones(len(informant), dtype=np.int64),
                              "n_gold": (source == "gold").astype(np.int64),
                              "n_model": (source == "model").astype(np.int64)})
    has_p = micro != MISSING_MICRO
    for j, theme in enumerate(themes):
        per_group[f"psum_{theme}"] = np.where(has_p[:, j], micro[:, j], 0)
    for j, theme in enumerate(themes):
        per_group[f"pn_{theme}"] = has_p[:, j].astype(np.int64)
    groups = sum_by(per_group, ["group"], list(per_group.columns[1:]))

    quotes = quote_candidates(informant, matrix, themes, group, source == "gold", micro,
                              per_cell, position_offset)
    return Tally(themes, informants, groups, quotes)


#: Micro-unit key of a missing probability (as ``-1.0``: ranks below every probability).
MISSING_MICRO = -MICRO


def _micro_probabilities(informant: pd.DataFrame, theme: str) -> np.ndarray:
    """``p_<theme>`` rounded as written to segments.csv, in int64 micro-units.

    :data:`MISSING_MICRO` where there is no probability (no model ran, or a segment
    without content words).  Rounding makes ``themepipe compare`` on a run folder give
    the run's own numbers.
    """
    column = f"p_{theme}"
    if column not in informant.columns:
        return np.full(len(informant), MISSING_MICRO, dtype=np.int64)
    p = pd.to_numeric(informant[column], errors="coerce").to_numpy(float)
    finite = np.isfinite(p)
    micro = np.full(len(p), MISSING_MICRO, dtype=np.int64)
    micro[finite] = np.rint(p[finite] * MICRO).astype(np.int64)  # = np.round(p, 6) * 1e6
    return micro


def merge_tallies(tallies: Iterable[Tally], per_cell: int = 3,
                  merge_sum: Callable[[list[pd.DataFrame], list[str]], pd.DataFrame]
                  | None = None) -> Tally:
    """Merge the tallies of partitions into the tally of their union.

    Exact and order-free: counts and micro-unit sums are added (int64 group-by sums),
    quote candidates keep the top ``per_cell`` per (group, theme) by (gold first,
    probability descending, position ascending).

    Parameters
    ----------
    tallies : iterable of Tally
        Of the same themes; at least one.
    per_cell : int
        Quote candidates kept per group x theme.
    merge_sum : callable, optional
        ``merge_sum(frames, keys)``: the group-by sum of the int64 columns of ``frames``
        over ``keys`` (e.g. an executor's, done by Dask); a pandas group-by sum when
        None.  Its row and column order do not matter.

    Returns
    -------
    Tally

    Raises
    ------
    StageError
        No tally, or tallies of different themes (T610).
    """
    from .quotes import merge_quote_candidates

    tallies = list(tallies)
    if not tallies:
        raise StageError("T610", "no tally to merge; tally at least one partition "
                         "(an empty one is fine)")
    themes = tallies[0].themes
    for other in tallies[1:]:
        if other.themes != themes:
            raise StageError("T610", f"tallies of different themes cannot be merged "
                             f"({', '.join(themes)} vs {', '.join(other.themes)}); tally "
                             "every partition with the run's codebook")
    hit_columns = ["n_segments"] + _theme_columns("hit_", themes)
    group_columns = ["n_segments", "n_gold", "n_model"] + _theme_columns("psum_", themes) \
        + _theme_columns("pn_", themes)

    def summed(frames: list[pd.DataFrame], keys: list[str], columns: list[str]):
        if merge_sum is None:
            return sum_by(pd.concat(frames, ignore_index=True), keys, columns)
        frame = merge_sum(frames, keys)
        if frame.empty:
            return sum_by(frame.iloc[:0], keys, columns)
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
        return frame.reindex(columns=keys + columns, fill_value=0) \
            .astype({c: np.int64 for c in columns})

    informants = summed([t.informants for t in tallies], ["group", "informant_id"],
                        hit_columns)
    groups = summed([t.groups for t in tallies], ["group"], group_columns)
    quotes = merge_quote_candidates([t.quotes for t in tallies], per_cell)
    return Tally(list(themes), informants, groups, quotes)


def tally_counts(tally: Tally) -> InformantCounts:
    """The informant-level arrays of a tally (the unit of bootstrap and permutations).

    Returns
    -------
    InformantCounts
        Rows sorted by group, then informant id: the same arrays whether the tally was
        counted from one table or merged from partitions.
    """
    informants = tally.informants
    hits = informants[_theme_columns("hit_", tally.themes)].to_numpy(dtype=float)
    return InformantCounts(informants["group"].to_numpy(dtype=str),
                           informants["informant_id"].to_numpy(dtype=str),
                           list(tally.themes),
                           hits.reshape(len(informants), len(tally.themes)),
                           informants["n_segments"].to_numpy(dtype=float))


def _rng(random_state: int, stream: int) -> np.random.Generator:
    """Independent, reproducible random streams: 0 bootstrap, 1 omnibus tests, 2 pairs."""
    return np.random.default_rng(np.random.SeedSequence(random_state, spawn_key=(stream,)))


def theme_distribution(segments: pd.DataFrame, themes: Sequence[str], by: str = "group",
                       groups: Sequence[str] | None = None, n_bootstrap: int = 0,
                       random_state: int = 0) -> pd.DataFrame:
    """Theme distribution per group: one row per group x theme, themes sorted.

    Parameters
    ----------
    segments : pandas.DataFrame
        The segments table (any partition concatenation); only ``role == informant``
        rows are counted.  Needs ``informant_id``, ``by`` and the theme columns;
        ``p_<theme>`` columns when a model ran.
    themes : sequence of str
        Theme ids (codebook order); rows follow sorted theme ids.
    by : str
        Column holding the informant attribute to group by.
    groups : sequence of str, optional
        Declared groups: listed first, in this order, even when they have no segment
        (counts 0, shares empty); other groups follow sorted.
    n_bootstrap : int
        Bootstrap resamples for ``ci_low``/``ci_high`` (0: left empty).
    random_state : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTRIBUTION_COLUMNS` (``by`` renamed to ``group``): counts of
        informants and segments, ``share_segments`` in [0, 1] with its 95% (expanded) percentile
        bootstrap interval ``ci_low``/``ci_high`` (informants resampled within the
        group; empty for groups of fewer than 2 informants), ``share_codings`` in [0, 1]
        summing to 1 over a group's themes, ``mean_probability`` (mean ``p_<theme>``
        over the group's informant segments that have one — a segment with no content
        words gets no probability; empty when no model ran) and ``source``
        (``gold``, ``model`` or ``gold+model``: where the group's segment themes came
        from).
    """
    return distribution_from_tally(tally_segments(segments, themes, by, per_cell=0),
                                   groups, n_bootstrap, random_state)


def distribution_from_tally(tally: Tally, groups: Sequence[str] | None = None,
                            n_bootstrap: int = 0, random_state: int = 0) -> pd.DataFrame:
    """:func:`theme_distribution` computed from a (merged) tally.

    ``mean_probability`` = ``psum_<theme> / 10**6 / pn_<theme>`` (empty when no segment
    of the group has a probability).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTRIBUTION_COLUMNS`.
    """
    themes = tally.themes
    counts = tally_counts(tally)
    per_group = tally.groups.set_index("group")
    rng = _rng(random_state, 0)
    rows = []
    for group in group_order(per_group.index, groups):
        known = group in per_group.index
        cell = per_group.loc[group] if known else None
        n_segments = int(cell["n_segments"]) if known else 0
        units = counts.group == group
        hits = counts.hits[units]
        codings = hits.sum(axis=0).astype(np.int64)
        total_codings = int(codings.sum())
        src = "+".join(s for s in ("gold", "model") if known and int(cell[f"n_{s}"]) > 0)
        informants_with_theme = (hits > 0).sum(axis=0)
        ci_low, ci_high = bootstrap_share_ci(hits, counts.totals[units], n_bootstrap, rng)
        for j, theme in enumerate(themes):
            psum = int(cell[f"psum_{theme}"]) if known else 0
            pn = int(cell[f"pn_{theme}"]) if known else 0
            rows.append({
                "group": group, "theme": theme,
                "n_informants": int(units.sum()),
                "n_informants_with_theme": int(informants_with_theme[j]),
                "n_segments": n_segments,
                "n_segments_with_theme": int(codings[j]),
                "share_segments": int(codings[j]) / n_segments if n_segments else np.nan,
                "ci_low": ci_low[j], "ci_high": ci_high[j],
                "share_codings": codings[j] / total_codings if total_codings else np.nan,
                "mean_probability": psum / MICRO / pn if pn else np.nan,
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
    return informant_themes_from_tally(tally_segments(segments, themes, "group",
                                                      per_cell=0))


def informant_themes_from_tally(tally: Tally) -> pd.DataFrame:
    """:func:`informant_themes` computed from a (merged) tally of attribute ``group``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INFORMANT_COLUMNS`.
    """
    counts = tally_counts(tally)
    n_themes = len(counts.themes)
    table = pd.DataFrame({
        "informant_id": np.repeat(counts.informant_id, n_themes),
        "group": np.repeat(counts.group, n_themes),
        "theme": np.tile(counts.themes, len(counts.totals)),
        "n_segments": np.repeat(counts.totals.astype(int), n_themes),
        "n_segments_with_theme": counts.hits.astype(int).ravel(),
        "share_segments": counts.shares.ravel(),
    }, columns=INFORMANT_COLUMNS)
    return table.sort_values(["informant_id", "theme"], kind="stable").reset_index(drop=True)


def group_tests(segments: pd.DataFrame, themes: Sequence[str], by: str = "group",
                groups: Sequence[str] | None = None, n_permutations: int = 5000,
                random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Permutation tests of informant-level shares across groups, per theme and per pair.

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`theme_distribution`.
    themes : sequence of str
        Theme ids; rows follow sorted theme ids.
    by : str
        Informant attribute column.
    groups : sequence of str, optional
        Declared group order (see :func:`group_order`); groups without informants are
        left out of the tests.
    n_permutations : int
        Random relabelings of informants per test (0: p- and q-values empty).
    random_state : int
        Seed of the permutations.

    Returns
    -------
    comparison : pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`, one row per theme: the between-group sum of
        squares of informant-level shares (groups weighted by informants), its
        permutation p-value and the Benjamini-Hochberg q-value across themes.
    pairs : pandas.DataFrame
        Columns :data:`PAIR_COLUMNS`, one row per pair of groups (``group_a`` before
        ``group_b`` in group order) x theme: mean informant-level shares,
        ``difference = mean_share_a - mean_share_b``, the same test restricted to the
        pair's informants, and q across every row of the table.

    Notes
    -----
    See :func:`themepipe.stats.permutation_test`.
    """
    return tests_from_counts(informant_counts(segments, themes, by), groups,
                             n_permutations, random_state)


def tests_from_counts(counts: InformantCounts, groups: Sequence[str] | None = None,
                      n_permutations: int = 5000, random_state: int = 0,
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`group_tests` computed from informant-level counts (e.g. of a tally).

    Returns
    -------
    comparison, pairs : pandas.DataFrame
        As :func:`group_tests`.
    """
    themes = counts.themes
    present = [g for g in group_order(counts.group, groups) if (counts.group == g).any()]
    index = {g: k for k, g in enumerate(present)}
    labels = np.array([index[g] for g in counts.group], dtype=np.int64)
    shares = counts.shares
    n_themes = len(themes)
    if len(present) >= 2:
        statistic, p_value = permutation_test(shares, labels, len(present), n_permutations,
                                              _rng(random_state, 1))
    else:
        statistic, p_value = np.full(n_themes, np.nan), np.full(n_themes, np.nan)
    comparison = pd.DataFrame({
        "theme": themes, "n_informants": len(labels), "n_groups": len(present),
        "statistic": statistic, "p_value": p_value, "q_value": benjamini_hochberg(p_value),
        "n_permutations": max(n_permutations, 0),
    }, columns=COMPARISON_COLUMNS)

    rng = _rng(random_state, 2)
    rows = []
    for a in range(len(present)):
        for b in range(a + 1, len(present)):
            pair = (labels == a) | (labels == b)
            sub_shares = shares[pair]
            statistic, p_value = permutation_test(sub_shares, (labels[pair] == b).astype(int),
                                                  2, n_permutations, rng)
            mean_a = shares[labels == a].mean(axis=0)
            mean_b = shares[labels == b].mean(axis=0)
            for j, theme in enumerate(themes):
                rows.append({"group_a": present[a], "group_b": present[b], "theme": theme,
                             "mean_share_a": mean_a[j], "mean_share_b": mean_b[j],
                             "difference": mean_a[j] - mean_b[j],
                             "statistic": statistic[j], "p_value": p_value[j]})
    pairs = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    pairs["q_value"] = benjamini_hochberg(pairs["p_value"].to_numpy(float))
    return comparison, pairs


def group_distances(distribution: pd.DataFrame) -> pd.DataFrame:
    """Jensen-Shannon distance between the groups' ``share_codings`` profiles.

    Parameters
    ----------
    distribution : pandas.DataFrame
        From :func:`theme_distribution` (its group order is kept).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTANCE_COLUMNS`, one row per pair of groups (``group_a``
        before ``group_b``); base 2, in [0, 1]; empty when a group has no coding.
    """
    order = list(dict.fromkeys(distribution["group"]))
    profiles = {g: sub.sort_values("theme")["share_codings"].to_numpy(float)
                for g, sub in distribution.groupby("group", sort=False)}
    rows = [{"group_a": a, "group_b": b, "js_distance": js_distance(profiles[a], profiles[b])}
            for i, a in enumerate(order) for b in order[i + 1:]]
    return pd.DataFrame(rows, columns=DISTANCE_COLUMNS)


def coding_table(distribution: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Descriptive chi-square analysis of the group x theme coding table.

    A coding is one theme on one informant segment (``n_segments_with_theme``).  Codings
    of one informant are not independent, so the test is written as a description, not
    as evidence; the permutation tests of :func:`group_tests` are the tests.

    Parameters
    ----------
    distribution : pandas.DataFrame
        From :func:`theme_distribution`.

    Returns
    -------
    table : pandas.DataFrame
        Columns :data:`CODING_TABLE_COLUMNS`, in the distribution's row order:
        observed codings, expected codings under independence and the adjusted
        standardised residual (empty for groups or themes without codings).
    test : pandas.DataFrame
        One row, columns :data:`CODING_TEST_COLUMNS`.

    Notes
    -----
    See :func:`themepipe.stats.contingency_statistics`.
    """
    groups = list(dict.fromkeys(distribution["group"]))
    themes = sorted(set(distribution["theme"]))
    wide = (distribution.pivot(index="group", columns="theme",
                               values="n_segments_with_theme")
            .reindex(index=groups, columns=themes).fillna(0))
    stats = contingency_statistics(wide.to_numpy(float))
    table = distribution[["group", "theme"]].copy()
    table["codings"] = distribution["n_segments_with_theme"].astype(int).to_numpy()
    row = {g: i for i, g in enumerate(groups)}
    col = {t: j for j, t in enumerate(themes)}
    at = (table["group"].map(row).to_numpy(), table["theme"].map(col).to_numpy())
    table["expected"] = stats["expected"][at]
    table["adjusted_residual"] = stats["adjusted_residual"][at]
    dof = stats["dof"]
    test = pd.DataFrame([{"chi_square": stats["chi_square"],
                          "dof": pd.NA if pd.isna(dof) else int(dof),
                          "p_value": stats["p_value"], "cramers_v": stats["cramers_v"],
                          "note": CODING_TEST_NOTE}], columns=CODING_TEST_COLUMNS)
    test["dof"] = test["dof"].astype("Int64")
    return table.reset_index(drop=True), test


def small_group_problems(distribution: pd.DataFrame, by: str, path: str) -> list[Problem]:
    """A warning for each group with fewer than 2 informants (T605).

    Such a group has no bootstrap interval, and the tests can say little about it.
    """
    sizes = distribution.drop_duplicates("group").set_index("group")["n_informants"]
    return [Problem(path, None, "T605", f"{by} '{group}' has {int(n)} informant(s); a "
                    "comparison needs at least 2 per group: its intervals are left empty "
                    "and tests involving it have little power. Add informants or merge "
                    "the group with another", "warning")
            for group, n in sizes.items() if n < 2]


@dataclass
class Comparison:
    """The tables of one comparison, by file name (see :data:`COMPARISON_FILES`).

    Attributes
    ----------
    by : str
        The informant attribute compared.
    tables : dict of str to pandas.DataFrame
    problems : list of Problem
        Warnings (e.g. groups with fewer than 2 informants).
    """

    by: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def compare_groups(segments: pd.DataFrame, themes: Sequence[str], by: str = "group",
                   groups: Sequence[str] | None = None, n_bootstrap: int = 2000,
                   n_permutations: int = 5000, random_state: int = 0,
                   redact: Callable[[str], str] | None = None,
                   path: str = "informants.csv", attribute: str | None = None,
                   ) -> Comparison:
    """Every comparison table for one informant attribute.

    Parameters
    ----------
    segments : pandas.DataFrame
        The segments table with the column ``by``; only informant rows count, with
        their final themes (gold overriding predictions, :func:`final_themes`).
    themes : sequence of str
        Theme ids.
    by : str
        Informant attribute (``group``, ``dusun``, ...).
    groups : sequence of str, optional
        Declared group order.
    n_bootstrap, n_permutations, random_state : int
        ``compare.bootstrap``, ``compare.permutations``, ``compare.random_state``.
    redact : callable, optional
        Pseudonymiser for the quotes' text (``privacy.redact``).
    path : str
        Where the groups come from, for the problems' messages.
    attribute : str, optional
        The attribute's name when the column ``by`` has another (default ``by``).

    Returns
    -------
    Comparison
        Tables :data:`COMPARISON_FILES`; the column ``group`` holds the values of ``by``.

    Raises
    ------
    StageError
        ``segments`` has no column ``by`` (T600).
    """
    return compare_tally(tally_segments(segments, themes, by), by, groups, n_bootstrap,
                         n_permutations, random_state, redact, path, attribute)


def compare_tally(tally: Tally, by: str = "group", groups: Sequence[str] | None = None,
                  n_bootstrap: int = 2000, n_permutations: int = 5000, random_state: int = 0,
                  redact: Callable[[str], str] | None = None, path: str = "informants.csv",
                  attribute: str | None = None) -> Comparison:
    """Every comparison table for one informant attribute, from a (merged) tally.

    The computation behind :func:`compare_groups`: a tally counted from the whole table
    and one merged from partitions (:func:`merge_tallies`) give identical tables.

    Parameters
    ----------
    tally : Tally
        From :func:`tally_segments` / :func:`merge_tallies`, with ``per_cell`` quote
        candidates (3 in a run).
    by : str
        The attribute's name (the name of the result when ``attribute`` is not given).
    groups, n_bootstrap, n_permutations, random_state, redact, path, attribute
        As :func:`compare_groups`.

    Returns
    -------
    Comparison
        Tables :data:`COMPARISON_FILES`.
    """
    from .quotes import quotes_from_tally

    distribution = distribution_from_tally(tally, groups, n_bootstrap, random_state)
    comparison, pairs = tests_from_counts(tally_counts(tally), groups, n_permutations,
                                          random_state)
    table, test = coding_table(distribution)
    tables = {
        "theme_distribution.csv": distribution,
        "group_comparison.csv": comparison,
        "group_pairs.csv": pairs,
        "group_distances.csv": group_distances(distribution),
        "coding_table.csv": table,
        "coding_test.csv": test,
        "quotes.csv": quotes_from_tally(tally, groups, redact=redact),
    }
    attribute = attribute or by
    return Comparison(attribute, tables, small_group_problems(distribution, attribute, path))


# -- a run's comparisons ---------------------------------------------------------------

#: Columns of informants.csv that are not attributes to compare by.
NOT_ATTRIBUTES = ("transcript", "speaker_label", "informant_id", "name")


def _redactor(informants: pd.DataFrame, redact: bool) -> Callable[[str], str] | None:
    if not redact:
        return None
    from .privacy import Pseudonymiser

    return Pseudonymiser.from_informants(informants).redact


def compare_run_segments(config, segments: pd.DataFrame, themes: Sequence[str],
                         informants: pd.DataFrame, by: str = "group") -> Comparison:
    """:func:`compare_groups` with a run's config (``compare:``, ``groups:``, ``privacy:``).

    Parameters
    ----------
    config : themepipe.config.Config
    segments : pandas.DataFrame
        The run's segments table, holding the column ``by``.
    themes : sequence of str
    informants : pandas.DataFrame
        The informants table (names for pseudonymising quotes).
    by : str
        Informant attribute; the config's ``groups`` order applies to ``group`` only.

    Returns
    -------
    Comparison
    """
    return compare_run_tally(config, tally_segments(segments, themes, by), informants, by)


def compare_run_tally(config, tally: Tally, informants: pd.DataFrame,
                      by: str = "group") -> Comparison:
    """:func:`compare_tally` with a run's config: :func:`compare_run_segments` for a tally.

    Parameters
    ----------
    config : themepipe.config.Config
    tally : Tally
        Of the attribute ``by``, with 3 quote candidates per cell (the tally's default).
    informants : pandas.DataFrame
        The informants table (names for pseudonymising quotes).
    by : str
        Informant attribute; the config's ``groups`` order applies to ``group`` only.

    Returns
    -------
    Comparison
    """
    cfg = config.compare
    path = str(config.corpus.informants or config.corpus.path)
    return compare_tally(tally, by, config.groups if by == "group" else None, cfg.bootstrap,
                         cfg.permutations, cfg.random_state,
                         _redactor(informants, config.privacy.redact), path)


def attribute_of_informants(informants: pd.DataFrame, by: str,
                            path: str = "informants.csv") -> pd.Series:
    """Each informant's value of an attribute column of the informants table.

    Parameters
    ----------
    informants : pandas.DataFrame
        ``informants.csv`` (one row per speaker per transcript), read as strings.
    by : str
        Attribute column (not ``transcript``, ``speaker_label``, ``informant_id``,
        ``name``).
    path : str
        The table's file, for messages.

    Returns
    -------
    pandas.Series of str
        Indexed by ``informant_id``; ``""`` where the informant has no value.

    Raises
    ------
    StageError
        ``by`` is not an attribute column (T601), or one informant has two different
        values in it (T602).
    """
    available = [c for c in informants.columns if c not in NOT_ATTRIBUTES]
    if by not in available:
        raise StageError("T601", f"'{by}' is not an informant attribute; available: "
                         f"{', '.join(available)}", path=path)
    values = informants[["informant_id", by]].fillna("").astype(str)
    values[by] = values[by].str.strip()
    values = values[values[by] != ""].drop_duplicates()
    clash = values[values.duplicated("informant_id", keep=False)]
    if not clash.empty:
        informant_id = clash["informant_id"].iloc[0]
        found = " and ".join(f"'{v}'" for v in clash.loc[clash.informant_id == informant_id,
                                                         by])
        raise StageError("T602", f"informant '{informant_id}' has {by} {found} in different "
                         "rows; give each informant one value", path=path)
    ids = informants["informant_id"].fillna("").astype(str).unique()
    return values.set_index("informant_id")[by].reindex(ids).fillna("")


def _segments_as_read(segments: pd.DataFrame) -> pd.DataFrame:
    """A part of segments.csv read as strings, with offsets as int and ``p_`` as float."""
    for column in ("start_char", "end_char"):
        if column in segments.columns:
            segments[column] = segments[column].astype(int)
    for column in [c for c in segments.columns if c.startswith("p_")]:
        segments[column] = pd.to_numeric(segments[column], errors="coerce")
    return segments


def _read_run_meta(run_dir: Path) -> tuple[pd.DataFrame, dict]:
    """A run folder's informants copy and manifest (with ``themes``), checked."""
    import json

    from .segment_tables import segment_parts

    run_dir = Path(run_dir)
    if not segment_parts(run_dir):
        raise StageError("T603", "not a complete run folder: segments.csv is missing; give "
                         "the --out folder of a `themepipe run`", path=run_dir)
    files = {}
    for name in ("informants.csv", "manifest.json", "theme_distribution.csv"):
        if not (run_dir / name).is_file():
            raise StageError("T603", f"not a complete run folder: {name} is missing; give "
                             "the --out folder of a `themepipe run`", path=run_dir)
        files[name] = run_dir / name
    try:
        informants = pd.read_csv(files["informants.csv"], dtype=str, keep_default_na=False)
        manifest = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
        themes = list(dict.fromkeys(pd.read_csv(files["theme_distribution.csv"],
                                                dtype=str)["theme"]))
        manifest["config"]["compare"]
    except (ValueError, KeyError, TypeError) as exc:
        raise StageError("T603", f"cannot read the run folder ({type(exc).__name__}: {exc}); "
                         "run `themepipe run` again", path=run_dir) from None
    manifest["themes"] = themes
    return informants, manifest


def _iter_run_segments(run_dir: Path) -> Iterator[pd.DataFrame]:
    """The run folder's segments part by part (:func:`_segments_as_read` applied)."""
    from .segment_tables import iter_segment_parts

    try:
        for part in iter_segment_parts(run_dir):
            yield _segments_as_read(part)
    except (ValueError, KeyError, TypeError) as exc:
        raise StageError("T603", f"cannot read the run folder's segments "
                         f"({type(exc).__name__}: {exc}); run `themepipe run` again",
                         path=run_dir) from None


def read_run_folder(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a run folder's segments, informants copy and manifest.

    The segments come from ``segments.csv`` or, for a streamed run, from the Parquet
    parts ``segments/part-*.parquet`` (:mod:`themepipe.segment_tables`), concatenated;
    :func:`compare_run_folder` reads them part by part instead.

    Returns
    -------
    segments : pandas.DataFrame
        ``segments.csv`` as strings, offsets as int, ``p_<theme>`` as float.
    informants : pandas.DataFrame
        ``informants.csv`` as strings.
    manifest : dict

    Raises
    ------
    StageError
        A file is missing or unreadable (T603).
    """
    informants, manifest = _read_run_meta(run_dir)
    parts = list(_iter_run_segments(run_dir))
    segments = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return segments, informants, manifest


def run_compare_by(run_dir: Path) -> list[str]:
    """The attributes a run's config compares by (``compare.by`` in its manifest).

    Raises
    ------
    StageError
        Not a run folder (T603).
    """
    return list(_read_run_meta(run_dir)[1]["config"]["compare"].get("by") or ["group"])


def compare_run_folder(run_dir: Path, by: str) -> Comparison:
    """Recompute the comparison tables of a finished run for an informant attribute.

    Reads ``segments.csv`` (or the Parquet parts of a streamed run, one at a time:
    each part is tallied, the tallies merged), ``informants.csv`` (the run's copy) and
    the config in ``manifest.json``; no earlier stage runs again.

    Parameters
    ----------
    run_dir : Path
        A run folder (``themepipe run --out``).
    by : str
        A column of the run's ``informants.csv`` (``group``, ``dusun``, ``gender`` ...).

    Returns
    -------
    Comparison
        Informants without a value for ``by`` are left out, with a warning (T604).

    Raises
    ------
    StageError
        Not a run folder (T603), unknown attribute (T601), inconsistent values (T602),
        no informant has a value for ``by`` (T607). A single value gives a warning (T608).
    """
    from .config import CompareConfig

    _check_folder_name(by)
    informants, manifest = _read_run_meta(run_dir)
    path = str(Path(run_dir) / "informants.csv")
    values = attribute_of_informants(informants, by, path)
    config = manifest["config"]
    cfg = CompareConfig(**config["compare"])
    column = "_" + by  # a new column: segments.csv has its own `group`, `text` ...
    missing: set[str] = set()
    tallies = []
    for index, segments in enumerate(_iter_run_segments(run_dir)):
        segments[column] = segments["informant_id"].map(values).fillna("")
        is_informant = segments["role"] == "informant"
        unknown = is_informant & (segments[column] == "")
        missing.update(segments.loc[unknown, "informant_id"])
        tallies.append(tally_segments(segments[~unknown], manifest["themes"], column,
                                      position_offset=index << 32))
        del segments
    tally = merge_tallies(tallies)
    problems = []
    if missing:
        missing = sorted(missing)
        problems.append(Problem(path, None, "T604", f"{len(missing)} informant(s) have no "
                                f"{by} ({', '.join(missing[:5])}"
                                f"{', ...' if len(missing) > 5 else ''}); they are left out "
                                f"of the comparison. Fill in the {by} column", "warning"))
    present = sorted(tally.groups["group"])
    if not present:
        raise StageError("T607", f"no informant has a value for '{by}'; choose another "
                         "attribute or fill in the column", path=path)
    if len(present) == 1:
        problems.append(Problem(path, None, "T608", f"every informant with a {by} has the "
                                f"same value '{present[0]}'; nothing can be compared. "
                                "Choose an attribute with at least two values", "warning"))
    groups = config.get("groups") if by == "group" else None
    redact = config.get("privacy", {}).get("redact", True)
    comparison = compare_tally(tally, column, groups, cfg.bootstrap, cfg.permutations,
                               cfg.random_state, _redactor(informants, redact), path,
                               attribute=by)
    comparison.problems[:0] = problems
    return comparison


def _check_folder_name(by: str) -> None:
    if not by or any(c in by for c in "/\\\0") or by in (".", ".."):
        raise StageError("T606", f"attribute '{by}' cannot name a folder "
                         "compare-<attribute>; rename the column in informants.csv")


def write_comparison(run_dir: Path, comparison: Comparison) -> Path:
    """Write a comparison into ``RUN_DIR/compare-<by>/``, replacing an earlier one atomically.

    The files are staged in a folder inside the (resolved) run folder and published by
    ``os.replace`` of a link, as :class:`themepipe.runfolder.RunFolder` does for runs: a
    reader finds the complete earlier comparison or the complete new one.

    Returns
    -------
    Path
        ``RUN_DIR/compare-<by>``.

    Raises
    ------
    OutputError
        The folder cannot be written (T501, T502).
    """
    from .runfolder import RunFolder

    _check_folder_name(comparison.by)
    target = Path(run_dir).resolve() / f"compare-{comparison.by}"
    with RunFolder(target, keep=1) as folder:
        for name in COMPARISON_FILES:
            folder.write_csv(name, comparison.tables[name])
    return Path(run_dir) / target.name
