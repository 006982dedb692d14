"""Stop words: spaCy's Indonesian list, interview particles, and kept words.

The list is spaCy's ``spacy.lang.id.stop_words.STOP_WORDS`` plus a few discourse
particles of interviews (built in), plus the words of ``preprocess.stop_words`` (a file
whose ``!word`` lines remove a word instead).  Words in ``preprocess.keep_words`` are
never stop words — by default the negations *tidak, tak, bukan, belum, jangan*, which
carry meaning for themes such as "the programme was *not* socialised".

Stop words are looked up by norm, so ``nggak`` (norm ``tidak``) is kept and ``gitu``
(norm ``begitu``) is a stop word; a word with a clitic is also looked up without it
(``sudahlah``, ``begitunya``).
"""

from __future__ import annotations

from collections.abc import Iterable

from .stemmer import strip_clitic

#: Discourse particles of spoken Indonesian added to spaCy's list by default.
DEFAULT_PARTICLES: tuple[str, ...] = (
    "ya", "iya", "yah", "sih", "deh", "dong", "lho", "loh", "kok", "nah", "tuh", "nih",
    "kan", "kah", "lah", "pun", "nya", "toh", "ok", "oke",
)


class StopWords:
    """Stop-word membership by norm.

    Parameters
    ----------
    additions : iterable of str
        Words added to the list; a word starting with ``!`` is removed instead.
    keep : iterable of str
        Words that are never stop words (applied last).
    """

    def __init__(self, additions: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
        from spacy.lang.id.stop_words import STOP_WORDS

        words = set(STOP_WORDS) | set(DEFAULT_PARTICLES)
        for word in additions:
            if word.startswith("!"):
                words.discard(word[1:])
            else:
                words.add(word)
        self.keep = frozenset(w.lower() for w in keep)
        self.words = frozenset(words - self.keep)

    def __contains__(self, norm: str) -> bool:
        if norm in self.keep:
            return False
        if norm in self.words:
            return True
        split = strip_clitic(norm, min_base=2)
        return split is not None and split[0] not in self.keep and split[0] in self.words
