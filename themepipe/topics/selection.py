"""Stability across random states and the choice of the number of topics.

Stability follows Greene, O'Callaghan & Cunningham (2014), "How Many Topics? Stability
Analysis for Topic Models", ECML PKDD: fit the same model with several random states,
match the topics of every two runs one-to-one so that the summed similarity of their top
terms is largest (the assignment problem, solved by scipy's
:func:`~scipy.optimize.linear_sum_assignment`), and average the Jaccard similarity of
the matched top-term sets.  1 means every run found the same topics.

The rule for K (:func:`choose_num_topics`):

1. Only K whose stability is at least ``min_stability`` (default 0.6) are eligible —
   a researcher should not interpret topics that a new seed would change; if no K
   reaches it, every K is eligible.
2. Among the eligible K, take the best mean NPMI and its spread over random states
   (``npmi_sd``).
3. Pick the smallest eligible K whose mean NPMI is within one ``npmi_sd`` of that best:
   a gain in coherence smaller than the seed-to-seed noise does not justify more topics
   to read (the "one standard error" rule of Breiman et al. 1984, with the spread over
   seeds as the noise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ..errors import StageError
from .model import SeededTopicModel, check_docs

SELECTION_COLUMNS = ["k", "n_runs", "npmi_mean", "npmi_sd", "umass_mean", "umass_sd",
                     "stability", "selected"]


def _top_sets(run: Sequence[Sequence[str]], topn: int) -> list[set[str]]:
    return [set(list(dict.fromkeys(topic))[:topn]) for topic in run]


def matched_jaccard(run_a: Sequence[Sequence[str]], run_b: Sequence[Sequence[str]],
                    topn: int = 10) -> float:
    """Mean top-``topn`` Jaccard similarity of two runs' topics after optimal matching.

    Parameters
    ----------
    run_a, run_b : sequence of sequence of str
        The topics of two runs (each topic's terms, best first); equal numbers of topics.
    topn : int, default 10
        Top terms compared per topic.

    Returns
    -------
    float
        In [0, 1]: the mean Jaccard similarity over the one-to-one matching of topics
        that maximises its sum (scipy ``linear_sum_assignment``).

    Raises
    ------
    StageError
        T436: the runs have different numbers of topics, or none.
    """
    a, b = _top_sets(run_a, topn), _top_sets(run_b, topn)
    if not a or len(a) != len(b):
        raise StageError("T436", f"runs to compare have {len(a)} and {len(b)} topics; "
                         "stability compares runs with the same, non-zero number of topics")
    similarity = np.array([[len(x & y) / len(x | y) if x | y else 1.0 for y in b]
                           for x in a])
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return float(similarity[rows, cols].mean())


def topic_stability(runs: Sequence[Sequence[Sequence[str]]], topn: int = 10) -> float:
    """Stability of topics across runs with different random states.

    Parameters
    ----------
    runs : sequence of runs
        Each run is a list of topics, each topic its terms best first (e.g.
        ``SeededTopicModel.top_terms(topn)``); at least 2 runs, equal numbers of topics.
    topn : int, default 10
        Top terms compared per topic.

    Returns
    -------
    float
        Mean over all pairs of runs of :func:`matched_jaccard`, in [0, 1].

    Raises
    ------
    StageError
        T436: fewer than 2 runs, or runs with different numbers of topics.

    References
    ----------
    Greene, O'Callaghan & Cunningham (2014); matching by the Hungarian method (Kuhn 1955)
    as implemented in scipy.
    """
    runs = list(runs)
    if len(runs) < 2:
        raise StageError("T436", f"stability needs at least 2 runs (random states); got "
                         f"{len(runs)}")
    return float(np.mean([matched_jaccard(a, b, topn) for a, b in combinations(runs, 2)]))


def choose_num_topics(selection: pd.DataFrame, min_stability: float = 0.6) -> int:
    """Pick K from a :func:`select_num_topics` table by the rule in the module notes.

    Parameters
    ----------
    selection : pandas.DataFrame
        With columns ``k``, ``npmi_mean``, ``npmi_sd``, ``stability``.
    min_stability : float, default 0.6
        Minimum stability for a K to be eligible.

    Returns
    -------
    int
        The chosen number of topics.

    Raises
    ------
    StageError
        T436: ``selection`` is empty.
    """
    if selection.empty:
        raise StageError("T436", "the model-selection table is empty; give at least one K")
    table = selection.sort_values("k")
    eligible = table[table["stability"] >= min_stability]
    if eligible.empty:
        eligible = table
    best = eligible.loc[eligible["npmi_mean"].idxmax()]
    threshold = best["npmi_mean"] - best["npmi_sd"]
    return int(eligible.loc[eligible["npmi_mean"] >= threshold, "k"].min())


def select_num_topics(docs: Sequence[Sequence[str]], ks: Sequence[int], n_seeds: int = 5,
                      seed_words: Mapping[str, Sequence[str]] | None = None,
                      random_state: int = 0, topn: int = 10, min_stability: float = 0.6,
                      callback: Callable[[int, int], None] | None = None,
                      **params) -> pd.DataFrame:
    """Fit every K with several random states and score coherence and stability.

    Parameters
    ----------
    docs : sequence of sequence of str
        Stems per segment, as for :meth:`SeededTopicModel.fit`.
    ks : sequence of int
        Numbers of topics to try (seeded plus residual), e.g. ``range(6, 17)``.
    n_seeds : int, default 5
        Random states per K: ``random_state, random_state + 1, ...``; at least 2.
    seed_words : dict of str to list of str, optional
        As for :class:`SeededTopicModel`; every K must then be at least its length.
    random_state : int, default 0
        First random state.
    topn : int, default 10
        Top terms scored by NPMI, UMass and stability.
    min_stability : float, default 0.6
        Eligibility threshold of the rule (see :func:`choose_num_topics`).
    callback : callable, optional
        Called as ``callback(k, run_index)`` after each fit (progress reporting).
    **params
        Further :class:`SeededTopicModel` parameters (``model``, ``no_below``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per K, sorted by K, with columns ``k``, ``n_runs``, ``npmi_mean`` and
        ``npmi_sd`` (mean and standard deviation over runs of the run's mean topic NPMI),
        ``umass_mean``, ``umass_sd`` (likewise for UMass), ``stability`` (see
        :func:`topic_stability`), ``selected`` (True on the chosen K's row only).

    Raises
    ------
    StageError
        T436: ``ks`` empty or not positive integers, a K below the number of seeded
        themes, ``n_seeds`` < 2, or ``params`` naming ``num_topics``, ``random_state``
        or ``coherence_topn``; and any error of :meth:`SeededTopicModel.fit`.
    """
    clash = sorted({"num_topics", "random_state", "coherence_topn"} & set(params))
    if clash:
        raise StageError("T436", f"select_num_topics sets {', '.join(clash)} itself; "
                         "pass ks, random_state and topn instead")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 2:
        raise StageError("T436", f"model selection needs at least 2 random states per K "
                         f"to measure stability; got --seeds {n_seeds!r}")
    ks = list(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1
                     for k in ks):
        raise StageError("T436", f"numbers of topics must be positive integers, e.g. "
                         f"--k 6:16; got {ks!r}")
    ks = sorted({int(k) for k in ks})
    n_seeded = len(seed_words or {})
    if ks[0] < n_seeded:
        raise StageError("T436", f"K = {ks[0]} is below the {n_seeded} seeded themes; "
                         f"start the K range at {n_seeded} or more, or use an unseeded "
                         "model")
    docs = check_docs(docs)
    rows = []
    for k in ks:
        npmi, umass, runs = [], [], []
        for i in range(n_seeds):
            model = SeededTopicModel(num_topics=k, seed_words=seed_words,
                                     random_state=random_state + i, coherence_topn=topn,
                                     **params).fit(docs)
            npmi.append(float(np.mean(model.npmi_)))
            umass.append(float(np.mean(model.umass_)))
            runs.append(model.top_terms(topn))
            if callback is not None:
                callback(k, i)
        rows.append({"k": k, "n_runs": n_seeds,
                     "npmi_mean": float(np.mean(npmi)),
                     "npmi_sd": float(np.std(npmi, ddof=1)),
                     "umass_mean": float(np.mean(umass)),
                     "umass_sd": float(np.std(umass, ddof=1)),
                     "stability": topic_stability(runs, topn)})
    table = pd.DataFrame(rows, columns=SELECTION_COLUMNS[:-1])
    chosen = choose_num_topics(table, min_stability)
    table["selected"] = table["k"] == chosen
    return table
