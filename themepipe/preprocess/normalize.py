"""Normalisation of spoken Indonesian words to one canonical standard form.

A word (lowercased and accent-folded by the caller) goes through these steps; the first
that applies decides:

1. a protected word stays as it is (``gendeng`` is a place, not Javanese "crazy");
2. the lexicon (data: ``preprocess.lexicon`` and ``lexicon_extra``, optionally layered
   on spacy-lookups-data's ``id_lexeme_norm``) maps colloquial and Javanese forms to
   standard ones: ``nggak``/``mboten``/``ora`` -> ``tidak``;
3. a hyphenated word is normalised part by part (``temen-temen`` -> ``teman-teman``),
   and a hyphen before a clitic is dropped (``rumah-nya`` -> ``rumahnya``);
4. reduplication written with a digit becomes the hyphenated form (``beda2`` ->
   ``beda-beda``, ``hari2nya`` -> ``hari-harinya``);
5. a dictionary root stays (``ingin``, ``main``, ``nyaman``);
6. a lexicon word with a clitic keeps the clitic (``udahlah`` -> ``sudahlah``), and
   the Javanese possessive -e/-ne becomes -nya (``omahe`` -> ``rumahnya``,
   ``proyeke`` -> ``proyeknya``);
7. letters written three or more times are collapsed and the word tried again
   (``gituuu`` -> ``gitu`` -> ``begitu``);
8. colloquial verb morphology (:mod:`.morphology`): ``ngurusin`` -> ``menguruskan`` with
   root *urus*.  An analysis whose root came through the lexicon is taken; one through
   the dictionary alone only when PySastrawi does not already read the word as a
   standard affixed form (``terjalin`` is *jalin*, not colloquial *terjal* + -in), or
   when it is a di-...-in form with a longer root than PySastrawi's.

Clitic policy: ``-nya``, ``-lah``, ``-kah``, ``-pun``, ``-ku``, ``-mu`` stay attached to
their word (one token, offsets of the whole word, the norm keeps them); stemming removes
them, and stop-word lookup also tries the word without its clitic.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from .morphology import ColloquialMorphology
from .stemmer import CLITICS, Stemmer, strip_clitic

_DIGIT_REDUPLICATION = re.compile(r"^([^\W\d_]{2,})2([^\W\d_]*)$")
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")


class Normalizer:
    """Map a word to its canonical standard form (and its root when one was found).

    Parameters
    ----------
    lexicon : mapping of str to str
        Colloquial form -> standard form, folded lowercase single words.
    protected : collection of str
        Words left as they are.
    stemmer : Stemmer
        Gives the root dictionary and PySastrawi's analysis of standard affixed words.
    lookups : mapping-like, optional
        A lower-priority table with ``.get(word)`` (spacy-lookups-data ``lexeme_norm``).
    """

    def __init__(self, lexicon: Mapping[str, str], protected: Collection[str],
                 stemmer: Stemmer, lookups=None) -> None:
        self.lexicon = lexicon
        self.protected = frozenset(protected)
        self.stemmer = stemmer
        self.lookups = lookups
        self.roots = stemmer.roots
        self.morphology = ColloquialMorphology(self.roots, _LexiconView(self.lookup),
                                               stem=stemmer.root_of)

    def lookup(self, word: str) -> str | None:
        """The lexicon's standard form of ``word``, or None."""
        standard = self.lexicon.get(word)
        if standard is None and self.lookups is not None:
            value = self.lookups.get(word)
            if isinstance(value, str) and value and " " not in value:
                standard = value.lower()
        return standard

    def normalize(self, word: str, _retry: bool = True) -> tuple[str, str | None]:
        """Normalise one folded lowercase word.

        Parameters
        ----------
        word : str
            Lowercase, accent-folded word (letters, digits, inner hyphens).

        Returns
        -------
        norm : str
            The canonical standard form.
        root : str or None
            The root found by colloquial morphology (the word's stem), else None.
        """
        if word in self.protected:
            return word, None
        standard = self.lookup(word)
        if standard is not None:
            return standard, None
        if "-" in word.strip("-"):
            parts = word.split("-")
            if len(parts) >= 2 and parts[-1] in CLITICS and parts[-2]:
                return self.normalize("-".join(parts[:-2] + [parts[-2] + parts[-1]]))
            parts = [self.normalize(part)[0] if part else part for part in parts]
            return "-".join(parts), None
        match = _DIGIT_REDUPLICATION.match(word)
        if match:
            base, tail = match.groups()
            return self.normalize(f"{base}-{base}{tail}")
        if word in self.roots:
            return word, None
        split = strip_clitic(word, min_base=2)
        if split:
            base, clitic = split
            if base in self.protected:
                return word, None
            standard = self.lookup(base)
            if standard is not None:
                return standard + clitic, None
        standard = self._javanese_possessive(word)
        if standard is not None:
            return standard, None
        if _retry and _ELONGATION.search(word):
            return self.normalize(_ELONGATION.sub(r"\1", word), _retry=False)
        if not (word.isascii() and word.isalpha()):
            return word, None
        analysis = self.morphology.analyze(word)
        if analysis is not None and self._accept(word, analysis):
            return analysis.standard, analysis.root
        return word, None

    def _javanese_possessive(self, word: str) -> str | None:
        """``omahe`` -> ``rumahnya``: Javanese -ne (after a vowel) or -e (after a
        consonant) is the possessive -nya.

        The base must be a lexicon word or an affixed standard word (``bantuane``); a
        plain root counts only before -ne (``carane``), because loanwords end in a
        silent -e over a root (``mobile``, ``orange``, ``private``).
        """
        for suffix in ("ne", "e"):
            base = word[: -len(suffix)]
            if not word.endswith(suffix) or len(base) < 3:
                continue
            if suffix == "ne" and base[-1] not in "aiou":
                continue
            standard = self.lookup(base)
            if standard is None and ((suffix == "ne" and base in self.roots)
                                     or self.stemmer.is_derived(base)):
                standard = base
            if standard is not None:
                return standard + "nya"
        return None

    def _accept(self, word: str, analysis) -> bool:
        """Take a colloquial analysis over PySastrawi's reading of ``word``?"""
        if analysis.via_lexicon or not self.stemmer.is_derived(word):
            return True
        # di-...-in marks both ends; PySastrawi's reading of a standard di- word ending
        # in -in keeps a longer root (dijalin: jalin), a shorter one is a deeper cut
        # through stacked prefixes (dikekelin: di-ke-ke-lin)
        return (analysis.pattern in ("di-in", "di-ke", "di-ake")
                and len(analysis.root) > len(self.stemmer.sastrawi(word)))


class _LexiconView:
    """Read-only ``.get`` over :meth:`Normalizer.lookup` (lexicon and lookups table)."""

    def __init__(self, lookup) -> None:
        self._lookup = lookup

    def get(self, word: str, default=None):
        value = self._lookup(word)
        return default if value is None else value
