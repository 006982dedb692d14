"""Topic prevalence per informant group, with bootstrap intervals over informants.

A group's prevalence of topic k is the mean proportion of topic k over the group's
segments (each segment weighs the same).  Segments of one informant are not independent
— an informant returns to their concerns turn after turn — so the interval resamples
informants, not segments: the cluster (case) bootstrap (Davison & Hinkley 1997,
"Bootstrap Methods and their Application", section 3.8; Field & Welsh 2007, "Bootstrapping
clustered data", JRSS B 69(3)).  Each replicate draws the group's informants with
replacement, takes all segments of every drawn informant, and recomputes the mean; the
interval is the expanded percentile interval of the replicates (Hesterberg 2015; see
:func:`themepipe.stats.bootstrap_share_ci`, shared with the theme shares).

Only per-informant sums are needed, so partitions of the segments are tallied
(:func:`topic_tally`: proportions in int64 units of 1e-9, summed per informant), tallies
merge by a group-by sum in any order, and :func:`prevalence_from_tally` computes the table
from the merged tally; :func:`topic_prevalence` is the two in one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..compare import sum_by
from ..errors import StageError
from ..stats import bootstrap_share_ci

#: Columns of ``topic_prevalence.csv`` (agreed output schema).
PREVALENCE_COLUMNS = ["group", "topic", "anchored_theme", "mean_proportion", "ci_low",
                      "ci_high", "n_informants"]


#: Fixed-point unit of the summed proportions (1e-9): int64 sums are exact and order-free.
NANO = 10**9


def _check_level(n_boot, level) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise StageError("T435", f"n_boot must be an integer >= 0; got {n_boot!r}")
    if not 0 < level < 1:
        raise StageError("T435", f"level must be in (0, 1); got {level!r}")


def topic_tally(doc_topic: np.ndarray, segment_informants: Sequence,
                groups: Sequence) -> pd.DataFrame:
    """Per-informant sums of topic proportions of one partition of informant segments.

    Parameters
    ----------
    doc_topic : ndarray of shape (n_segments, n_topics), rows sum to 1
        Topic proportions of the partition's informant segments.
    segment_informants : sequence of length n_segments
        The informant of each segment.
    groups : sequence of length n_segments
        The informant group of each segment.

    Returns
    -------
    pandas.DataFrame
        One row per (group, informant_id), sorted: ``group``, ``informant_id`` (str),
        ``n_segments`` and ``tsum_<k>`` for each topic k (int64: the proportions rounded
        to units of 1e-9, :data:`NANO`, summed).  Tallies of partitions merge by a
        group-by sum of the int64 columns over (group, informant_id).

    Raises
    ------
    StageError
        T435: the lengths differ, ``doc_topic`` is not 2-D or holds values outside
        [0, 1], or an informant id or group is missing.
    """
    doc_topic = np.asarray(doc_topic, dtype=np.float64)
    if doc_topic.ndim != 2:
        raise StageError("T435", f"doc_topic must be 2-D (segments x topics); got shape "
                         f"{doc_topic.shape}")
    n, k = doc_topic.shape
    if len(segment_informants) != n or len(groups) != n:
        raise StageError("T435", f"doc_topic has {n} segments but {len(segment_informants)} "
                         f"informant ids and {len(groups)} groups; pass one of each per "
                         "segment (informant segments only)")
    if not np.all(np.isfinite(doc_topic)) or doc_topic.min(initial=0) < 0 \
            or doc_topic.max(initial=0) > 1 + 1e-9:
        raise StageError("T435", "doc_topic must hold topic proportions in [0, 1]")
    frame = pd.DataFrame({"group": list(groups), "informant_id": list(segment_informants)})
    if frame.isna().any().any() or (frame.astype(str) == "").any().any():
        raise StageError("T435", "every segment needs an informant id and a group; "
                         "some are empty")
    frame = frame.astype(str)
    columns = ["n_segments"] + [f"tsum_{topic}" for topic in range(k)]
    frame["n_segments"] = np.ones(n, dtype=np.int64)
    units = np.rint(doc_topic * NANO).astype(np.int64)
    for topic in range(k):
        frame[f"tsum_{topic}"] = units[:, topic]
    return sum_by(frame, ["group", "informant_id"], columns)


def prevalence_from_tally(tally: pd.DataFrame, n_boot: int = 2000, random_state: int = 0,
                          anchored_themes: Sequence | None = None,
                          group_order: Sequence[str] | None = None,
                          level: float = 0.95) -> pd.DataFrame:
    """Mean topic proportion per group with a bootstrap interval, from a (merged) tally.

    Parameters
    ----------
    tally : pandas.DataFrame
        From :func:`topic_tally`, or the group-by sum of several (rows in any order).
    n_boot, random_state, anchored_themes, group_order, level
        As :func:`topic_prevalence`.

    Returns
    -------
    pandas.DataFrame
        As :func:`topic_prevalence`; ``mean_proportion`` = summed units / 1e9 / segments.

    Raises
    ------
    StageError
        T435: an informant is in several groups, ``anchored_themes`` does not have one
        entry per topic, ``n_boot`` < 0 or ``level`` outside (0, 1).
    """
    _check_level(n_boot, level)
    topics = [c for c in tally.columns if c.startswith("tsum_")]
    k = len(topics)
    anchored = [""] * k if anchored_themes is None else \
        ["" if a is None else str(a) for a in anchored_themes]
    if len(anchored) != k:
        raise StageError("T435", f"anchored_themes has {len(anchored)} entries for {k} "
                         "topics; pass one per topic (None for a residual topic)")
    tally = tally.sort_values(["group", "informant_id"], kind="stable")
    spread = tally.groupby("informant_id")["group"].nunique()
    if (spread > 1).any():
        who = spread[spread > 1].index[0]
        raise StageError("T435", f"informant '{who}' is in more than one group; fix the "
                         "informants table so that each informant has one group")
    rng = np.random.default_rng(random_state)
    rows = []
    present = set(tally["group"])
    order = [g for g in dict.fromkeys(group_order or []) if g in present]
    order += sorted(present - set(order))
    for group in order:
        sub = tally[tally["group"] == group]
        units = sub[topics].to_numpy(dtype=np.int64).reshape(len(sub), k)
        counts = sub["n_segments"].to_numpy(dtype=np.int64)
        mean = units.sum(axis=0) / NANO / int(counts.sum())
        # the same cluster bootstrap (expanded percentile) as theme shares, on integer
        # units: the resampled sums are exact whatever the summation order
        low, high = bootstrap_share_ci(units.astype(float), counts.astype(float) * NANO,
                                       n_boot, rng, level)
        for topic in range(k):
            rows.append({"group": group, "topic": topic,
                         "anchored_theme": anchored[topic],
                         "mean_proportion": float(mean[topic]),
                         "ci_low": float(low[topic]), "ci_high": float(high[topic]),
                         "n_informants": len(sub)})
    return pd.DataFrame(rows, columns=PREVALENCE_COLUMNS)


def topic_prevalence(doc_topic: np.ndarray, informant_ids: Sequence, groups: Sequence,
                     n_boot: int = 2000, random_state: int = 0,
                     level: float = 0.95, anchored_themes: Sequence | None = None,
                     group_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean topic proportion per group with a bootstrap interval over informants.

    :func:`topic_tally` of all segments, then :func:`prevalence_from_tally`.

    Parameters
    ----------
    doc_topic : ndarray of shape (n_segments, n_topics), rows sum to 1
        Topic proportions of informant segments (``SeededTopicModel.transform``).
    informant_ids : sequence of length n_segments
        The informant of each segment.
    groups : sequence of length n_segments
        The informant group of each segment.
    n_boot : int, default 2000
        Bootstrap replicates; 0 skips the intervals (NaN).
    random_state : int, default 0
        Seed of the resampling (``compare.random_state`` in a run); groups are processed
        in their output order, so the result is deterministic.
    level : float, default 0.95
        Coverage of the (expanded) percentile interval.
    anchored_themes : sequence of length n_topics, optional
        Theme each topic is anchored to (None or "" for a residual topic), as
        ``SeededTopicModel.anchored_themes_``; all residual when None.
    group_order : sequence of str, optional
        Order of the groups (the config's ``groups``); groups not listed follow in
        sorted order.  Sorted when None.

    Returns
    -------
    pandas.DataFrame
        Long table ordered by group then topic, columns ``group``, ``topic`` (int),
        ``anchored_theme`` ("" for a residual topic), ``mean_proportion`` (mean of the
        group's segment proportions — each rounded to 1e-9 — in [0, 1]), ``ci_low``,
        ``ci_high`` (percentile interval, within [0, 1]; NaN when the group has fewer
        than 2 informants, whose spread cannot be estimated, or when ``n_boot`` is 0),
        ``n_informants``.

    Raises
    ------
    StageError
        T435: the lengths differ, ``doc_topic`` is not 2-D or holds values outside
        [0, 1], an informant id or group is missing, an informant is in several groups,
        ``n_boot`` < 0 or ``level`` outside (0, 1).
    """
    _check_level(n_boot, level)
    return prevalence_from_tally(topic_tally(doc_topic, informant_ids, groups), n_boot,
                                 random_state, anchored_themes, group_order, level)
