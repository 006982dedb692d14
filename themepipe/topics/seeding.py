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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

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
