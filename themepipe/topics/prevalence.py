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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import StageError
from ..stats import bootstrap_share_ci

#: Columns of ``topic_prevalence.csv`` (agreed output schema).
PREVALENCE_COLUMNS = ["group", "topic", "anchored_theme", "mean_proportion", "ci_low",
                      "ci_high", "n_informants"]


def topic_prevalence(doc_topic: np.ndarray, informant_ids: Sequence, groups: Sequence,
                     n_boot: int = 2000, random_state: int = 0,
                     level: float = 0.95, anchored_themes: Sequence | None = None,
                     group_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean topic proportion per group with a bootstrap interval over informants.

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
        group's segment proportions, in [0, 1]), ``ci_low``, ``ci_high`` (percentile
        interval, within [0, 1]; NaN when the group has fewer than 2 informants, whose
        spread cannot be estimated, or when ``n_boot`` is 0), ``n_informants``.

    Raises
    ------
    StageError
        T435: the lengths differ, ``doc_topic`` is not 2-D or holds values outside
        [0, 1], an informant id or group is missing, an informant is in several groups,
        ``n_boot`` < 0 or ``level`` outside (0, 1).
    """
    doc_topic = np.asarray(doc_topic, dtype=np.float64)
    if doc_topic.ndim != 2:
        raise StageError("T435", f"doc_topic must be 2-D (segments x topics); got shape "
                         f"{doc_topic.shape}")
    n, k = doc_topic.shape
    if len(informant_ids) != n or len(groups) != n:
        raise StageError("T435", f"doc_topic has {n} segments but {len(informant_ids)} "
                         f"informant ids and {len(groups)} groups; pass one of each per "
                         "segment (informant segments only)")
    if not np.all(np.isfinite(doc_topic)) or doc_topic.min(initial=0) < 0 \
            or doc_topic.max(initial=0) > 1 + 1e-9:
        raise StageError("T435", "doc_topic must hold topic proportions in [0, 1]")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise StageError("T435", f"n_boot must be an integer >= 0; got {n_boot!r}")
    if not 0 < level < 1:
        raise StageError("T435", f"level must be in (0, 1); got {level!r}")
    anchored = [""] * k if anchored_themes is None else \
        ["" if a is None else str(a) for a in anchored_themes]
    if len(anchored) != k:
        raise StageError("T435", f"anchored_themes has {len(anchored)} entries for {k} "
                         "topics; pass one per topic (None for a residual topic)")
    frame = pd.DataFrame({"informant": list(informant_ids), "group": list(groups)})
    if frame.isna().any().any() or (frame.astype(str) == "").any().any():
        raise StageError("T435", "every segment needs an informant id and a group; "
                         "some are empty")
    frame = frame.astype(str)
    spread = frame.groupby("informant")["group"].nunique()
    if (spread > 1).any():
        who = spread[spread > 1].index[0]
        raise StageError("T435", f"informant '{who}' is in more than one group; fix the "
                         "informants table so that each informant has one group")

    rng = np.random.default_rng(random_state)
    rows = []
    present = set(frame["group"])
    order = [g for g in dict.fromkeys(group_order or []) if g in present]
    order += sorted(present - set(order))
    for group in order:
        in_group = (frame["group"] == group).to_numpy()
        informants, index = np.unique(frame.loc[in_group, "informant"], return_inverse=True)
        m = len(informants)
        sums = np.zeros((m, k))
        np.add.at(sums, index, doc_topic[in_group])
        counts = np.bincount(index, minlength=m).astype(np.float64)
        mean = sums.sum(axis=0) / counts.sum()
        # the same cluster bootstrap (expanded percentile) as theme shares
        low, high = bootstrap_share_ci(sums, counts, n_boot, rng, level)
        for topic in range(k):
            rows.append({"group": group, "topic": topic,
                         "anchored_theme": anchored[topic],
                         "mean_proportion": float(mean[topic]),
                         "ci_low": float(low[topic]), "ci_high": float(high[topic]),
                         "n_informants": m})
    return pd.DataFrame(rows, columns=PREVALENCE_COLUMNS)
