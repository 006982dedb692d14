"""Seed stems of the codebook's themes, optionally expanded from the codebook's own text.

Seeded topics start from a theme's ``seed_words``.  A short keyword list misses most of
a theme's turns (on the bundled corpus 52-87 % of the turns coded with a theme contain
none of its seed words: ``bench/topics.py --only-segments``), so the seeds can be
expanded with the content words of other codebook fields of the same theme — by
default its ``label`` and its ``example`` quote, the fields that are written in the
interviews' language.  The words are normalised, stemmed and stop-word filtered by the
run's own preprocessor, exactly like the transcripts.

Only words that point to one theme are added: a word from the text of two themes, or
one that is a seed word of another theme, is left out, because a seed word is reserved
for its theme's topic.  The codebook is the researcher's prior statement of what each
theme means, written before the corpus is coded; the gold codes play no part here.
``when_not_to_use`` is never a source (it describes the *other* themes).

:func:`expand_seed_terms` expands the seeds a second time, from the segments being
modelled: the terms that co-occur most with a theme's seed words (the topic model's
``expand_terms``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..codebook import Codebook

#: Codebook fields that may expand the seed words (``topics.seed_fields``).
SEED_FIELDS = ("label", "short_definition", "full_definition", "when_to_use", "example")


def _text_stems(texts: list[str], preprocessor) -> list[list[str]]:
    if not texts:
        return []
    table = preprocessor.transform(pd.DataFrame({"text": texts}))
    return [str(cell).split() for cell in table["stems"].fillna("")]


def theme_seed_stems(codebook: Codebook, preprocessor,
                     fields: Sequence[str] = ()) -> dict[str, list[str]]:
    """Stemmed seed words per theme, expanded with words of the given codebook fields.

    Parameters
    ----------
    codebook : Codebook
        The study's codebook; themes in codebook order.
    preprocessor : themepipe.preprocess.Preprocessor
        The run's preprocessor (``stem_word`` for seed words, ``transform`` for text).
    fields : sequence of str, default ()
        Codebook fields whose content words are added (see :data:`SEED_FIELDS`); empty:
        the seed words only.

    Returns
    -------
    dict of str to list of str
        Theme id to its stems, in codebook order: the seed words first (in their order,
        duplicates dropped), then the added words in order of appearance.

    Raises
    ------
    ValueError
        A field is not one of :data:`SEED_FIELDS` (the config validates this first).
    """
    unknown = [f for f in fields if f not in SEED_FIELDS]
    if unknown:
        raise ValueError(f"unknown codebook field(s) {unknown}; use {SEED_FIELDS}")
    seeds: dict[str, list[str]] = {}
    for theme, words in codebook.seed_words().items():
        stems = [preprocessor.stem_word(w) for w in words]
        seeds[theme] = list(dict.fromkeys(s for s in stems if s))
    if not fields:
        return seeds
    texts = {theme.id: " \n".join(str(getattr(theme, f) or "") for f in fields)
             for theme in codebook.themes}
    ids = list(texts)
    stems = dict(zip(ids, _text_stems([texts[t] for t in ids], preprocessor)))
    themes_of_word = Counter(w for t in ids for w in set(stems[t]))
    owner = {w: t for t, words in seeds.items() for w in words}
    expanded = {}
    for theme, words in seeds.items():
        extra = [w for w in dict.fromkeys(stems.get(theme, []))
                 if w not in owner and themes_of_word[w] == 1]
        expanded[theme] = words + extra
    return expanded


def expand_seed_terms(docs: Sequence[Sequence[str]], seeds: Mapping[str, Sequence[str]],
                      n_terms: int, max_df: float = 0.1, min_count: int = 3,
                      vocabulary: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Terms that co-occur with a theme's seed words in the segments being modelled.

    A theme's *seed set* occurs in a segment when any of its seed words does.  Each
    candidate term ``w`` is scored against each theme's seed set ``S`` by normalised
    pointwise mutual information over segments,
    ``NPMI(w, S) = log(p(w, S) / (p(w) p(S))) / -log p(w, S)`` (Bouma 2009,
    "Normalized (pointwise) mutual information in collocation extraction", GSCL), and
    goes to the theme it scores highest with; a theme takes its ``n_terms`` best terms
    with NPMI > 0.  This is pseudo-relevance feedback (query expansion from the
    documents the query words retrieve; Xu & Croft 1996, "Query expansion using local
    and global document analysis", SIGIR) applied to seeded topic models, whose results
    depend on how many of a theme's documents its keywords reach (Eshima, Imai & Sasaki
    2024, "Keyword-Assisted Topic Models", AJPS 68(2)).

    Left out: seed words of any theme; terms found in fewer than ``min_count`` segments
    or together with the seed set in fewer than ``min_count`` segments (NPMI of rare
    pairs is noise); terms found in more than ``max_df`` of the segments (a very common
    word co-occurs with every seed set); terms outside ``vocabulary`` when given.

    Parameters
    ----------
    docs : sequence of sequence of str
        Stems per segment (the segments the topic model is fitted on).
    seeds : mapping of str to sequence of str
        Theme id to its seed stems; seed stems absent from ``docs`` are ignored.
    n_terms : int
        Terms added per theme at most (0: none).
    max_df : float, default 0.1
        Document-frequency cap of an added term, as a share of segments, in (0, 1].
    min_count : int, default 3
        Minimum number of segments holding the term, and holding it together with the
        theme's seed set.
    vocabulary : iterable of str, optional
        Only these terms may be added (e.g. the topic model's filtered dictionary).

    Returns
    -------
    dict of str to list of str
        Theme id to its added terms, best NPMI first (ties by term); every theme of
        ``seeds`` is a key.  The seed words themselves are not repeated.

    Raises
    ------
    ValueError
        ``n_terms`` < 0, ``max_df`` outside (0, 1] or ``min_count`` < 1.
    """
    if n_terms < 0 or not 0 < max_df <= 1 or min_count < 1:
        raise ValueError(f"need n_terms >= 0, 0 < max_df <= 1, min_count >= 1; got "
                         f"{n_terms}, {max_df}, {min_count}")
    themes = list(seeds)
    added: dict[str, list[str]] = {t: [] for t in themes}
    n_docs = len(docs)
    if n_terms == 0 or n_docs == 0 or not themes:
        return added
    reserved = {w for words in seeds.values() for w in words}
    index: dict[str, int] = {}
    rows, cols = [], []
    for i, doc in enumerate(docs):
        for term in set(doc):
            rows.append(i)
            cols.append(index.setdefault(term, len(index)))
    terms = np.array(list(index), dtype=object)
    present = sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                            shape=(n_docs, len(index)))
    seed_sets = np.zeros((n_docs, len(themes)))
    for j, theme in enumerate(themes):
        ids = [index[w] for w in seeds[theme] if w in index]
        if ids:
            seed_sets[:, j] = np.asarray(present[:, ids].sum(axis=1)).ravel() > 0
    df = np.asarray(present.sum(axis=0)).ravel()
    joint = np.asarray(present.T @ seed_sets)                 # (n_terms, n_themes)
    p_w = df / n_docs
    p_s = seed_sets.sum(axis=0) / n_docs
    p_ws = joint / n_docs
    with np.errstate(divide="ignore", invalid="ignore"):
        npmi = np.log(p_ws / np.outer(p_w, p_s)) / -np.log(p_ws)
    npmi[joint < min_count] = -np.inf
    npmi[~np.isfinite(npmi)] = -np.inf           # joint count 0, or p(w, S) = 1
    allowed = (df >= min_count) & (p_w <= max_df)
    allowed &= np.array([t not in reserved for t in terms])
    if vocabulary is not None:
        vocabulary = set(vocabulary)
        allowed &= np.array([t in vocabulary for t in terms])
    npmi[~allowed] = -np.inf
    best = npmi.max(axis=1)
    # a term goes to the theme it scores highest with; a tie between themes: to none
    unique_best = (npmi == best[:, None]).sum(axis=1) == 1
    for j, theme in enumerate(themes):
        mine = np.flatnonzero(unique_best & (npmi[:, j] == best) & (best > 0))
        order = sorted(mine, key=lambda i: (-npmi[i, j], terms[i]))
        added[theme] = [str(terms[i]) for i in order[:n_terms]]
    return added
