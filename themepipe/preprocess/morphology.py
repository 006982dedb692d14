"""Colloquial verb morphology of spoken Indonesian, undone by rule.

Spoken Indonesian (Jakarta-style colloquial, and Javanese-influenced speech in
Yogyakarta) marks verbs with affixes that standard stemmers do not know:

==================  ===============================  ===========================
form                example                          standard equivalent
==================  ===============================  ===========================
nasal N-            ngurus, nulis, nyari, mukul      meN-: mengurus, menulis
nge- (short roots)  ngecat, ngerasa                  meN-: mengecat, merasa
Javanese N-         mbayar, ndaftar, nggambar, njual meN-: membayar, mendaftar
suffix -in          bacain                           -kan: bacakan
N-...-in            ngurusin, dengerin, nyariin      meN-...-kan: mencarikan
di-...-in           dikerjain, dipikirin             di-...-kan: dikerjakan
Javanese -ke, -ake  dijelaske, njelaske, nerusake    -kan: dijelaskan, meneruskan
ke-...-an           ketauan                          ke-...-an: ketahuan
ke- (= ter-)        keinget                          ter-: teringat
di- + colloquial    dicatet                          di-: dicatat
==================  ===============================  ===========================

Nasal prefixes replace a root's first consonant (k, p, t, s, c, h) or are added before
a vowel or a voiced consonant; so ``nyari`` may come from *cari* or *sari*.  Every
candidate root is checked against a root dictionary (PySastrawi's ``kata-dasar.txt``)
or, for colloquial roots such as ``denger``, through the normalisation lexicon
(``denger`` -> ``dengar``); a word is analysed only when a candidate passes, so words
that merely look affixed but are roots themselves (``ingin``, ``main``, ``mungkin``,
``nyaman``, ``nyata``) are never touched — the caller checks the dictionary first.

``-in`` (and Javanese ``-ke``) is mapped to ``-kan``, its more frequent standard
equivalent (``-i`` is the other: ``ngurusin`` ~ *mengurusi*); the stem is taken from the
root either way.  ``ke-`` alone and ``di-`` alone are only undone when the root is a
colloquial form of the lexicon (``keinget``, ``dicatet``), because with a standard root
they are standard words that PySastrawi already stems.

References: Sneddon, J. N. (2006), *Colloquial Jakartan Indonesian*, Pacific
Linguistics, ch. 2 (verb morphology); Ewing, M. (2005), "Colloquial Indonesian", in
Adelaar & Himmelmann (eds.), *The Austronesian Languages of Asia and Madagascar*.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

VOWELS = frozenset("aeiou")
#: Colloquial verb suffixes, all mapped to standard -kan: Jakarta -in, Javanese -ke/-ake.
SUFFIXES = ("in", "ke", "ake")


@dataclass(frozen=True)
class Analysis:
    """A colloquial word analysed into a root and its standard form.

    Attributes
    ----------
    standard : str
        The standard Indonesian form (``ngurusin`` -> ``menguruskan``).
    root : str
        The dictionary root (``urus``); the stem of the word.
    via_lexicon : bool
        True when the root was found through the lexicon (``denger`` -> ``dengar``): strong
        evidence that the word is colloquial.
    pattern : str
        Which affixes were undone: ``N-``, ``-in``, ``N-in``, ``di-in`` (and the same
        with ``ke``/``ake`` for ``in``), ``ke-an``, ``ke-``, ``di-``.
    """

    standard: str
    root: str
    via_lexicon: bool
    pattern: str


def men_form(root: str) -> str:
    """Standard ``meN-`` form of a root (``tulis`` -> ``menulis``, ``cat`` -> ``mengecat``).

    Follows the allomorphy of the standard prefix: ``meng-`` before vowels, k, g, h
    (k dropped); ``mem-`` before p (dropped), b, f, v; ``men-`` before t (dropped), d,
    c, j, z; ``meny-`` for s (dropped); ``me-`` before l, m, n, r, w, y; ``menge-`` for
    one-syllable roots.  Consonant clusters keep their first consonant (``mentransfer``).
    """
    if _syllables(root) == 1:
        return "menge" + root
    first, second = root[0], root[1:2]
    cluster = second not in VOWELS and first not in VOWELS
    if first in VOWELS or first in "gh":
        return "meng" + root
    if first == "k":
        return "meng" + (root if cluster else root[1:])
    if first == "p":
        return "mem" + (root if cluster else root[1:])
    if first in "bfv":
        return "mem" + root
    if first == "t":
        return "men" + (root if cluster else root[1:])
    if first in "dcjz":
        return "men" + root
    if first == "s":
        return ("men" + root) if cluster else "meny" + root[1:]
    return "me" + root


def _syllables(word: str) -> int:
    """Vowel count, a word-final diphthong (ai, au, oi) counting once."""
    count = sum(ch in VOWELS for ch in word)
    return count - 1 if word[-2:] in ("ai", "au", "oi") else count


def nasal_roots(word: str) -> Iterator[str]:
    """Candidate roots of a word with a colloquial nasal prefix, most likely first.

    ``ng``+vowel gives vowel-, k- and h-initial roots, then ``nge`` is stripped whole
    (``ngeluarin`` is *keluar*, ``ngecat`` is *cat*); ``ny``+vowel gives c- then
    s-initial roots; ``m``+vowel p-; ``n``+vowel t-; Javanese ``mb``, ``nd``, ``nj``,
    ``ngg`` keep the root's consonant.  Words under five letters are not analysed.
    """
    if len(word) < 5:
        return
    if word.startswith("ng"):
        rest = word[2:]
        if rest[:1] in VOWELS:
            # vowel roots first, as PySastrawi reads standard meng+vowel (mengurus)
            yield rest
            yield "k" + rest
            yield "h" + rest
            if rest.startswith("e"):
                yield rest[1:]
        elif rest[:1] in ("g", "k", "h"):
            yield rest
    elif word.startswith("ny"):
        rest = word[2:]
        if rest[:1] in VOWELS:
            yield "c" + rest
            yield "s" + rest
    elif word.startswith("m"):
        rest = word[1:]
        if rest[:1] in VOWELS:
            yield "p" + rest
        elif rest[:1] == "b":
            yield rest
    elif word.startswith("n"):
        rest = word[1:]
        if rest[:1] in VOWELS:
            yield "t" + rest
        elif rest[:1] in ("d", "j", "c"):
            yield rest


class ColloquialMorphology:
    """Analyse colloquial affixed verbs into root and standard form.

    Parameters
    ----------
    roots : collection of str
        The root dictionary (PySastrawi's ``kata-dasar.txt``), lowercase.
    lexicon : mapping of str to str
        The normalisation lexicon.  A candidate found here counts when its standard form
        is a root (``denger`` -> ``dengar``) or stems to one (``ngasih`` -> ``memberi``
        -> *beri*).
    stem : callable, optional
        Stemmer of standard words, used for lexicon values that are not roots; default:
        none (such values do not count).
    min_root : int, default 3
        Shortest root accepted, in letters.
    """

    def __init__(self, roots: Collection[str], lexicon: Mapping[str, str],
                 stem: Callable[[str], str] | None = None, min_root: int = 3) -> None:
        self.roots = roots
        self.lexicon = lexicon
        self.stem = stem
        self.min_root = min_root

    def resolve(self, candidate: str) -> tuple[str, str, bool] | None:
        """``(root, standard form, via_lexicon)`` when ``candidate`` is a word, else None."""
        if len(candidate) < self.min_root:
            return None
        standard = self.lexicon.get(candidate)
        if standard is not None:
            if standard in self.roots:
                return standard, standard, True
            if self.stem is not None:
                root = self.stem(standard)
                if root != standard and root in self.roots:
                    return root, standard, True
            return None
        if candidate in self.roots:
            return candidate, candidate, False
        return None

    def _nasal(self, word: str) -> tuple[str, str, bool] | None:
        for candidate in nasal_roots(word):
            found = self.resolve(candidate)
            if found:
                return found
        return None

    def candidates(self, word: str) -> Iterator[Analysis]:
        """All analyses of ``word``, most plausible first (see the module table).

        A nasal form of the whole word comes before the suffixed analyses, so that a
        root ending in *-in* keeps it (``ngeviolin`` is *violin*, not *viol* + -in).
        """
        n = len(word)
        suffixes = [s for s in SUFFIXES if word.endswith(s) and n >= len(s) + 3]
        for suffix in suffixes:
            if word.startswith("di") and n >= len(suffix) + 5:
                found = self.resolve(word[2:-len(suffix)])
                if found:
                    yield Analysis("di" + found[0] + "kan", found[0], found[2],
                                   "di-" + suffix)
        found = self._nasal(word)
        if found:
            yield Analysis(men_form(found[0]), found[0], found[2], "N-")
        for suffix in suffixes:
            core = word[:-len(suffix)]
            found = self.resolve(core)
            # a bare suffix over a dictionary root needs 4+ letters and -in (pancake is
            # not panca + Javanese -ke)
            if found and (found[2] or (suffix == "in" and len(found[0]) >= 4)):
                # an affixed lexicon form (ngasih -> memberi) takes meN-...-kan
                base = found[1] if found[1] == found[0] else men_form(found[0])
                yield Analysis(base + "kan", found[0], found[2], "-" + suffix)
            found = self._nasal(core)
            if found:
                yield Analysis(men_form(found[0]) + "kan", found[0], found[2],
                               "N-" + suffix)
        if word.startswith("ke") and n >= 6:
            if word.endswith("an"):
                found = self.resolve(word[2:-2])
                if found:
                    yield Analysis("ke" + found[0] + "an", found[0], found[2], "ke-an")
            found = self.resolve(word[2:])
            if found and found[2]:
                yield Analysis("ter" + found[0], found[0], found[2], "ke-")
        if word.startswith("di") and n >= 6:
            found = self.resolve(word[2:])
            if found and found[2]:
                yield Analysis("di" + found[0], found[0], found[2], "di-")

    def analyze(self, word: str) -> Analysis | None:
        """Best analysis: the first found through the lexicon, else the first found.

        Parameters
        ----------
        word : str
            Lowercase word that is neither a root nor a lexicon entry itself.

        Returns
        -------
        Analysis or None
        """
        first = None
        for analysis in self.candidates(word):
            if analysis.via_lexicon:
                return analysis
            first = first or analysis
        return first
