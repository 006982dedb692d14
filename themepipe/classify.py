"""Supervised theme classifier and the seed-word keyword baseline.

:class:`ThemeClassifier` codes segments into the codebook's themes.  Each theme is a
naive-Bayes-weighted logistic regression on binary word and character n-gram features
(NBSVM with a logistic loss; Wang & Manning 2012, "Baselines and Bigrams: Simple, Good
Sentiment and Topic Classification", ACL), optionally summed with a logistic regression
on sublinear TF-IDF features of the same n-grams (``members``) and with Wang & Manning's
interpolation towards naive Bayes (``interpolation``).  Its scores are calibrated into
probabilities (Platt 1999 sigmoid per theme, or in ``multiclass`` mode a multinomial
logistic regression over the themes' scores, one block per member of
``multiclass_members``: stacking) on out-of-fold scores of an internal cross-validation
inside the training data, and the per-theme decision thresholds are tuned on the same
out-of-fold probabilities.  Nothing is ever tuned on data outside ``fit``'s arguments.

The featuriser lowercases its input and works on raw text as well as on space-joined
stems, so the same estimator serves the Kajigelem transcripts (stems) and benchmarks on
raw Indonesian text.  A fitted estimator counts n-grams with :class:`NgramCounter`, which
gives exactly scikit-learn's ``CountVectorizer.transform`` matrix (so identical
probabilities, bit for bit) several times faster by analysing each distinct word once.

:class:`KeywordBaseline` predicts a theme when any of its seed words' stems occurs among
the segment's stems; it is the yardstick the model card and ``themepipe evaluate`` put
next to the classifier.

Every learned attribute is a numpy array or a builtin once saved (the n-gram vocabularies
are packed into byte arrays by ``__getstate__``), so the fitted estimator is saved by
skops as a few array files and loaded back with the short list of trusted types in
:data:`themepipe.modelstore.TRUSTED_TYPES`.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from .errors import StageError

#: Token pattern of the word featuriser: runs of word characters, one letter included,
#: so short stems and particles (``e``, ``ya``, ``nggak``) are kept.
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"

#: Candidate decision thresholds on the calibrated probability scale.
THRESHOLD_GRID = np.round(np.linspace(0.05, 0.95, 91), 2)

#: Ensemble members: ``nb`` (NB-weighted logistic regression on binary n-grams) and
#: ``tfidf`` (logistic regression on sublinear TF-IDF of the same n-grams).
MEMBERS = ("nb", "tfidf")


def _check_texts(X, what: str = "X") -> list[str]:
    if isinstance(X, str):
        raise StageError("T410", f"{what} must be a sequence of segment texts, not one "
                         "string; pass a list of strings")
    texts = list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise StageError("T410", f"{what}[{i}] is {type(text).__name__}, not str; "
                             "pass segment texts (space-joined stems) as strings")
    return texts


def label_indicator(Y, n_rows: int, themes: Sequence[str], what: str = "Y",
                    code: str = "T411") -> np.ndarray:
    """Return labels as an int 0/1 matrix of shape (n_rows, n_themes).

    Parameters
    ----------
    Y : array-like
        A 0/1 matrix (n_rows, n_themes) in the order of ``themes``, or 1-D labels (one
        theme position or theme id per row).
    n_rows : int
    themes : sequence of str
    what : str
        Name of ``Y`` in error messages.
    code : str
        Error code of the caller (T411 classifier, T421 evaluation).

    Raises
    ------
    StageError
        Wrong length or shape, unknown labels, or values other than 0 and 1.
    """
    n_themes = len(themes)
    Y = np.asarray(Y)
    if Y.ndim == 1:
        if Y.shape[0] != n_rows:
            raise StageError(code, f"{what} has {Y.shape[0]} labels for {n_rows} segments; "
                             "give one label per segment")
        if Y.dtype.kind in "iu":
            ids = Y.astype(np.int64)
        else:
            lookup = {theme: k for k, theme in enumerate(themes)}
            unknown = sorted({str(v) for v in Y.tolist() if v not in lookup})
            if unknown:
                raise StageError(code, f"{what} holds labels {unknown[:5]} that are not "
                                 f"among the themes {list(themes)}; use theme ids or "
                                 "their positions")
            ids = np.array([lookup[v] for v in Y.tolist()], dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= n_themes):
            raise StageError(code, f"{what} label ids must be in 0..{n_themes - 1} "
                             f"(one per theme); got {ids.min()}..{ids.max()}")
        out = np.zeros((n_rows, n_themes), dtype=np.int64)
        out[np.arange(n_rows), ids] = 1
        return out
    if Y.ndim != 2 or Y.shape != (n_rows, n_themes):
        raise StageError(code, f"{what} has shape {Y.shape}; expected ({n_rows}, "
                         f"{n_themes}) = (segments, themes) in the order of `themes`")
    if not np.isin(Y, (0, 1)).all():
        raise StageError(code, f"{what} must hold only 0 and 1 (theme absent / present)")
    return Y.astype(np.int64)


def _as_indicator(Y, n_rows: int, themes: Sequence[str], mode: str) -> np.ndarray:
    """Return ``Y`` as an int 0/1 matrix, with the checks of ``mode``."""
    if np.ndim(Y) == 1 and mode != "multiclass":
        raise StageError("T411", "a 1-D label array is only accepted with "
                         "mode='multiclass'; pass a 0/1 matrix (n_segments, n_themes)")
    Y = label_indicator(Y, n_rows, themes)
    if mode == "multiclass":
        bad = np.flatnonzero(Y.sum(axis=1) != 1)
        if bad.size:
            raise StageError("T412", f"mode 'multiclass' needs exactly one theme per "
                             f"segment; row {bad[0]} has {int(Y[bad[0]].sum())}; use "
                             "mode 'multilabel' or recode those segments")
    return Y


def _nb_ratio(presence: sp.csr_matrix, y: np.ndarray, alpha: float) -> np.ndarray:
    """Log-count ratio ``r`` of Wang & Manning (2012), eq. 2, on binary features.

    ``presence`` is the 0/1 feature matrix, ``y`` the 0/1 labels of its rows.
    """
    p = alpha + presence.T @ (y == 1).astype(np.float64)
    q = alpha + presence.T @ (y == 0).astype(np.float64)
    return np.log(p / p.sum()) - np.log(q / q.sum())


#: Distinct whitespace-separated words whose character n-grams :class:`NgramCounter`
#: keeps between calls (about 0.5 KB each); beyond it the cache starts afresh.
MAX_CACHED_WORDS = 200_000


class NgramCounter:
    """Transform-time n-gram counts of fitted word and ``char_wb`` CountVectorizers.

    Gives exactly the matrix of the vectorizers' ``transform`` stacked side by side (same
    columns, same integer counts as float64, indices sorted), several times faster on
    segment texts, because each distinct whitespace-separated word is analysed once and
    cached:

    - character block: the ``char_wb`` n-grams of a text are the concatenation of the
      n-grams of its words, each padded with one space (scikit-learn's
      ``_char_wb_ngrams``); a word's n-gram counts are a cached sparse row of ``W``
      (words x features) and the texts' counts are ``D @ W``, ``D`` the (texts x words)
      occurrences;
    - word block: ``WORD_TOKEN_PATTERN`` never matches across whitespace, so a text's
      tokens are its words' tokens in order; a word's tokens are cached as integer ids
      of the fitted vocabulary's words (0 for any other token, which no vocabulary
      n-gram contains), each n-gram becomes an integer key, and the keys of all texts are
      looked up at once with :func:`numpy.searchsorted`.

    Parameters
    ----------
    word, char : CountVectorizer or None
        Fitted vectorizers (``vocabulary_`` set): word n-grams with
        ``WORD_TOKEN_PATTERN`` and lowercasing, character n-grams with
        ``analyzer="char_wb"`` and lowercasing.

    Notes
    -----
    Equality with scikit-learn rests on ``str.split()`` splitting where
    ``re.sub(r"\\s\\s+", " ", text).split()`` does (``\\s`` and ``str.isspace`` agree on
    every code point) and on the whole text being lowercased before it is split, as
    scikit-learn does.  ``tests/test_classify.py`` checks the matrices and the
    probabilities are equal on the bundled corpus.  At most :data:`MAX_CACHED_WORDS`
    words are kept; the cache then starts afresh.
    """

    def __init__(self, word: CountVectorizer | None, char: CountVectorizer | None) -> None:
        self.word, self.char = word, char
        self._findall = re.compile(WORD_TOKEN_PATTERN).findall
        self._word_tables = self._index_word_vocabulary() if word is not None else None
        self._reset_cache()

    def _index_word_vocabulary(self):
        """``(token_ids, base, {n: (sorted keys, columns)})``; None if keys overflow."""
        token_ids: dict[str, int] = {}
        by_n: dict[int, tuple[list[tuple[int, ...]], list[int]]] = {}
        for term, column in self.word.vocabulary_.items():
            ids = tuple(token_ids.setdefault(part, len(token_ids) + 1)
                        for part in term.split(" "))
            grams, columns = by_n.setdefault(len(ids), ([], []))
            grams.append(ids)
            columns.append(column)
        base = len(token_ids) + 1
        if base ** self.word.ngram_range[1] >= 2 ** 62:
            return None  # keys would not fit in int64: scikit-learn's transform instead
        tables = {}
        for n, (grams, columns) in by_n.items():
            ids = np.array(grams, dtype=np.int64).reshape(len(grams), n)
            keys = np.zeros(len(grams), dtype=np.int64)
            for k in range(n):
                keys = keys * base + ids[:, k]
            order = np.argsort(keys, kind="stable")
            tables[n] = (keys[order], np.asarray(columns, dtype=np.int64)[order])
        return token_ids, base, tables

    def _reset_cache(self) -> None:
        self._rows: dict[str, int] = {}
        self._w_indices, self._w_data, self._w_indptr = array("q"), array("d"), array("q", [0])
        self._t_ids, self._t_indptr = array("q"), array("q", [0])
        self._arrays = None

    def _add(self, word: str) -> int:
        """Analyse one new lowercased word into the cache; return its row."""
        if self.char is not None:
            vocabulary = self.char.vocabulary_
            min_n, max_n = self.char.ngram_range
            padded = " " + word + " "
            size = len(padded)
            counts: dict[int, int] = {}
            for n in range(min_n, max_n + 1):  # as scikit-learn's _char_wb_ngrams
                for offset in range(max(size - n + 1, 1)):
                    column = vocabulary.get(padded[offset:offset + n])
                    if column is not None:
                        counts[column] = counts.get(column, 0) + 1
                if size <= n:  # a word no longer than n is counted once, whole
                    break
            columns = sorted(counts)
            self._w_indices.extend(columns)
            self._w_data.extend([float(counts[c]) for c in columns])
            self._w_indptr.append(len(self._w_indices))
        if self._word_tables is not None:
            token_ids = self._word_tables[0]
            self._t_ids.extend([token_ids.get(t, 0) for t in self._findall(word)])
            self._t_indptr.append(len(self._t_ids))
        row = self._rows[word] = len(self._rows)
        self._arrays = None
        return row

    def _cached_arrays(self):
        """``(W, token ids, token indptr)`` of the cache as numpy (rebuilt after growth)."""
        if self._arrays is None:
            w = None
            if self.char is not None:
                w = sp.csr_matrix((np.array(self._w_data), np.array(self._w_indices),
                                   np.array(self._w_indptr)),
                                  shape=(len(self._rows), len(self.char.vocabulary_)))
            self._arrays = (w, np.array(self._t_ids, dtype=np.int64),
                            np.array(self._t_indptr, dtype=np.int64))
        return self._arrays

    def _word_block(self, rows: np.ndarray, doc_ends: np.ndarray,
                    n_docs: int) -> sp.csr_matrix:
        """Word n-gram counts from the cached token ids of each text's words."""
        _, base, tables = self._word_tables
        _, t_ids, t_indptr = self._cached_arrays()
        lengths = t_indptr[rows + 1] - t_indptr[rows]
        ends = np.cumsum(lengths)
        gather = np.repeat(t_indptr[rows] - (ends - lengths), lengths) + np.arange(
            ends[-1] if ends.size else 0)
        ids = t_ids[gather]
        token_ends = np.concatenate([[0], ends])[doc_ends]  # tokens up to each text's end
        doc_lengths = np.diff(np.concatenate([[0], token_ends]))
        row_of = np.repeat(np.arange(n_docs), doc_lengths)
        end_of = np.repeat(token_ends, doc_lengths)
        position = np.arange(ids.size)
        min_n, max_n = self.word.ngram_range
        hit_rows, hit_columns = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for n in range(min_n, max_n + 1):
            if n not in tables:
                continue
            start = np.flatnonzero(position + n <= end_of)
            keys = np.zeros(start.size, dtype=np.int64)
            known = np.ones(start.size, dtype=bool)
            for k in range(n):
                part = ids[start + k]
                known &= part != 0
                keys = keys * base + part
            start, keys = start[known], keys[known]
            table_keys, table_columns = tables[n]
            at = np.minimum(np.searchsorted(table_keys, keys), table_keys.size - 1)
            hit = table_keys[at] == keys
            hit_rows.append(row_of[start[hit]])
            hit_columns.append(table_columns[at[hit]])
        rows_all, columns_all = np.concatenate(hit_rows), np.concatenate(hit_columns)
        block = sp.csr_matrix((np.ones(rows_all.size), (rows_all, columns_all)),
                              shape=(n_docs, len(self.word.vocabulary_)))
        block.sum_duplicates()
        return block

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """n-gram counts of ``texts``: word block then character block.

        Parameters
        ----------
        texts : list of str, length n_segments

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_segments, n_word_terms + n_char_terms)
            float64 integer counts, canonical (sorted indices, no duplicates): equal to
            ``hstack([word.transform(texts), char.transform(texts)])`` with its indices
            sorted.
        """
        if len(self._rows) > MAX_CACHED_WORDS:
            self._reset_cache()
        docs = [text.lower() for text in texts]
        words: list[str] = []
        lengths = np.empty(len(docs), dtype=np.int64)
        for i, doc in enumerate(docs):
            split = doc.split()
            lengths[i] = len(split)
            words += split
        found = list(map(self._rows.get, words))
        if None in found:  # analyse each new word once
            for i, row in enumerate(found):
                if row is None:
                    row = self._rows.get(words[i])
                    found[i] = self._add(words[i]) if row is None else row
        rows = np.array(found, dtype=np.int64)
        doc_ends = np.cumsum(lengths)
        blocks = []
        if self.word is not None:
            if self._word_tables is None:
                block = self.word.transform(docs)
                block.sum_duplicates()
            else:
                block = self._word_block(rows, doc_ends, len(docs))
            blocks.append(block)
        if self.char is not None:
            w = self._cached_arrays()[0]
            occurrences = sp.csr_matrix((np.ones(rows.size), rows,
                                         np.concatenate([[0], doc_ends])),
                                        shape=(len(docs), w.shape[0]))
            block = occurrences @ w  # integer counts: exact in float64 in any order
            block.sort_indices()
            blocks.append(block)
        return blocks[0] if len(blocks) == 1 else _hstack_canonical(*blocks)


def _hstack_canonical(left: sp.csr_matrix, right: sp.csr_matrix) -> sp.csr_matrix:
    """``[left, right]`` side by side, both canonical CSR; the result is canonical."""
    n_rows = left.shape[0]
    n_left, n_right = np.diff(left.indptr), np.diff(right.indptr)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(n_left + n_right, out=indptr[1:])
    dest_left = np.arange(left.nnz) + np.repeat(indptr[:-1] - left.indptr[:-1], n_left)
    dest_right = np.arange(right.nnz) + np.repeat(
        indptr[:-1] + n_left - right.indptr[:-1], n_right)
    indices = np.empty(indptr[-1], dtype=np.int64)
    data = np.empty(indptr[-1], dtype=np.float64)
    indices[dest_left], data[dest_left] = left.indices, left.data
    indices[dest_right], data[dest_right] = right.indices + left.shape[1], right.data
    out = sp.csr_matrix((data, indices, indptr), shape=(n_rows, left.shape[1] +
                                                        right.shape[1]))
    out.has_sorted_indices = True
    out.has_canonical_format = True
    return out


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label (or top-1) theme classifier: NB-weighted logistic regression.

    Features are word n-grams plus character n-grams within word boundaries
    (lowercased).  ``nb`` member: binary features, each row L2-normalised, scaled per
    theme by the naive-Bayes log-count ratio of that theme, and a logistic regression
    fitted on them; the two steps fold into one linear score per theme (NBSVM, Wang &
    Manning 2012, with a logistic loss).  Optional ``tfidf`` member: a logistic
    regression per theme on sublinear TF-IDF features; the members' scores are summed
    (in multiclass mode the members are ``multiclass_members`` and are stacked instead).
    Scores are calibrated into probabilities on out-of-fold scores of an internal
    ``inner_folds``-fold cross-validation inside the training data (Platt 1999 per
    theme; a multinomial logistic regression over the theme scores in multiclass mode),
    and a decision threshold per theme is chosen there to maximise that theme's F1.

    Parameters
    ----------
    themes : sequence of str
        Theme ids; the column order of ``Y`` and of every output.
    mode : {"multilabel", "multiclass"}, default "multilabel"
        ``multilabel``: zero, one or several themes per segment.  ``multiclass``: exactly
        one theme per segment (top-1), probabilities sum to 1 over themes.
    random_state : int, default 0
        Seed of the internal folds and of the solver; same seed and data give identical
        predictions.
    word_ngrams : tuple (min_n, max_n) or None, default (1, 2)
        Word n-gram range; ``None`` drops word features.
    char_ngrams : tuple (min_n, max_n) or None, default (2, 5)
        Character n-gram range (``char_wb`` analyser); ``None`` drops them.
    min_df : int, default 1
        Minimum number of training segments a word n-gram must occur in.
    char_min_df : int, default 2
        Minimum number of training segments a character n-gram must occur in.
    max_features : int or None, default 200000
        Keep at most this many of the most frequent n-grams per featuriser.
    nb_alpha : float, default 1.0
        Additive smoothing of the naive-Bayes counts.
    C : float, default 4.0
        Inverse L2 regularisation strength of each theme's logistic regression.
    class_weight : {"balanced"} or None, default "balanced"
        Class weighting of each theme's logistic regression.
    inner_folds : int, default 5
        Folds of the internal cross-validation used for calibration and thresholds
        (fewer when a theme has fewer positive or negative segments).
    norm : {"l2"} or None, default "l2"
        Row normalisation of the binary features before the naive-Bayes scaling.
    members : sequence of {"nb", "tfidf"}, default ("nb",)
        Linear models whose scores are summed per theme before calibration: ``nb``
        (NB-weighted logistic regression on binary n-grams) and ``tfidf`` (logistic
        regression on sublinear TF-IDF of the same n-grams, rows L2-normalised).  The
        ensemble ``("nb", "tfidf")`` doubles the fitting time; see
        ``bench/classify.py`` for what it gained and cost.
    interpolation : float in (0, 1], default 1.0
        ``nb`` member: Wang & Manning's (2012, eq. 3) interpolation ``beta`` between
        naive Bayes (all weights equal to their mean magnitude) and the fitted weights;
        1 keeps the fitted weights.
    tfidf_C : float, default 10.0
        Inverse L2 regularisation strength of the ``tfidf`` member.
    multiclass_members : sequence of {"nb", "tfidf"} or None, default ("nb", "tfidf")
        Members in ``multiclass`` mode (there they replace ``members``).  Each member's
        per-theme scores are separate inputs of the stacked calibration, so the
        multinomial logistic regression over the out-of-fold scores learns how much to
        trust each member per theme (stacked generalisation, Wolpert 1992) instead of
        summing them.  ``None``: use ``members``, scores summed, as in multilabel mode.

    Attributes
    ----------
    themes_ : list of str
    word_vectorizer_, char_vectorizer_ : CountVectorizer or None
    n_features_ : int
    idf_ : ndarray of shape (n_features_,)
        Smoothed inverse document frequency of each n-gram (``tfidf`` member).
    coef_ : ndarray of shape (n_themes, n_features_), float32
        ``nb`` member's weights per theme on the normalised binary features (NB ratio
        times logistic-regression weight); zeros without that member.
    tfidf_coef_ : ndarray of shape (n_themes, n_features_), float32, or None
        ``tfidf`` member's weights per theme on the TF-IDF features.
    intercept_ : ndarray of shape (n_themes,)
        Sum of the members' intercepts.
    calibration_coef_ : ndarray of shape (n_themes,) (multilabel) or (n_themes, n_inputs)
        In multiclass mode ``n_inputs`` is ``n_themes`` times the number of members in
        ``multiclass_members`` (one block of theme scores per member), or ``n_themes``
        when ``multiclass_members`` is None.
    calibration_intercept_ : ndarray of shape (n_themes,)
    thresholds_ : ndarray of shape (n_themes,)
        Probability threshold per theme (multilabel); ``nan`` in multiclass mode, where
        the most probable theme is predicted.
    theme_counts_ : ndarray of shape (n_themes,)
        Training segments per theme.

    Raises
    ------
    StageError
        Invalid ``X``/``Y`` (T410-T412), unknown mode or bad hyperparameters (T413,
        T454), too few training segments (T414).

    References
    ----------
    Wang, S. & Manning, C. D. (2012). Baselines and Bigrams: Simple, Good Sentiment and
    Topic Classification. ACL 2012, 90-94.
    Wolpert, D. H. (1992). Stacked generalization. Neural Networks 5(2), 241-259.
    Platt, J. (1999). Probabilistic outputs for support vector machines and comparisons
    to regularized likelihood methods. Advances in Large Margin Classifiers.
    """

    def __init__(self, themes: Sequence[str] = (), mode: str = "multilabel",
                 random_state: int = 0, word_ngrams=(1, 2), char_ngrams=(2, 5),
                 min_df: int = 1, char_min_df: int = 2, max_features: int | None = 200000,
                 nb_alpha: float = 1.0, C: float = 4.0,
                 class_weight: str | None = "balanced",
                 inner_folds: int = 5, norm: str | None = "l2",
                 members: Sequence[str] = ("nb",), interpolation: float = 1.0,
                 tfidf_C: float = 10.0,
                 multiclass_members: Sequence[str] | None = ("nb", "tfidf")) -> None:
        self.themes = themes
        self.mode = mode
        self.random_state = random_state
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.char_min_df = char_min_df
        self.max_features = max_features
        self.nb_alpha = nb_alpha
        self.C = C
        self.class_weight = class_weight
        self.inner_folds = inner_folds
        self.norm = norm
        self.members = members
        self.interpolation = interpolation
        self.tfidf_C = tfidf_C
        self.multiclass_members = multiclass_members

    # -- features -------------------------------------------------------------------

    def _check_params(self) -> list[str]:
        themes = [str(t) for t in self.themes]
        if not themes or len(set(themes)) != len(themes):
            raise StageError("T413", f"themes must be a non-empty list of unique ids; "
                             f"got {themes!r}")
        if self.mode not in ("multilabel", "multiclass"):
            raise StageError("T413", f"mode must be 'multilabel' or 'multiclass'; got "
                             f"{self.mode!r}; set classifier.mode")
        if self.mode == "multiclass" and len(themes) < 2:
            raise StageError("T413", "mode 'multiclass' needs at least two themes")
        if self.word_ngrams is None and self.char_ngrams is None:
            raise StageError("T413", "word_ngrams and char_ngrams are both None; keep "
                             "at least one featuriser")
        for name in ("word_ngrams", "char_ngrams"):
            value = getattr(self, name)
            if value is not None and (len(value) != 2 or not 1 <= value[0] <= value[1]):
                raise StageError("T413", f"{name} must be (min_n, max_n) with "
                                 f"1 <= min_n <= max_n, or None; got {value!r}")
        if not self.C > 0 or not self.nb_alpha > 0 or int(self.inner_folds) < 2:
            raise StageError("T413", "C and nb_alpha must be > 0 and inner_folds >= 2; "
                             f"got C={self.C}, nb_alpha={self.nb_alpha}, "
                             f"inner_folds={self.inner_folds}")
        for name in ("members", "multiclass_members"):
            value = getattr(self, name)
            if name == "multiclass_members" and value is None:
                continue
            members = list(value)
            if (not members or len(set(members)) != len(members)
                    or not set(members) <= set(MEMBERS)):
                raise StageError("T454", f"{name} must be a non-empty list of distinct "
                                 f"{' / '.join(MEMBERS)}; got {value!r}; set "
                                 f"classifier.{name}")
        if not 0 < self.interpolation <= 1 or not self.tfidf_C > 0:
            raise StageError("T454", f"interpolation must be in (0, 1] and tfidf_C > 0; "
                             f"got interpolation={self.interpolation}, "
                             f"tfidf_C={self.tfidf_C}")
        return themes

    def _vectorizers(self) -> tuple[CountVectorizer | None, CountVectorizer | None]:
        word = char = None
        if self.word_ngrams is not None:
            word = CountVectorizer(lowercase=True, token_pattern=WORD_TOKEN_PATTERN,
                                   ngram_range=tuple(self.word_ngrams),
                                   min_df=self.min_df, max_features=self.max_features,
                                   dtype=np.float64)
        if self.char_ngrams is not None:
            char = CountVectorizer(lowercase=True, analyzer="char_wb",
                                   ngram_range=tuple(self.char_ngrams),
                                   min_df=self.char_min_df,
                                   max_features=self.max_features, dtype=np.float64)
        return word, char

    def _counts(self, texts: list[str], fit: bool = False) -> sp.csr_matrix:
        """n-gram counts (n_segments, n_features_), word block then character block.

        After ``fit``, counted by :class:`NgramCounter` (kept on the estimator, never
        saved): the same matrix as the vectorizers' ``transform``, faster.
        """
        vectorizers = (self.word_vectorizer_, self.char_vectorizer_)
        if fit:
            blocks = [vec.fit_transform(texts) for vec in vectorizers if vec is not None]
        else:
            counter = self.__dict__.get("_ngram_counter")
            if (counter is None or counter.word is not vectorizers[0]
                    or counter.char is not vectorizers[1]):
                counter = self._ngram_counter = NgramCounter(*vectorizers)
            return counter.transform(texts)
        counts = sp.hstack(blocks, format="csr", dtype=np.float64)
        counts.sum_duplicates()
        counts.sort_indices()
        return counts

    def _active_members(self) -> tuple[str, ...]:
        """Members in use: ``multiclass_members`` in multiclass mode, else ``members``."""
        stacked = self.multiclass_members
        if self.mode == "multiclass" and stacked is not None:
            return tuple(stacked)
        return tuple(self.members)

    def _stacks_members(self) -> bool:
        """Whether each member's scores are separate inputs of the stacked calibration."""
        return self.mode == "multiclass" and self.multiclass_members is not None

    def _members(self, counts: sp.csr_matrix) -> list[sp.csr_matrix]:
        """Feature matrix of each member, in the order of ``members``.

        ``nb``: binary presence, rows L2-normalised when ``norm='l2'`` (the naive-Bayes
        scaling is folded into the weights).  ``tfidf``: sublinear TF-IDF
        (``1 + log tf`` times ``idf_``), rows L2-normalised.
        """
        out = []
        for member in self._active_members():
            if member == "nb":
                matrix = counts.copy()
                matrix.data[:] = 1.0
                if self.norm == "l2":
                    matrix = normalize(matrix, norm="l2", copy=False)
            else:
                matrix = self._tfidf(counts)
            out.append(matrix)
        return out

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear TF-IDF (``1 + log tf`` times ``idf_``), rows L2-normalised."""
        matrix = counts.copy()
        matrix.data = (1.0 + np.log(matrix.data)) * self.idf_[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)

    def _scores(self, matrices: list[sp.csr_matrix], weights: list[np.ndarray],
                intercept) -> np.ndarray:
        """Sum of the members' linear scores plus the intercept."""
        total = intercept
        for matrix, w in zip(matrices, weights, strict=True):
            total = total + np.asarray(matrix @ w.T)
        return total

    # -- one theme ------------------------------------------------------------------

    def _fit_theme(self, matrices: list[sp.csr_matrix],
                   y: np.ndarray) -> tuple[list[np.ndarray], float]:
        """Return (weights per member, summed intercept) of one theme."""
        n_pos = int(y.sum())
        n_features = matrices[0].shape[1]
        if n_pos == 0 or n_pos == y.size:
            # A theme never (or always) coded: a constant score far on that side.
            return ([np.zeros(n_features) for _ in matrices],
                    -10.0 if n_pos == 0 else 10.0)
        weights, intercept = [], 0.0
        for member, X in zip(self._active_members(), matrices, strict=True):
            if member == "nb":
                presence = X.copy()
                presence.data[:] = 1.0
                ratio = _nb_ratio(presence, y, self.nb_alpha)
                scaled = presence  # reuse the copy: X with column j multiplied by ratio[j]
                scaled.data[:] = X.data * ratio[X.indices]
                C = self.C
            else:
                scaled, C = X, self.tfidf_C
            model = LogisticRegression(C=C, solver="liblinear", dual=True,
                                       class_weight=self.class_weight, max_iter=1000,
                                       random_state=self.random_state)
            model.fit(scaled, y)
            w = model.coef_.ravel()
            if member == "nb":
                # Interpolation of Wang & Manning (2012), eq. 3: w' = (1 - b) mean|w| + b w.
                beta = float(self.interpolation)
                w = ((1.0 - beta) * np.abs(w).mean() + beta * w) * ratio
            weights.append(w)
            intercept += float(model.intercept_[0])
        return weights, intercept

    def _inner_splits(self, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Stratified internal folds for labels ``y`` (1-D); empty if too few rows."""
        counts = np.bincount(y)
        counts = counts[counts > 0]
        if counts.size < 2:
            return []
        n_splits = min(int(self.inner_folds), int(counts.min()))
        if n_splits < 2:
            return []
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True,
                                random_state=self.random_state)
        return list(folds.split(np.zeros((y.size, 1)), y))

    def _run_fits(self, matrices: list[sp.csr_matrix], Y: np.ndarray,
                  tasks: list[tuple[int, np.ndarray | None]]) -> list:
        """Fit one theme model per task (theme, training rows or None for all rows).

        Sequential on purpose: liblinear seeds one process-wide random generator, so
        fits in parallel threads would not be reproducible.
        """
        return [self._fit_theme(matrices, Y[:, k]) if rows is None
                else self._fit_theme([m[rows] for m in matrices], Y[rows, k])
                for k, rows in tasks]

    def _store(self, final: list) -> None:
        """Keep the full-data weights: float32 (what is saved is what predicts)."""
        members = self._active_members()
        for m, member in enumerate(members):
            coef = np.vstack([weights[m] for weights, _ in final]).astype(np.float32)
            setattr(self, "coef_" if member == "nb" else "tfidf_coef_", coef)
        if "nb" not in members:
            self.coef_ = np.zeros((len(final), self.n_features_), dtype=np.float32)
        if "tfidf" not in members:
            self.tfidf_coef_ = None
        self.intercept_ = np.array([intercept for _, intercept in final])

    def _weights(self) -> list[np.ndarray]:
        return [self.coef_ if member == "nb" else self.tfidf_coef_
                for member in self._active_members()]

    # -- fit ------------------------------------------------------------------------

    def fit(self, X, Y) -> ThemeClassifier:
        """Learn features, per-theme models, calibration and thresholds.

        Parameters
        ----------
        X : sequence of str, length n_segments
            Segment texts: space-joined stems (or raw text; it is lowercased).
        Y : array-like of shape (n_segments, n_themes) of 0/1, in the order of
            ``themes``; in ``multiclass`` mode also a 1-D array of theme positions or
            theme ids.

        Returns
        -------
        self

        Raises
        ------
        StageError
            Invalid inputs or hyperparameters (T410-T413, T454); fewer than 2 segments
            (T414).
        """
        themes = self._check_params()
        texts = _check_texts(X)
        if len(texts) < 2:
            raise StageError("T414", f"the classifier needs at least 2 coded segments; "
                             f"got {len(texts)}; code more segments")
        Y = _as_indicator(Y, len(texts), themes, self.mode)
        self.themes_ = themes
        self.word_vectorizer_, self.char_vectorizer_ = self._vectorizers()
        try:
            counts = self._counts(texts, fit=True)
        except ValueError:
            raise StageError("T414", "the coded segments contain no words to learn from; "
                             "check that segment texts are not empty") from None
        self.n_features_ = counts.shape[1]
        # Smoothed idf as in scikit-learn's TfidfTransformer: log((1 + n) / (1 + df)) + 1.
        df = np.bincount(counts.indices, minlength=self.n_features_)
        self.idf_ = np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0
        matrices = self._members(counts)
        self.theme_counts_ = Y.sum(axis=0)
        if self.mode == "multilabel":
            self._fit_multilabel(matrices, Y)
        else:
            self._fit_multiclass(matrices, Y)
        return self

    def _fit_multilabel(self, matrices: list[sp.csr_matrix], Y: np.ndarray) -> None:
        n_rows, n_themes = Y.shape
        splits = [self._inner_splits(Y[:, k]) for k in range(n_themes)]
        tasks = [(k, None) for k in range(n_themes)]
        tasks += [(k, train) for k in range(n_themes) for train, _ in splits[k]]
        fitted = iter(self._run_fits(matrices, Y, tasks))
        self._store([next(fitted) for _ in range(n_themes)])
        self.calibration_coef_ = np.ones(n_themes)
        self.calibration_intercept_ = np.zeros(n_themes)
        self.thresholds_ = np.full(n_themes, 0.5)
        for k in range(n_themes):
            y = Y[:, k]
            n_pos = int(y.sum())
            if n_pos in (0, n_rows):
                prior = 1e-6 if n_pos == 0 else 1 - 1e-6
                self.calibration_coef_[k] = 0.0
                self.calibration_intercept_[k] = np.log(prior / (1 - prior))
                continue
            if not splits[k]:
                continue  # too few segments of one kind: raw sigmoid, threshold 0.5
            scores = np.empty(n_rows)
            for _, test in splits[k]:
                weights, intercept = next(fitted)
                scores[test] = self._scores([m[test] for m in matrices], weights,
                                            intercept)
            platt = LogisticRegression(C=1.0).fit(scores[:, None], y)
            self.calibration_coef_[k] = platt.coef_[0, 0]
            self.calibration_intercept_[k] = platt.intercept_[0]
            proba = expit(platt.coef_[0, 0] * scores + platt.intercept_[0])
            self.thresholds_[k] = _best_f1_threshold(proba, y)

    def _fit_multiclass(self, matrices: list[sp.csr_matrix], Y: np.ndarray) -> None:
        n_themes = Y.shape[1]
        labels = Y.argmax(axis=1)
        present = np.flatnonzero(self.theme_counts_ > 0)
        splits = self._inner_splits(labels) if present.size >= 2 else []
        blocks = len(matrices) if self._stacks_members() else 1
        n_inputs = n_themes * blocks
        self.thresholds_ = np.full(n_themes, np.nan)
        self.calibration_coef_ = np.tile(np.eye(n_themes), blocks)
        self.calibration_intercept_ = np.zeros(n_themes)
        self._store(self._run_fits(matrices, Y, [(k, None) for k in range(n_themes)]))
        if not splits:
            return
        inputs = self._out_of_fold_inputs(matrices, Y, splits, blocks)
        # Stacked calibration: a multinomial logistic regression over the out-of-fold
        # theme scores (one block per member) turns them into probabilities.
        stacker = LogisticRegression(C=1.0, max_iter=1000).fit(inputs, labels)
        self.calibration_coef_, self.calibration_intercept_ = _expand_logits(
            stacker, n_themes, n_inputs)

    def _out_of_fold_inputs(self, matrices: list[sp.csr_matrix], Y: np.ndarray,
                            splits: list, blocks: int) -> np.ndarray:
        """Out-of-fold theme scores (n_rows, n_themes * blocks) of the inner folds."""
        n_rows, n_themes = Y.shape
        tasks = [(k, train) for train, _ in splits for k in range(n_themes)]
        fitted = iter(self._run_fits(matrices, Y, tasks))
        inputs = np.empty((n_rows, n_themes * blocks))
        for _, test in splits:
            held_out = [m[test] for m in matrices]
            for k in range(n_themes):
                weights, intercept = next(fitted)
                if blocks == 1:
                    inputs[test, k] = self._scores(held_out, weights, intercept)
                    continue
                for b, (matrix, w) in enumerate(zip(held_out, weights, strict=True)):
                    inputs[test, b * n_themes + k] = matrix @ w + (intercept if b == 0
                                                                   else 0.0)
        return inputs

    # -- saving ---------------------------------------------------------------------

    def __getstate__(self) -> dict:
        """State for skops: vocabularies as one UTF-8 byte array each, not a dict.

        A fitted ``CountVectorizer`` keeps its vocabulary as a dict of n-gram -> column;
        skops would store it as one JSON node per entry (megabytes, seconds to load).
        Here each vocabulary becomes its n-grams in column order, joined by ``\\n``
        (never part of a word or character n-gram), as a ``uint8`` array;
        :meth:`__setstate__` rebuilds the vectorizers from the hyperparameters.
        """
        state = dict(super().__getstate__())  # a copy: the estimator keeps its own
        state.pop("_ngram_counter", None)  # a cache, rebuilt on the first transform
        for name in ("word_vectorizer_", "char_vectorizer_"):
            vectorizer = state.pop(name, None)
            if vectorizer is None:
                state[name.replace("vectorizer_", "vocabulary_")] = None
                continue
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            state[name.replace("vectorizer_", "vocabulary_")] = np.frombuffer(
                "\n".join(terms).encode("utf-8"), dtype=np.uint8).copy()
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        # Files saved before ``multiclass_members`` existed summed the members' scores.
        state.setdefault("multiclass_members", None)
        vocabularies = {name: state.pop(name.replace("vectorizer_", "vocabulary_"), None)
                        for name in ("word_vectorizer_", "char_vectorizer_")}
        super().__setstate__(state)
        if "themes_" not in state:
            return
        word, char = self._vectorizers()
        for name, vectorizer in (("word_vectorizer_", word), ("char_vectorizer_", char)):
            packed = vocabularies[name]
            if packed is None or vectorizer is None:
                setattr(self, name, None)
                continue
            terms = bytes(np.asarray(packed, dtype=np.uint8)).decode("utf-8").split("\n")
            vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
            setattr(self, name, vectorizer)

    # -- predict --------------------------------------------------------------------

    def decision_function(self, X) -> np.ndarray:
        """Uncalibrated linear score per theme (the members' scores summed).

        Parameters
        ----------
        X : sequence of str, length n_segments

        Returns
        -------
        scores : ndarray of shape (n_segments, n_themes)
            Log-odds-like scores; larger means more likely.
        """
        check_is_fitted(self, "coef_")
        matrices = self._members(self._counts(_check_texts(X)))
        return self._scores(matrices, self._weights(), self.intercept_)

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probability of each theme.

        Returns
        -------
        proba : ndarray of shape (n_segments, n_themes)
            Multilabel: independent probabilities in [0, 1].  Multiclass: rows sum to 1.
        """
        check_is_fitted(self, "coef_")
        matrices = self._members(self._counts(_check_texts(X)))
        if self._stacks_members():
            scores = np.hstack([np.asarray(matrix @ w.T) for matrix, w in
                                zip(matrices, self._weights(), strict=True)])
            scores[:, :len(self.themes_)] += self.intercept_
        else:
            scores = self._scores(matrices, self._weights(), self.intercept_)
        if self.mode == "multilabel":
            return expit(scores * self.calibration_coef_ + self.calibration_intercept_)
        return softmax(scores @ self.calibration_coef_.T + self.calibration_intercept_,
                       axis=1)

    def predict(self, X) -> np.ndarray:
        """Themes of each segment as a 0/1 matrix.

        Returns
        -------
        Y_pred : ndarray of shape (n_segments, n_themes), int 0/1
            Multilabel: probability >= ``thresholds_``.  Multiclass: exactly one 1 per
            row, at the most probable theme.
        """
        return self.decide(self.predict_proba(X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Themes from probabilities already computed by :meth:`predict_proba`.

        ``decide(predict_proba(X))`` equals ``predict(X)``; a caller that needs both
        extracts the features once.

        Parameters
        ----------
        proba : ndarray of shape (n_segments, n_themes)

        Returns
        -------
        Y_pred : ndarray of shape (n_segments, n_themes), int 0/1
        """
        check_is_fitted(self, "coef_")
        proba = np.asarray(proba, dtype=np.float64)
        if self.mode == "multilabel":
            return (proba >= self.thresholds_).astype(np.int64)
        out = np.zeros(proba.shape, dtype=np.int64)
        if proba.shape[0]:
            out[np.arange(proba.shape[0]), proba.argmax(axis=1)] = 1
        return out

    def score(self, X, Y, sample_weight=None) -> float:
        """Macro F1 over themes of ``predict(X)`` against ``Y``."""
        from sklearn.metrics import f1_score

        check_is_fitted(self, "coef_")
        Y = _as_indicator(Y, len(_check_texts(X)), self.themes_, self.mode)
        return float(f1_score(Y, self.predict(X), average="macro", zero_division=0,
                              sample_weight=sample_weight))


#: ``classifier:`` config keys that are :class:`ThemeClassifier` hyperparameters.
HYPERPARAMETERS = ("word_ngrams", "char_ngrams", "min_df", "char_min_df", "max_features",
                   "nb_alpha", "C", "class_weight", "inner_folds", "norm", "members",
                   "interpolation", "tfidf_C", "multiclass_members")


def make_classifier(config, themes: Sequence[str]) -> ThemeClassifier:
    """Build an unfitted :class:`ThemeClassifier` from a ``classifier:`` config section.

    Parameters
    ----------
    config : themepipe.config.ClassifierConfig
    themes : sequence of str
        Theme ids in codebook order.
    """
    params = {name: getattr(config, name) for name in HYPERPARAMETERS}
    params["members"] = tuple(params["members"])
    if params["multiclass_members"] is not None:
        params["multiclass_members"] = tuple(params["multiclass_members"])
    return ThemeClassifier(themes=list(themes), mode=config.mode,
                           random_state=config.random_state, **params)


def _expand_logits(model: LogisticRegression, n_themes: int,
                   n_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (n_themes, n_inputs) and intercepts (n_themes,) of a fitted logistic
    regression as softmax logits over all themes; themes absent from its training labels
    get intercept -30 (never predicted), a binary model's logit z becomes (-z/2, z/2)."""
    coef = np.zeros((n_themes, n_inputs))
    intercept = np.full(n_themes, -30.0)
    if model.classes_.size > 2:
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
    else:  # binary: one logit z; softmax over (-z/2, z/2) is sigmoid(z)
        coef[model.classes_] = np.vstack([-model.coef_[0], model.coef_[0]]) / 2
        intercept[model.classes_] = np.array([-model.intercept_[0],
                                              model.intercept_[0]]) / 2
    return coef, intercept


def _best_f1_threshold(proba: np.ndarray, y: np.ndarray) -> float:
    """Grid threshold maximising F1 of ``proba >= t`` against ``y``; ties -> median."""
    pred = proba[None, :] >= THRESHOLD_GRID[:, None]
    tp = (pred & (y[None, :] == 1)).sum(axis=1)
    n_pred = pred.sum(axis=1)
    f1 = 2 * tp / np.maximum(n_pred + y.sum(), 1)
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)
    return float(THRESHOLD_GRID[best[len(best) // 2]])


class KeywordBaseline(ClassifierMixin, BaseEstimator):
    """Predict a theme when any of its seed words' stems occurs in the segment.

    A seed entry of several stems (``"dana desa"``) matches when those stems occur in
    that order, next to each other.  Matching is on whole space-separated tokens, after
    lowercasing both sides.

    Parameters
    ----------
    seed_stems : mapping of theme id to list of str
        Stemmed seed words per theme, in theme order (e.g. the codebook's seed words
        passed through the project's stemmer).

    Attributes
    ----------
    themes_ : list of str
        Theme ids in the order of ``seed_stems``.
    patterns_ : list of list of tuple of str
        Seed stems per theme, each as a tuple of tokens.
    """

    def __init__(self, seed_stems: Mapping[str, Sequence[str]] | None = None) -> None:
        self.seed_stems = seed_stems

    def fit(self, X=None, Y=None) -> KeywordBaseline:
        """Store the seed stems; ``X`` and ``Y`` are only checked, nothing is learned.

        Raises
        ------
        StageError
            ``seed_stems`` is empty (T415) or ``Y`` has the wrong shape (T411).
        """
        if not self.seed_stems:
            raise StageError("T415", "the keyword baseline needs seed words; add "
                             "seed_words to the codebook's themes")
        self.themes_ = [str(theme) for theme in self.seed_stems]
        self.patterns_ = [
            sorted({tuple(str(word).lower().split()) for word in words
                    if str(word).split()})
            for words in self.seed_stems.values()
        ]
        if X is not None and Y is not None:
            _as_indicator(Y, len(_check_texts(X)), self.themes_, "multilabel")
        return self

    def predict(self, X) -> np.ndarray:
        """Return a 0/1 matrix of shape (n_segments, n_themes)."""
        check_is_fitted(self, "patterns_")
        texts = _check_texts(X)
        out = np.zeros((len(texts), len(self.themes_)), dtype=np.int64)
        for i, text in enumerate(texts):
            tokens = text.lower().split()
            unigrams = set(tokens)
            for k, patterns in enumerate(self.patterns_):
                out[i, k] = any(_contains(tokens, unigrams, p) for p in patterns)
        return out

    def predict_proba(self, X) -> np.ndarray:
        """The 0/1 predictions as floats (the baseline has no graded confidence)."""
        return self.predict(X).astype(np.float64)


def _contains(tokens: list[str], unigrams: set[str], pattern: tuple[str, ...]) -> bool:
    if len(pattern) == 1:
        return pattern[0] in unigrams
    n = len(pattern)
    return any(tuple(tokens[i:i + n]) == pattern for i in range(len(tokens) - n + 1))
