"""Stemming with PySastrawi behind protected words and an override table.

PySastrawi implements the Enhanced Confix Stripping stemmer (Nazief & Adriani 1996;
Asian 2007; Arifin, Mahendra & Ciptaningtyas 2009) over a root dictionary.  themepipe
wraps one instance per process:

- protected words (names, places, domain words) are returned unchanged;
- an override table replaces known wrong stems (``pemerintahan`` -> ``pemerintah``, not
  *perintah*); both also apply to a word with a clitic (``pemerintahnya``);
- only plain lowercase ASCII words reach PySastrawi, and they reach its word-level
  ``stem_word`` directly: its text normaliser would split ``10.000`` and drop accented
  letters, so numbers and other words keep their norm as stem;
- a plain prefix (di-, ke-, se-) with a suffix is preferred over PySastrawi's deeper cut
  when it leaves a longer dictionary root (``dikurangi`` -> *kurang*, where PySastrawi
  also strips the proclitic ku- and returns *rang*);
- stems are cached per word type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping

#: Clitics, longest first; they stay attached to the token and are stripped by stemming.
CLITICS = ("nya", "lah", "kah", "pun", "ku", "mu")
_PLAIN = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
#: Plain prefixes and the suffixes they combine with, longest first.
_CONFIXES = {"di": ("kan", "i", ""), "ke": ("an", ""), "se": ("",)}


@functools.lru_cache(maxsize=1)
def sastrawi_stemmer():
    """The process-wide PySastrawi stemmer (without its text normaliser)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer().delegatedStemmer


@functools.lru_cache(maxsize=1)
def root_dictionary() -> frozenset[str]:
    """PySastrawi's root dictionary (``kata-dasar.txt``), about 30,000 roots."""
    return frozenset(w for w in sastrawi_stemmer().dictionary.words if w)


def strip_clitic(word: str, min_base: int = 3) -> tuple[str, str] | None:
    """Split ``word`` into (base, clitic) for the first clitic it ends with, else None."""
    for clitic in CLITICS:
        if word.endswith(clitic) and len(word) - len(clitic) >= min_base:
            return word[: -len(clitic)], clitic
    return None


class Stemmer:
    """Stem normalised words.

    Parameters
    ----------
    overrides : mapping of str to str, optional
        Word -> stem replacing the stemmer's answer.
    protected : collection of str, optional
        Words that are never stemmed.
    enabled : bool, default True
        False makes every stem equal its norm.
    """

    def __init__(self, overrides: Mapping[str, str] | None = None,
                 protected: Collection[str] = (), enabled: bool = True) -> None:
        self.overrides = dict(overrides or {})
        self.protected = frozenset(protected)
        self.enabled = enabled
        self.roots = root_dictionary()
        self._cache: dict[str, str] = {}

    def sastrawi(self, word: str) -> str:
        """PySastrawi's root of a plain lowercase word, with the confix correction.

        Words that are not plain ASCII letters (with inner hyphens) are returned as is.
        """
        root = self._cache.get(word)
        if root is None:
            root = word
            if len(word) > 3 and word not in self.roots and _PLAIN.match(word):
                root = sastrawi_stemmer().stem_word(word)
                if root != word:
                    alternative = self._confix_root(word)
                    if alternative and len(alternative) > len(root):
                        root = alternative
            self._cache[word] = root
        return root

    def _confix_root(self, word: str) -> str | None:
        """Root left by one plain prefix and the suffixes it combines with.

        di- takes -kan, -i or nothing; ke- takes -an or nothing; se- takes nothing (a
        clitic may follow).  The first suffix that leaves a dictionary root counts.
        """
        bases = [word]
        split = strip_clitic(word, min_base=4)
        if split:
            bases.append(split[0])
        best = None
        for base in bases:
            suffixes = _CONFIXES.get(base[:2])
            if suffixes is None:
                continue
            body = base[2:]
            for suffix in suffixes:
                if body.endswith(suffix):
                    core = body[: len(body) - len(suffix)]
                    if len(core) >= 3 and core in self.roots:
                        if best is None or len(core) > len(best):
                            best = core
                        break
        return best

    def is_derived(self, word: str) -> bool:
        """True when PySastrawi analyses ``word`` as an affixed form of another root."""
        root = self.sastrawi(word)
        return root != word and root in self.roots

    def guarded(self, word: str) -> str | None:
        """The override or protected stem of ``word`` (or of it without a clitic)."""
        stem = self.overrides.get(word)
        if stem is not None:
            return stem
        if word in self.protected:
            return word
        split = strip_clitic(word)
        if split:
            base = split[0]
            stem = self.overrides.get(base)
            if stem is not None:
                return stem
            if base in self.protected:
                return base
        return None

    def root_of(self, word: str) -> str:
        """Root of a standard word: override, protection, else PySastrawi (even when
        stemming is disabled; colloquial morphology needs it)."""
        return self.guarded(word) or self.sastrawi(word)

    def stem(self, norm: str, root: str | None = None, surface: str | None = None) -> str:
        """Stem a normalised word.

        Parameters
        ----------
        norm : str
            The normalised (lowercase) word.
        root : str, optional
            Root found by colloquial morphology; used instead of PySastrawi.
        surface : str, optional
            The folded word as written; overrides and protection apply to it too.

        Returns
        -------
        str
            The stem (lowercase); ``norm`` itself when stemming is disabled.
        """
        if not self.enabled:
            return norm
        for word in (surface, norm):
            if word is not None:
                guarded = self.guarded(word)
                if guarded is not None:
                    return guarded
        first, dash, second = norm.partition("-")
        if dash and first == second.removesuffix("nya") and "-" not in second:
            # a reduplication (perajin-perajin) stems like its base, guards included
            return self.stem(first, None, None)
        if root is not None:
            return self.guarded(root) or root
        return self.sastrawi(norm)
