"""Preprocess stage: spoken-Indonesian normalisation, tokenisation, noise, stemming.

>>> from themepipe.preprocess import Preprocessor
>>> pre = Preprocessor()            # or Preprocessor.from_config(config.preprocess)
>>> [(t.text, t.stem) for t in pre.analyze("Programnya jalan.")]
[('Programnya', 'program'), ('jalan', 'jalan')]

Modules, one job each: :mod:`.tokenizer` (spaCy tokenizer rules, sentences),
:mod:`.noise` (fillers, transcriber notes), :mod:`.normalize` (canonical forms),
:mod:`.morphology` (colloquial verb affixes), :mod:`.stemmer` (PySastrawi behind
protected words and overrides), :mod:`.stopwords`, :mod:`.resources` (data files),
:mod:`.pipeline` (:class:`Preprocessor`, parallel transform).
"""

from .pipeline import Preprocessor, Token
from .tokenizer import get_nlp

__all__ = ["Preprocessor", "Token", "get_nlp"]
