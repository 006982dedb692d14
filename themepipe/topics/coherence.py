"""Topic coherence against reference texts: NPMI and UMass, never nan or inf.

Both measures are computed by gensim's :class:`~gensim.models.CoherenceModel` (the
framework of Röder, Both & Hinneburg 2015, "Exploring the Space of Topic Coherence
Measures", WSDM):

- ``c_npmi``: normalised pointwise mutual information (Bouma 2009, "Normalized
  (pointwise) mutual information in collocation extraction", GSCL) of every ordered pair
  of a topic's top terms, with probabilities from boolean sliding windows (gensim's
  default width, 10 tokens) over the reference texts, averaged per topic.  Range
  [-1, 1]; higher is more coherent.
- ``u_mass``: log conditional probability of each top term given a higher-ranked one,
  from document co-occurrence (Mimno et al. 2011, "Optimizing Semantic Coherence in
  Topic Models", EMNLP), averaged per topic.  Range (-inf, 0] in principle; gensim's
  smoothing (``EPSILON`` = 1e-12) bounds it below by log(1e-12) = -27.63.

The guard.  A top term that never occurs in the reference texts has no probability, so
the measures are undefined for every pair it is in: gensim then either silently drops it
from the topic (when it is not in the reference dictionary), which flatters the topic,
or returns inf/nan.  Here such a pair scores the measure's lower bound instead — -1 for
NPMI (the value of two words that never co-occur) and log(1e-12) for UMass — and the
topic's score is the mean over all its pairs.  A topic that is not supported by the
reference texts therefore scores low, finitely, and the absent terms are reported by
:func:`absent_terms`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from gensim.corpora import Dictionary
from gensim.models import CoherenceModel

from ..errors import StageError

#: NPMI of a pair with a term absent from the reference texts (the measure's minimum).
NPMI_FLOOR = -1.0
#: UMass of such a pair: gensim's smoothing constant bounds the measure below by log(1e-12).
UMASS_FLOOR = math.log(1e-12)


def _check_inputs(topics: Sequence[Sequence[str]], texts: Sequence[Sequence[str]],
                  topn: int) -> list[list[str]]:
    if isinstance(topn, bool) or not isinstance(topn, int) or topn < 2:
        raise StageError("T434", f"topn must be an integer >= 2 (pairs of top terms are "
                         f"scored); got {topn!r}")
    if isinstance(texts, str) or not len(texts):
        raise StageError("T434", "coherence needs reference texts: a non-empty list of "
                         "token lists (e.g. the segments' stems)")
    if isinstance(topics, str) or not len(topics):
        raise StageError("T434", "coherence needs at least one topic (a list of terms)")
    checked = []
    for k, topic in enumerate(topics):
        if isinstance(topic, str):
            raise StageError("T434", f"topic {k} is a string; pass each topic as a list "
                             "of terms, best first")
        terms = list(dict.fromkeys(str(t) for t in topic))[:topn]
        if len(terms) < 2:
            raise StageError("T434", f"topic {k} has {len(terms)} distinct term(s); "
                             "coherence scores pairs of terms, so give at least 2")
        checked.append(terms)
    return checked


def absent_terms(topics: Sequence[Sequence[str]], texts: Sequence[Sequence[str]],
                 topn: int = 10) -> list[list[str]]:
    """Return, per topic, the top terms that never occur in the reference texts.

    Parameters
    ----------
    topics : sequence of sequence of str
        Each topic's terms, best first; only the first ``topn`` distinct terms count.
    texts : sequence of sequence of str
        Reference texts (token lists).
    topn : int
        Number of top terms per topic.

    Returns
    -------
    list of list of str
        One list per topic, in the topic's term order (empty when all terms occur).
    """
    checked = _check_inputs(topics, texts, topn)
    vocabulary = set().union(*(set(text) for text in texts))
    return [[t for t in terms if t not in vocabulary] for terms in checked]


def _guarded(topics: Sequence[Sequence[str]], texts: Sequence[Sequence[str]], topn: int,
             measure: str, window_size: int | None) -> np.ndarray:
    checked = _check_inputs(topics, texts, topn)
    vocabulary = set().union(*(set(text) for text in texts))
    present = [[t for t in terms if t in vocabulary] for terms in checked]
    # Only the top terms need ids: gensim counts windows and documents over whole
    # texts and skips the other tokens, so the scores equal those of a full dictionary
    # at a fraction of the cost.
    reference = Dictionary([sorted(set().union(*present))])
    scorable = [k for k, terms in enumerate(present) if len(terms) >= 2]
    gensim_scores = np.zeros(len(checked))
    if scorable:
        kwargs: dict = {"topics": [present[k] for k in scorable], "dictionary": reference,
                        "coherence": measure, "topn": topn, "processes": 1}
        if measure == "u_mass":
            kwargs["corpus"] = [reference.doc2bow(text) for text in texts]
        else:
            kwargs["texts"] = texts
            if window_size is not None:
                kwargs["window_size"] = window_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            per_topic = CoherenceModel(**kwargs).get_coherence_per_topic()
        gensim_scores[scorable] = per_topic
    floor = UMASS_FLOOR if measure == "u_mass" else NPMI_FLOOR
    scores = np.empty(len(checked))
    for k, (terms, found) in enumerate(zip(checked, present)):
        n, p = len(terms), len(found)
        # UMass scores unordered pairs (later term given earlier), NPMI ordered ones; the
        # share of pairs free of absent terms is the same either way.
        n_pairs, n_present_pairs = n * (n - 1), p * (p - 1)
        value = (gensim_scores[k] * n_present_pairs
                 + floor * (n_pairs - n_present_pairs)) / n_pairs
        if not math.isfinite(value):
            # Terms that occur can still make gensim divide by zero on degenerate texts;
            # the lower bound is the honest finite score for an unsupported topic.
            value = floor
        scores[k] = max(value, floor)
    return scores


def npmi_coherence(topics: Sequence[Sequence[str]], texts: Sequence[Sequence[str]],
                   topn: int = 10, window_size: int | None = None) -> np.ndarray:
    """NPMI coherence of each topic against reference texts (gensim ``c_npmi``).

    Parameters
    ----------
    topics : sequence of sequence of str
        Each topic's terms, best first; the first ``topn`` distinct terms are scored.
    texts : sequence of sequence of str
        Reference texts as token lists, normally the segments the model was fitted on
        (after the same bigram merging).
    topn : int, default 10
        Number of top terms per topic.
    window_size : int, optional
        Sliding-window width in tokens; gensim's default for ``c_npmi`` (10) when None.

    Returns
    -------
    ndarray of shape (n_topics,)
        Mean NPMI over the ordered pairs of each topic's top terms, in [-1, 1], always
        finite.  Pairs with a term absent from ``texts`` score -1 (see module notes).

    Raises
    ------
    StageError
        T434: ``texts`` or ``topics`` is empty, a topic has fewer than 2 distinct terms,
        or ``topn`` < 2.

    References
    ----------
    Bouma (2009); Röder, Both & Hinneburg (2015); implementation: gensim
    ``CoherenceModel(coherence="c_npmi")``.
    """
    return _guarded(topics, texts, topn, "c_npmi", window_size)


def umass_coherence(topics: Sequence[Sequence[str]], texts: Sequence[Sequence[str]],
                    topn: int = 10) -> np.ndarray:
    """UMass coherence of each topic against reference texts (gensim ``u_mass``).

    Parameters
    ----------
    topics : sequence of sequence of str
        Each topic's terms, best first; the first ``topn`` distinct terms are scored.
    texts : sequence of sequence of str
        Reference texts as token lists; each is one document for co-occurrence counts.
    topn : int, default 10
        Number of top terms per topic.

    Returns
    -------
    ndarray of shape (n_topics,)
        Mean log conditional probability over the pairs of each topic's top terms, in
        [log(1e-12), 0], always finite; pairs with an absent term score log(1e-12).

    Raises
    ------
    StageError
        T434, as for :func:`npmi_coherence`.

    References
    ----------
    Mimno, Wallach, Talley, Leenders & McCallum (2011); implementation: gensim
    ``CoherenceModel(coherence="u_mass")``.
    """
    return _guarded(topics, texts, topn, "u_mass", None)
