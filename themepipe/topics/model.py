"""Seeded topic models over segment stems: NMF (scikit-learn) and LDA (gensim).

:class:`SeededTopicModel` fits ``num_topics`` topics; when seed words are given, topic
``k`` is anchored to theme ``k`` of the codebook for ``k < n_seeded`` and the remaining
topics are residual (unanchored).  Seed words are reserved for their themes' topics;
each seeded topic also takes up the other words that co-occur with its seed words, so a
seeded topic is more than its keyword list.

- ``model="nmf"`` (the default; ``bench/topics.py`` measured it far more coherent and
  stable than LDA on short Indonesian texts): scikit-learn
  :class:`~sklearn.decomposition.NMF` (Frobenius loss) on TF-IDF weighted counts
  (Lee & Seung 1999, "Learning the parts of objects by non-negative matrix
  factorization", Nature 401).  scikit-learn rather than gensim's ``Nmf`` because
  seeding needs a custom start (``init="custom"``), which gensim's ``Nmf`` does not
  accept, and scikit-learn's batch solvers are deterministic given their start.
  Unseeded, the start is random (scaled as scikit-learn's ``init="random"``) and the
  solver is coordinate descent (Cichocki & Phan 2009).  Seeded, topic ``k`` starts on
  its seed words, every other topic starts at zero on them, and the solver is the
  multiplicative update (Lee & Seung 2001, "Algorithms for non-negative matrix
  factorization", NIPS), which never moves an entry away from zero: the seed words
  therefore stay reserved for their themes' topics and cannot be captured by a residual
  topic, as they are when only the start is seeded (seen on the HoASA hotel reviews:
  ``bench/topics.py``).  The seed words' TF-IDF columns are also weighted by
  ``1 + seed_weight`` so that they count more in the fit; weights are reported back on
  the unweighted scale.  A seeded start alone drifts: after a few hundred updates a
  seeded topic can be led by a frequent word such as *desa* and none of its seed words.
  So the fit also keeps every seeded topic tied to its seed words throughout: one
  pseudo-segment per theme, made of its seed words (unit norm, times
  ``sqrt(anchor_weight)``), is appended to the TF-IDF matrix.  Its seed words are
  reserved for topic ``k``, so only topic ``k`` can explain it, and the objective gains
  ``anchor_weight * ||a_k - w_k h_k||^2`` — a least-squares pull of the topic's row
  toward its seed-word profile, the "guided" form of semi-supervised NMF (Vendrow,
  Haddock, Rebrova & Needell 2021, "On a Guided Nonnegative Matrix Factorization",
  ICASSP; seed documents as labelled rows, Lee, Yoo & Choi 2010, "Semi-supervised
  nonnegative matrix factorization", IEEE Signal Processing Letters 17(1)).  The
  pseudo-segments take no part in ``transform`` or in the coherence scores.
- Seed-set expansion (both models, ``expand_terms``): a theme's seed words reach only the
  segments that use them, so before the fit each theme also takes the terms of the
  segments being fitted that co-occur most with its seed words (NPMI with the seed set;
  pseudo-relevance feedback, Xu & Croft 1996, "Query expansion using local and global
  document analysis", SIGIR), excluding seed words, terms closer to another theme and
  very common terms (:func:`themepipe.topics.seeding.expand_seed_terms`).  They become
  seed terms of weight ``expand_weight`` (< 1: the given seed words stay in the lead),
  reserved for their theme's topic like the seed words.  Chosen, with
  ``anchor_weight`` 3, on IndoNLU CASA and HoASA, never on the bundled corpus
  (``bench/seeded_dev.py``).
- ``model="lda"``: gensim :class:`~gensim.models.LdaModel` (online variational Bayes,
  Hoffman, Blei & Bach 2010), never ``LdaMulticore``, whose worker scheduling makes runs
  irreproducible.  Seeding puts extra pseudo-counts on the seed words of topic ``k`` in
  the topic-term Dirichlet prior ``eta``: each seed word gets ``seed_weight`` times its
  corpus frequency, as if that share of its occurrences were already assigned to its
  theme's topic, and 1 % of the base prior in the other topics.  This is the
  pseudo-count idea of seeded LDA (Jagarlamudi, Daumé & Udupa 2012, "Incorporating
  Lexical Priors into Topic Models", EACL; Watanabe & Baturo 2024, "Seeded Sequential
  LDA", Social Science Computer Review 42(1), the R package seededlda); keyATM (Eshima,
  Imai & Sasaki 2024, "Keyword-Assisted Topic Models", American Journal of Political
  Science 68(2)) pursues the same aim with a separate keyword distribution per topic.
  The prior is applied from the first E-step on (gensim otherwise starts from a random
  topic-term state that ignores ``eta`` until its first M-step).

Determinism: the same ``docs``, parameters and ``random_state`` give identical topics,
proportions and scores (both libraries draw only from a ``RandomState`` seeded by
``random_state``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from gensim.corpora import Dictionary
from gensim.matutils import corpus2csc
from gensim.models import LdaModel
from gensim.models.phrases import Phrases
from sklearn.base import BaseEstimator
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from ..errors import StageError
from .coherence import npmi_coherence, umass_coherence
from .seeding import expand_seed_terms

#: Joins the parts of a merged bigram (``tindak_lanjut``).
BIGRAM_DELIMITER = "_"
MODELS = ("lda", "nmf")
ALPHA_NAMES = ("symmetric", "asymmetric", "auto")
#: LDA: prior of a seed word in the topics not anchored to its theme, relative to eta.
RESERVED_SHRINK = 0.01


def check_docs(docs, what: str = "docs") -> list[list[str]]:
    """Validate segments given as token lists and return them as lists of str.

    Raises
    ------
    StageError
        T433: ``docs`` is a string, or an item is not a list of strings.
    """
    if isinstance(docs, str):
        raise StageError("T433", f"{what} must be a list of token lists (stems per "
                         "segment), not one string")
    checked = []
    for i, doc in enumerate(docs):
        if isinstance(doc, str) or not isinstance(doc, Sequence | np.ndarray):
            raise StageError("T433", f"{what}[{i}] is {type(doc).__name__}; each segment "
                             "must be a list of stems (split the space-joined stems)")
        if not all(isinstance(t, str) for t in doc):
            raise StageError("T433", f"{what}[{i}] holds a non-string token; each "
                             "segment must be a list of stems")
        checked.append(list(doc))
    return checked


def _seed_map(seed_words: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    if seed_words is None:
        return {}
    if not isinstance(seed_words, Mapping):
        raise StageError("T432", "seed_words must map theme id to a list of seed words "
                         f"(stemmed), not {type(seed_words).__name__}")
    seeds = {}
    for theme, words in seed_words.items():
        if isinstance(words, str):
            raise StageError("T432", f"seed words of theme '{theme}' must be a list, not "
                             "one string")
        seeds[str(theme)] = list(dict.fromkeys(str(w) for w in words if str(w)))
    return seeds


class SeededTopicModel(BaseEstimator):
    """Topic model over segment stems, optionally anchored to codebook themes.

    Parameters
    ----------
    num_topics : int, default 9
        Number of topics, seeded plus residual; must be at least the number of themes in
        ``seed_words``.
    seed_words : dict of str to list of str, optional
        Theme id to its seed words, already stemmed like the segments, in codebook order:
        the i-th theme anchors topic i.  None (or empty) fits an unseeded model.
    model : {"lda", "nmf"}, default "nmf"
        Topic model family (see the module notes).
    random_state : int, default 0
        Seed of every random draw.
    passes : int, default 5
        LDA: passes over the corpus (10 passes were no better on SmSA, and twice as
        slow).
    iterations : int, default 50
        LDA: maximum variational iterations per document and chunk.
    max_iter : int, default 400
        NMF: maximum solver iterations (coordinate descent unseeded, multiplicative
        update seeded).
    no_below : int, default 3
        Keep terms that occur in at least this many segments.
    no_above : float, default 0.2
        Keep terms that occur in at most this share of segments; short segments make
        words found in a fifth of them near stop words (NMF on SmSA, K=10: NPMI
        about +0.015 and stability +0.04 over 0.5).
    keep_n : int or None, default 100000
        Keep at most this many terms, the most frequent first (None: no limit).  Seed
        words that occur in the segments are kept whatever the three filters say.
    bigrams : bool, default False
        Merge frequent word pairs into one term (``tindak_lanjut``) with gensim
        ``Phrases`` before building the dictionary.
    bigram_min_count : int, default 5
        ``Phrases`` minimum pair count.
    bigram_threshold : float, default 10.0
        ``Phrases`` score threshold (higher: fewer pairs).
    seed_weight : float, default 0.5
        Strength of seeding, > 0.  LDA: pseudo-counts of each seed word in its topic's
        prior, as a share of the word's corpus frequency.  NMF: the seed words' TF-IDF
        columns are weighted by ``1 + seed_weight``.
    alpha : {"symmetric", "asymmetric", "auto"} or float, default "symmetric"
        LDA document-topic prior, as gensim takes it.
    eta : float, optional
        LDA topic-term prior before seeding; ``1 / num_topics`` when None (gensim's
        symmetric default).
    coherence_topn : int, default 10
        Top terms per topic scored by NPMI and UMass at the end of ``fit``.
    anchor_weight : float, default 3.0
        NMF, seeded: weight (>= 0) of the seed pseudo-segments that keep each seeded
        topic tied to its seed words during the whole fit (see the module notes); 0
        seeds the start only.  Ignored by LDA and by unseeded models.  3 rather than 1:
        chosen with ``expand_terms`` on IndoNLU CASA and HoASA (``bench/seeded_dev.py``).
    expand_terms : int, default 10
        Seeded: add to each theme's seed words up to this many terms that co-occur with
        them in the segments being fitted — highest NPMI with the theme's seed set,
        not a seed word, not closer to another theme, within ``expand_max_df`` (see
        :func:`themepipe.topics.seeding.expand_seed_terms`; pseudo-relevance feedback,
        Xu & Croft 1996).  Added terms are seed terms of weight ``expand_weight``.  0:
        no expansion.  10 was chosen on IndoNLU CASA and HoASA (``bench/seeded_dev.py``:
        worst-aspect ROC AUC 0.70 against 0.66 without expansion).
    expand_weight : float, default 0.5
        Weight in (0, 1] of an added term relative to a seed word (1): it scales the
        term's share of the seeded start, of the anchor pseudo-segment and of the extra
        column weight (NMF), and of its pseudo-counts (LDA).
    expand_max_df : float, default 0.1
        Added terms occur in at most this share of the segments (a very common word
        co-occurs with every seed set).
    expand_min_count : int, default 3
        Added terms occur in at least this many segments, and in at least this many
        together with the theme's seed set.
    seed_max_df : float or None, default None
        Seed words found in more than this share of the segments are not used as seeds
        (recorded in ``common_seed_words_``); None keeps every seed word.  Off by
        default: on HoASA a 0.2 cap removed *bersih* from *kebersihan* and lowered
        that aspect's AUC from 0.94 to 0.74 (``bench/seeded_dev.py``).
    seed_idf : bool, default False
        Weight each theme's seed words by their inverse document frequency, relative to
        the theme's rarest seed word, so that a common seed word counts less (as TF-IDF
        weights terms, Sparck Jones 1972).  Off by default: no better on the dev data.

    Attributes
    ----------
    dictionary_ : gensim.corpora.Dictionary
        Filtered vocabulary; ``n_terms_ = len(dictionary_)``.
    phrases_ : gensim.models.phrases.FrozenPhrases or None
        Bigram merger (None unless ``bigrams``).
    model_ : gensim.models.LdaModel or sklearn.decomposition.NMF
        The fitted model.
    tfidf_ : sklearn.feature_extraction.text.TfidfTransformer or None
        NMF only: the TF-IDF weighting fitted on the training segments.
    topic_term_ : ndarray of shape (num_topics, n_terms_), rows sum to 1
        Term weights per topic: p(term | topic) for LDA; for NMF the topic's row of the
        factorisation scaled to sum to 1.
    anchored_themes_ : list of str or None, length num_topics
        Theme anchoring each topic (None for residual topics).
    seed_term_ids_ : list of ndarray
        Dictionary ids of the seed words used for each seeded topic.
    missing_seed_words_ : dict of str to list of str
        Per theme, the seed words (or seed bigrams) that are not in the segments and were
        skipped; themes with none missing are left out.
    unseeded_themes_ : list of str
        Themes none of whose seed words occur in the segments: their topic keeps its
        place but starts unseeded (the caller reports it).
    npmi_ : ndarray of shape (num_topics,)
        NPMI coherence of each topic's top ``coherence_topn`` terms against the training
        segments (see :func:`themepipe.topics.npmi_coherence`); finite.
    umass_ : ndarray of shape (num_topics,)
        UMass coherence, likewise.
    n_iter_ : int
        NMF: iterations run; LDA: passes run.
    seed_term_weights_ : list of ndarray
        Weight of each term of ``seed_term_ids_`` (1 for seed words, ``expand_weight``
        for added terms, or the IDF weights with ``seed_idf``).
    expanded_terms_ : dict of str to list of str
        Per theme, the terms added by ``expand_terms`` (best first; [] when none).
    common_seed_words_ : dict of str to list of str
        Per theme, the seed words left out by ``seed_max_df``; themes with none are left
        out.
    n_anchor_rows_ : int
        NMF only: seed pseudo-segments appended to the TF-IDF matrix (0 or the number of
        seeded themes).
    term_scale_ : ndarray of shape (n_terms_,)
        NMF only: column weights of the TF-IDF matrix (``1 + seed_weight * w`` on seed
        terms of weight ``w``, 1 elsewhere).
    """

    def __init__(self, num_topics: int = 9,
                 seed_words: Mapping[str, Sequence[str]] | None = None,
                 model: str = "nmf", random_state: int = 0, passes: int = 5,
                 iterations: int = 50, max_iter: int = 400, no_below: int = 3,
                 no_above: float = 0.2, keep_n: int | None = 100000,
                 bigrams: bool = False, bigram_min_count: int = 5,
                 bigram_threshold: float = 10.0, seed_weight: float = 0.5,
                 alpha: str | float = "symmetric", eta: float | None = None,
                 coherence_topn: int = 10, anchor_weight: float = 3.0,
                 expand_terms: int = 10, expand_weight: float = 0.5,
                 expand_max_df: float = 0.1, seed_max_df: float | None = None,
                 seed_idf: bool = False, expand_min_count: int = 3) -> None:
        self.num_topics = num_topics
        self.seed_words = seed_words
        self.model = model
        self.random_state = random_state
        self.passes = passes
        self.iterations = iterations
        self.max_iter = max_iter
        self.no_below = no_below
        self.no_above = no_above
        self.keep_n = keep_n
        self.bigrams = bigrams
        self.bigram_min_count = bigram_min_count
        self.bigram_threshold = bigram_threshold
        self.seed_weight = seed_weight
        self.alpha = alpha
        self.eta = eta
        self.coherence_topn = coherence_topn
        self.anchor_weight = anchor_weight
        self.expand_terms = expand_terms
        self.expand_weight = expand_weight
        self.expand_max_df = expand_max_df
        self.seed_max_df = seed_max_df
        self.seed_idf = seed_idf
        self.expand_min_count = expand_min_count

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> dict[str, list[str]]:
        def positive_int(name: str, minimum: int = 1) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) \
                    or value < minimum:
                raise StageError("T432", f"topics.{name} must be an integer >= {minimum}; "
                                 f"got {value!r}")

        for name in ("num_topics", "passes", "iterations", "max_iter", "no_below",
                     "bigram_min_count"):
            positive_int(name)
        positive_int("coherence_topn", 2)
        if self.keep_n is not None:
            positive_int("keep_n")
        positive_int("expand_terms", 0)
        positive_int("expand_min_count")
        if isinstance(self.expand_weight, bool) or not 0 < self.expand_weight <= 1:
            raise StageError("T432", "topics.expand_weight (weight of an added term "
                             "relative to a seed word) must be in (0, 1]; got "
                             f"{self.expand_weight!r}")
        if isinstance(self.expand_max_df, bool) or not 0 < self.expand_max_df <= 1:
            raise StageError("T432", "topics.expand_max_df is a share of segments in "
                             f"(0, 1]; got {self.expand_max_df!r}")
        if self.seed_max_df is not None and (isinstance(self.seed_max_df, bool)
                                             or not 0 < self.seed_max_df <= 1):
            raise StageError("T432", "topics.seed_max_df is a share of segments in "
                             f"(0, 1] or null (no cap); got {self.seed_max_df!r}")
        if self.model not in MODELS:
            raise StageError("T432", f"topics.model must be one of {', '.join(MODELS)}; "
                             f"got {self.model!r}")
        if not 0 < self.no_above <= 1:
            raise StageError("T432", f"topics.no_above is a share of segments in (0, 1]; "
                             f"got {self.no_above!r}")
        if not self.seed_weight > 0:
            raise StageError("T432", f"topics.seed_weight must be > 0; got "
                             f"{self.seed_weight!r}")
        if isinstance(self.anchor_weight, bool) or not self.anchor_weight >= 0:
            raise StageError("T432", "topics.anchor_weight must be >= 0 (0: no seed "
                             f"pseudo-segments); got {self.anchor_weight!r}")
        if not self.bigram_threshold > 0:
            raise StageError("T432", "topics.bigram_threshold must be > 0; got "
                             f"{self.bigram_threshold!r}")
        if isinstance(self.alpha, str):
            if self.alpha not in ALPHA_NAMES:
                raise StageError("T432", "topics.alpha must be a positive number or one "
                                 f"of {', '.join(ALPHA_NAMES)}; got {self.alpha!r}")
        elif not self.alpha > 0:
            raise StageError("T432", f"topics.alpha must be > 0; got {self.alpha!r}")
        if self.eta is not None and not self.eta > 0:
            raise StageError("T432", f"topics.eta must be > 0 or unset; got {self.eta!r}")
        seeds = _seed_map(self.seed_words)
        if self.num_topics < len(seeds):
            raise StageError("T430", f"topics.num_topics is {self.num_topics} but the "
                             f"codebook seeds {len(seeds)} topics (one per theme); set "
                             f"topics.num_topics >= {len(seeds)} or topics.seeded: false")
        return seeds

    # ------------------------------------------------------------------ corpus
    def _merge_bigrams(self, docs: list[list[str]]) -> list[list[str]]:
        if self.phrases_ is None:
            return docs
        return [self.phrases_[doc] for doc in docs]

    def _seed_terms(self, seeds: dict[str, list[str]],
                    vocabulary: set[str]) -> dict[str, list[str]]:
        """Seed terms per theme: the seed words, plus merged bigrams made of them."""
        terms = {}
        for theme, words in seeds.items():
            own = set(words)
            bigrams = sorted(t for t in vocabulary if BIGRAM_DELIMITER in t
                             and set(t.split(BIGRAM_DELIMITER)) <= own)
            terms[theme] = list(words) + bigrams
        return terms

    def _bow(self, docs: list[list[str]]) -> list[list[tuple[int, int]]]:
        return [self.dictionary_.doc2bow(doc) for doc in docs]

    def _counts(self, bow: list[list[tuple[int, int]]]) -> sp.csr_matrix:
        return corpus2csc(bow, num_terms=len(self.dictionary_), num_docs=len(bow),
                          dtype=np.float64).T.tocsr()

    # ------------------------------------------------------------------ fit
    def fit(self, docs: Sequence[Sequence[str]], y=None) -> SeededTopicModel:
        """Build the dictionary and fit the topic model.

        Parameters
        ----------
        docs : sequence of sequence of str
            Stems per segment (normalised, stemmed, stop words removed); empty segments
            are allowed and carry no information.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        StageError
            T430 ``num_topics`` below the number of seeded themes; T432 an invalid parameter; T433 ``docs``
            malformed, or no term survives dictionary filtering.
        """
        seeds = self._check_params()
        docs = check_docs(docs)
        if not any(docs):
            raise StageError("T433", f"the {len(docs)} segments hold no stems; the topic "
                             "model needs preprocessed informant segments")
        self.phrases_ = None
        if self.bigrams:
            self.phrases_ = Phrases(docs, min_count=self.bigram_min_count,
                                    threshold=self.bigram_threshold,
                                    delimiter=BIGRAM_DELIMITER).freeze()
        texts = self._merge_bigrams(docs)
        dictionary = Dictionary(texts)
        seed_terms = self._seed_terms(seeds, set(dictionary.token2id))
        self.common_seed_words_ = {}
        if self.seed_max_df is not None:
            # A seed word found in most segments marks none of them: it is not a seed.
            cap = self.seed_max_df * len(texts)
            for theme, terms in seed_terms.items():
                common = [t for t in terms if t in dictionary.token2id
                          and dictionary.dfs[dictionary.token2id[t]] > cap]
                if common:
                    self.common_seed_words_[theme] = common
                    seed_terms[theme] = [t for t in terms if t not in common]
        protected = [t for terms in seed_terms.values() for t in terms]
        dictionary.filter_extremes(no_below=self.no_below, no_above=self.no_above,
                                   keep_n=self.keep_n, keep_tokens=protected)
        if len(dictionary) == 0:
            raise StageError("T433", f"no term occurs in at least {self.no_below} and at "
                             f"most {self.no_above:.0%} of the {len(docs)} segments; lower "
                             "topics.no_below or raise topics.no_above")
        self.dictionary_ = dictionary
        self.n_terms_ = len(dictionary)

        self.missing_seed_words_ = {}
        self.unseeded_themes_ = []
        self.seed_term_ids_ = []
        self.seed_term_weights_ = []
        self.expanded_terms_ = expand_seed_terms(
            texts, {t: [w for w in terms if w in dictionary.token2id]
                    for t, terms in seed_terms.items()},
            self.expand_terms, max_df=self.expand_max_df, min_count=self.expand_min_count,
            vocabulary=dictionary.token2id)
        for theme, terms in seed_terms.items():
            weights = {dictionary.token2id[t]: 1.0 for t in terms
                       if t in dictionary.token2id}
            if self.seed_idf and weights:
                idf = {i: np.log((1 + len(texts)) / (1 + dictionary.dfs[i]))
                       for i in weights}
                top = max(idf.values())
                weights = {i: (v / top if top > 0 else 1.0) for i, v in idf.items()}
            if weights:
                for t in self.expanded_terms_[theme]:
                    weights.setdefault(dictionary.token2id[t], self.expand_weight)
            ids = sorted(weights)
            missing = [t for t in seeds[theme] if t not in dictionary.token2id
                       and t not in self.common_seed_words_.get(theme, [])]
            if missing:
                self.missing_seed_words_[theme] = missing
            if not ids:
                # The topic keeps its place (topic k <-> theme k) but starts unseeded;
                # callers report it (a small corpus may lack a theme's seed words).
                self.unseeded_themes_.append(theme)
            self.seed_term_ids_.append(np.array(ids, dtype=np.int64))
            self.seed_term_weights_.append(np.array([weights[i] for i in ids]))
        self.anchored_themes_ = (list(seed_terms)
                                 + [None] * (self.num_topics - len(seed_terms)))

        bow = self._bow(texts)
        if self.model == "lda":
            self._fit_lda(bow)
        else:
            self._fit_nmf(bow)
        self.npmi_ = npmi_coherence(self.top_terms(self.coherence_topn), texts,
                                    topn=self.coherence_topn)
        self.umass_ = umass_coherence(self.top_terms(self.coherence_topn), texts,
                                      topn=self.coherence_topn)
        return self

    def _fit_lda(self, bow: list[list[tuple[int, int]]]) -> None:
        k, v = self.num_topics, self.n_terms_
        base = 1.0 / k if self.eta is None else float(self.eta)
        eta = np.full((k, v), base, dtype=np.float32)
        if self.seed_term_ids_:
            frequency = np.zeros(v)
            for doc in bow:
                for term, count in doc:
                    frequency[term] += count
            all_seeds = np.unique(np.concatenate(self.seed_term_ids_))
            eta[:, all_seeds] = base * RESERVED_SHRINK
            for topic, (ids, weights) in enumerate(zip(self.seed_term_ids_,
                                                       self.seed_term_weights_)):
                eta[topic, ids] = base + self.seed_weight * weights * frequency[ids]
        lda = LdaModel(corpus=None, id2word=self.dictionary_, num_topics=k,
                       alpha=self.alpha, eta=eta, passes=self.passes,
                       iterations=self.iterations, random_state=self.random_state,
                       eval_every=None)
        # Start from the seeded prior: gensim's random start state ignores eta until
        # the first M-step, which lets the first chunk drift away from the seeds.
        lda.sync_state()
        if any(bow):
            lda.update(bow)
        self.model_ = lda
        self.tfidf_ = None
        self.term_scale_ = None
        self.n_anchor_rows_ = 0
        self.n_iter_ = self.passes
        topic_term = lda.get_topics().astype(np.float64)
        self.topic_term_ = topic_term / topic_term.sum(axis=1, keepdims=True)

    def _fit_nmf(self, bow: list[list[tuple[int, int]]]) -> None:
        k, v = self.num_topics, self.n_terms_
        self.tfidf_ = TfidfTransformer()
        self.term_scale_ = np.ones(v)
        seeded = bool(self.seed_term_ids_)
        all_seeds = (np.unique(np.concatenate(self.seed_term_ids_)) if seeded
                     else np.zeros(0, dtype=np.int64))
        for ids, weights in zip(self.seed_term_ids_, self.seed_term_weights_):
            self.term_scale_[ids] = np.maximum(self.term_scale_[ids],
                                               1.0 + self.seed_weight * weights)
        X = sp.csr_matrix(self.tfidf_.fit_transform(self._counts(bow))
                          @ sp.diags(self.term_scale_))
        n_segments = X.shape[0]
        if seeded and self.anchor_weight > 0:
            X = sp.vstack([X, self._anchor_rows()]).tocsr()
        rng = np.random.RandomState(self.random_state)
        # Random start scaled as scikit-learn's init="random" does.
        scale = np.sqrt(X.mean() / k)
        H = scale * np.abs(rng.standard_normal((k, v)))
        if seeded:
            peak = H.max()
            H[:, all_seeds] = 0.0
            for topic, (ids, weights) in enumerate(zip(self.seed_term_ids_,
                                                       self.seed_term_weights_)):
                H[topic, ids] = peak * weights
        W = np.asarray(X @ H.T)
        # Least-squares scale of the start so that W @ H matches X in size.
        cross = float(np.sum(W * W))
        gram = float(np.sum((W.T @ W) * (H @ H.T)))
        W *= cross / gram if gram > 0 else 1.0
        # A zero start stays zero under multiplicative updates: keep W positive.
        W = np.maximum(W, 1e-6 * max(W.mean(), 1e-12))
        nmf = NMF(n_components=k, init="custom", solver="mu" if seeded else "cd",
                  beta_loss="frobenius", max_iter=self.max_iter,
                  random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            nmf.fit_transform(X, W=W, H=H)
        self.model_ = nmf
        self.n_iter_ = int(nmf.n_iter_)
        self.n_anchor_rows_ = X.shape[0] - n_segments
        H = nmf.components_ / self.term_scale_
        sums = H.sum(axis=1, keepdims=True)
        self.topic_term_ = np.where(sums > 0, H / np.where(sums > 0, sums, 1.0), 1.0 / v)

    def _anchor_rows(self) -> sp.csr_matrix:
        """One pseudo-segment per seeded theme: its seed terms, unit norm before the
        seed weighting, times ``sqrt(anchor_weight)``."""
        rows = np.zeros((len(self.seed_term_ids_), self.n_terms_))
        for topic, (ids, weights) in enumerate(zip(self.seed_term_ids_,
                                                   self.seed_term_weights_)):
            if len(ids):
                rows[topic, ids] = np.sqrt(self.anchor_weight) * weights / np.linalg.norm(
                    weights)
        # scale columns by broadcasting: np.diag(term_scale_) would be a dense V x V matrix
        return sp.csr_matrix(rows * self.term_scale_[None, :])

    # ------------------------------------------------------------------ use
    def transform(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """Topic proportions of each segment.

        Parameters
        ----------
        docs : sequence of sequence of str
            Stems per segment, as for :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_segments, num_topics), rows sum to 1
            LDA: the posterior mean of the segment's topic proportions (gensim
            variational inference, restarted from ``random_state`` on every call so the
            same input gives the same output).  NMF: the segment's topic loadings, each
            multiplied by its topic's total term weight, normalised to sum to 1.  A
            segment with no term of the dictionary gets the prior mean — alpha
            normalised to sum to 1 for LDA — and the uniform 1 / num_topics for NMF.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        StageError
            T433 ``docs`` malformed.
        """
        check_is_fitted(self, "topic_term_")
        texts = self._merge_bigrams(check_docs(docs))
        bow = self._bow(texts)
        k = self.num_topics
        if not bow:
            return np.zeros((0, k))
        if self.model == "lda":
            self.model_.random_state = np.random.RandomState(self.random_state)
            gamma, _ = self.model_.inference(bow)
            weights = np.asarray(gamma, dtype=np.float64)
        else:
            X = sp.csr_matrix(self.tfidf_.transform(self._counts(bow))
                              @ sp.diags(self.term_scale_))
            loadings = self.model_.transform(X)
            weights = loadings * (self.model_.components_ / self.term_scale_).sum(axis=1)
        totals = weights.sum(axis=1, keepdims=True)
        empty = ~(totals[:, 0] > 0)
        proportions = weights / np.where(empty[:, None], 1.0, totals)
        proportions[empty] = 1.0 / k
        return proportions

    def fit_transform(self, docs: Sequence[Sequence[str]], y=None) -> np.ndarray:
        """Fit on ``docs`` and return their topic proportions (see :meth:`transform`)."""
        return self.fit(docs).transform(docs)

    def top_terms(self, topn: int = 10) -> list[list[str]]:
        """Return each topic's ``topn`` highest-weighted terms, best first.

        Ties are broken by dictionary id, so the order is deterministic.
        """
        check_is_fitted(self, "topic_term_")
        order = np.argsort(-self.topic_term_, axis=1, kind="stable")[:, :topn]
        return [[self.dictionary_[int(i)] for i in row] for row in order]

    def topics_table(self, topn: int = 10) -> pd.DataFrame:
        """The ``topics.csv`` table: one row per topic.

        Parameters
        ----------
        topn : int, default 10
            Terms listed per topic.

        Returns
        -------
        pandas.DataFrame
            Columns ``topic`` (int, 0-based), ``anchored_theme`` (theme id, or "" for a
            residual topic), ``top_terms`` (space-separated ``term:weight`` pairs, best
            first, weights as in ``topic_term_`` with 6 decimals), ``npmi`` (float,
            finite; from ``npmi_``, scored on the top ``coherence_topn`` terms).
        """
        check_is_fitted(self, "topic_term_")
        order = np.argsort(-self.topic_term_, axis=1, kind="stable")[:, :topn]
        rows = []
        for topic, ids in enumerate(order):
            pairs = " ".join(f"{self.dictionary_[int(i)]}:{self.topic_term_[topic, i]:.6f}"
                             for i in ids)
            rows.append({"topic": topic,
                         "anchored_theme": self.anchored_themes_[topic] or "",
                         "top_terms": pairs, "npmi": float(self.npmi_[topic])})
        return pd.DataFrame(rows, columns=["topic", "anchored_theme", "top_terms", "npmi"])
