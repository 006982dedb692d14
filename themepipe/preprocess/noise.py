"""Noise in transcripts: hesitation fillers and transcriber notes.

Neither produces a token; the raw text and every offset stay untouched, because the
noise is skipped, never deleted.

- Fillers (``ee``, ``eh``, ``emm``, ``hmm``, ``anu``) are word types: a token is a filler
  when its lowercased, accent-folded text, or that text with repeated letters collapsed
  (``eeeh`` -> ``eh``, ``hmmm`` -> ``hm``), is in the filler list.
- Transcriber notes are character spans found by patterns: square brackets, timestamps,
  and a list of known parenthesised notes (``(tidak jelas)``, ``(tertawa)``) — a list,
  because speakers also use real parentheses.  A token overlapping a note is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .resources import check_note_pattern, literal_note_pattern

#: Built-in fillers, written in their collapsed form (``hm`` also matches ``hmmm``).
DEFAULT_FILLERS: tuple[str, ...] = (
    "e", "eh", "em", "ehm", "hm", "m", "mh", "anu", "uh", "um", "ah", "eu", "ehem",
)

#: Built-in transcriber-note patterns (regular expressions).
DEFAULT_NOTE_PATTERNS: tuple[str, ...] = (
    r"\[[^\[\]\n]*\]",                                 # [tertawa], [00:12:31], [...]
    # 00:12:31, 12:05 (the lookbehind after the first digit keeps "1234:56" out)
    r"\d(?<![\w:.]\d)\d?:\d{2}(?::\d{2})?(?:[.,]\d+)?(?![\w:])",
) + tuple(literal_note_pattern(note) for note in (
    "(tidak jelas)", "(tak jelas)", "(suara tidak jelas)", "(tidak terdengar)",
    "(inaudible)", "(tertawa)", "(tertawa kecil)", "(ketawa)", "(tersenyum)", "(jeda)",
    "(diam)", "(hening)", "(batuk)", "(menangis)", "(berbisik)", "(bersamaan)",
    "(crosstalk)", "(...)", "(…)",
))

_RUN = re.compile(r"(.)\1+")


def collapse_runs(word: str) -> str:
    """Collapse repeated characters: ``eeehmm`` -> ``ehm``."""
    return _RUN.sub(r"\1", word)


class FillerList:
    """Membership test for hesitation fillers.

    Parameters
    ----------
    words : iterable of str
        Fillers, lowercase, in collapsed form or not (both are matched).
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w.lower() for w in words) | frozenset(
            collapse_runs(w.lower()) for w in words)

    def __contains__(self, folded: str) -> bool:
        return folded in self.words or collapse_runs(folded) in self.words


def first_chars(pattern: str) -> str | None:
    """Characters a match of ``pattern`` can start with, or None when unknown.

    Recognises patterns starting with ``\\d``, an escaped punctuation character, or a
    plain letter or digit that is not optional; alternations give None.
    """
    if not pattern or "|" in pattern:
        return None
    if pattern.startswith("\\d"):
        return "0123456789"
    if pattern[0] == "\\":
        if len(pattern) > 1 and not pattern[1].isalnum():
            first, rest = pattern[1], pattern[2:3]
        else:
            return None
    elif pattern[0].isalnum() or pattern[0] in "<>:;,'\"/@#%&=~`!-_":
        first, rest = pattern[0], pattern[1:2]
    else:
        return None
    if rest and rest in "?*{":
        return None
    return first.lower() + first.upper() if first.isalpha() else first


class NoteFinder:
    """Find transcriber notes in a text.

    Parameters
    ----------
    patterns : iterable of str
        Regular expressions, matched case-insensitively; the first matching pattern
        wins at a position.

    Raises
    ------
    ConfigError
        T034 when a pattern does not compile or matches the empty string.

    Notes
    -----
    When every pattern's first character is known (:func:`first_chars`), a text
    without any of them is skipped without running the regular expression.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        patterns = list(patterns)
        for pattern in patterns:
            check_note_pattern(pattern)
        self.patterns = patterns
        firsts = [first_chars(p) for p in patterns]
        self._triggers = (None if any(f is None for f in firsts)
                          else "".join(sorted(set("".join(firsts)))))
        body = "|".join(f"(?:{p})" for p in patterns)
        self._prefilter = None
        if self._triggers:
            first = "[" + "".join(re.escape(ch) for ch in self._triggers) + "]"
            self._prefilter = re.compile(first)
            body = f"(?={first})(?:{body})"
        self._regex = re.compile(body, re.IGNORECASE) if patterns else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Return the ``(start, end)`` character spans of the notes in ``text``, in order."""
        if self._regex is None:
            return []
        if self._prefilter is not None and not self._prefilter.search(text):
            return []
        return [m.span() for m in self._regex.finditer(text)]
