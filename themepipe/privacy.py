"""Pseudonymisation of text in outputs meant for sharing (``privacy.redact``).

Three kinds of mention are replaced, everything else is left byte for byte:

* **informant names** -- every word (3+ letters) of an informant's ``name`` in
  ``informants.csv``, matched as a whole word and case-insensitively, plus the short
  forms an informant is called by in a speaker label that starts with an honorific
  (``Pak Tris (Lurah)`` makes ``Tris`` a short form of that informant). Adjacent words
  of one informant become one pseudonym: ``Sutrisno Hadi`` -> ``[inf01]``.
* **honorific mentions** -- an honorific (``Pak``, ``Bu``, ``Bapak``, ``Ibu``, ``Mas``,
  ``Mbak``, ``Mbah`` in any case; a few regional ones such as ``Pakde``, ``Kang`` when
  capitalised) followed by one to three capitalised words on the same line. The
  honorific is kept, the name is replaced: ``Pak Tris`` -> ``Pak [inf01]``,
  ``Pak Karto`` -> ``Pak [N-14429]`` (with the bundled informants table). Words that
  are titles (``Lurah``, ``Dukuh``, ``Bupati`` ...) or that appear in the informants
  table's other columns (places such as a dusun, offices such as ``Kajigelem``) and in
  no name are not names, so ``Pak Lurah`` and ``Pak Dukuh Kalisoka`` stay as written.
* **short forms in address** -- a capitalised word of 3+ letters between ``", "`` and
  a punctuation mark (``Iyo, Ton.``, ``Melu wae, Yem, ...``) that is part of exactly one
  informant's name word (Anton, Lasiyem) becomes that informant's pseudonym.

Pseudonyms
----------
An informant's pseudonym is ``[<informant_id>]`` -- the id the shared tables already
use, so a quote's text and its ``informant_id`` column agree. A mention resolves to an
informant when its words are that informant's name words or short forms, or (for a
word of 4+ letters that matches nothing exactly) a substring of exactly one informant's
name word (``Parmi`` for ``Suparmi``, ``Bagyo`` for ``Subagyo``). Anyone else becomes
``[N-ddddd]``: five digits of a keyed hash of the lower-cased name, keyed by the
informants table's names, so the pseudonym is the same in every output and every run
with the same informants table, does not depend on order of appearance, and cannot be
recomputed from a guessed name without the (private) informants table. No pseudonym
contains a name word (an informant id that does gets an ``[N-ddddd]`` pseudonym).

Limits: a non-informant named without an honorific (``Karto bilang ...``) is not found;
that needs named-entity recognition. Name words are matched case-insensitively, so a
common word that is also a name word (``sugeng`` in ``sugeng rawuh``, ``lestari``) is
replaced too -- privacy wins over readability.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["HONORIFICS", "REGIONAL_HONORIFICS", "TITLES", "Pseudonymiser", "RedactedText"]

HONORIFICS = frozenset({"pak", "bu", "bapak", "ibu", "mas", "mbak", "mbah"})
"""Honorifics that introduce a person's name (lower case; matched in any case)."""

REGIONAL_HONORIFICS = frozenset({
    "pakde", "bude", "budhe", "pakdhe", "kang", "mbok", "mbakyu", "dik", "bang", "cak",
    "tante", "eyang", "om",
})
"""Further honorifics, matched only when capitalised (lower case they are often other
words, e.g. Javanese ``ning`` 'in', so those are left out altogether)."""

TITLES = frozenset({
    "lurah", "dukuh", "kadus", "carik", "bupati", "camat", "kades", "sekdes", "kepala",
    "kaur", "kasi", "kasubag", "kabid", "kabag", "kadis", "ketua", "sekretaris",
    "bendahara", "guru", "haji", "hajah", "dokter", "dosen", "kyai", "kiai", "ustad",
    "ustadz", "mantri", "bidan", "polisi", "wakil", "gubernur", "menteri",
    "presiden", "direktur", "mandor", "juragan", "rt", "rw", "dewan", "dinas", "anu",
    "mantan", "almarhum", "almarhumah", "alm", "sinten", "siapa", "ini", "itu", "nggih",
    "ya", "iya", "saya", "kula", "kami", "kita", "juga", "yang", "dan", "tapi", "lho",
    "lha", "wah", "nah", "kok", "ayo", "kan", "sih", "toh", "deh", "dong", "oh", "eh",
})
"""Capitalised words after an honorific that are not a name (titles, fillers)."""

_WORD = re.compile(r"[^\W\d_]+")
_SAME_LINE_SPACE = re.compile(r"[ \t\u00a0]+")
_MAX_NAME_WORDS = 3
_MIN_WORD = 3
_MIN_SUBSTRING = 4
_VOCATIVE = re.compile(r"[.,!?]")


@dataclass(frozen=True)
class RedactedText:
    """A pseudonymised text with an exact map between its offsets and the original's.

    Offsets are in Unicode code points (Python ``str`` indices), end exclusive.

    Attributes
    ----------
    text : str
        The redacted text.
    original : str
        The text before redaction.
    replacements : tuple of (int, int, int, int)
        ``(orig_start, orig_end, red_start, red_end)`` of each replaced span, sorted,
        non-overlapping; ``text[red_start:red_end]`` is the pseudonym that replaced
        ``original[orig_start:orig_end]``.
    """

    text: str
    original: str
    replacements: tuple[tuple[int, int, int, int], ...] = ()
    _orig_starts: list[int] = field(init=False, repr=False, compare=False)
    _red_starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_orig_starts", [r[0] for r in self.replacements])
        object.__setattr__(self, "_red_starts", [r[2] for r in self.replacements])

    @staticmethod
    def _map(pos: int, starts: list[int], reps, src: int, dst: int, side: str) -> int:
        # reps[k] = (orig_start, orig_end, red_start, red_end); src/dst pick the columns
        k = bisect.bisect_right(starts, pos) - 1
        if k < 0:
            return pos
        rep = reps[k]
        s, e = rep[src], rep[src + 1]
        if pos == s:
            return rep[dst]
        if pos < e:
            return rep[dst] if side == "left" else rep[dst + 1]
        return rep[dst + 1] + (pos - e)

    def to_redacted(self, pos: int, side: str = "left") -> int:
        """Map an offset of the original text onto the redacted text.

        Parameters
        ----------
        pos : int
            Offset in ``original``, ``0 <= pos <= len(original)``.
        side : {"left", "right"}
            Where an offset strictly inside a replaced name goes: the pseudonym's start
            (``left``, for a span's start) or its end (``right``, for a span's end).

        Returns
        -------
        int
            Offset in ``text``. Text outside replaced names maps onto the same text.
        """
        if not 0 <= pos <= len(self.original):
            raise ValueError(f"offset {pos} outside 0..{len(self.original)}")
        return self._map(pos, self._orig_starts, self.replacements, 0, 2, side)

    def to_original(self, pos: int, side: str = "left") -> int:
        """Map an offset of the redacted text back onto the original text.

        Parameters
        ----------
        pos : int
            Offset in ``text``, ``0 <= pos <= len(text)``.
        side : {"left", "right"}
            Where an offset strictly inside a pseudonym goes: the replaced name's start
            or its end.

        Returns
        -------
        int
            Offset in ``original``.
        """
        if not 0 <= pos <= len(self.text):
            raise ValueError(f"offset {pos} outside 0..{len(self.text)}")
        return self._map(pos, self._red_starts, self.replacements, 2, 0, side)

    def span_to_redacted(self, start: int, end: int) -> tuple[int, int]:
        """Map an original span, widened to whole pseudonyms where it cuts one."""
        return self.to_redacted(start, "left"), max(self.to_redacted(start, "left"),
                                                     self.to_redacted(end, "right"))

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a redacted span back, widened to whole names where it cuts a pseudonym."""
        return self.to_original(start, "left"), max(self.to_original(start, "left"),
                                                    self.to_original(end, "right"))


def _is_honorific(word: str) -> bool:
    folded = word.casefold()
    return folded in HONORIFICS or (folded in REGIONAL_HONORIFICS and word[:1].isupper())


def _words(text: str) -> list[str]:
    return [m.group(0) for m in _WORD.finditer(text)]


class Pseudonymiser:
    """Replace informant names and honorific-plus-name mentions by stable pseudonyms.

    Build it with :meth:`from_informants`; see the module docstring for the rules.

    Parameters
    ----------
    names : dict of str to str
        ``informant_id -> name`` (honorifics not part of the name).
    aliases : dict of str to list of str, optional
        ``informant_id -> short forms`` the informant is called by.
    non_names : iterable of str, optional
        Words that are not person names (places, offices) unless they are name words.
    """

    def __init__(self, names: dict[str, str], aliases: dict[str, list[str]] | None = None,
                 non_names: Iterable[str] = ()) -> None:
        self.names = dict(sorted(names.items()))
        self.aliases = {k: sorted(set(v)) for k, v in sorted((aliases or {}).items())}
        self._by_word: dict[str, set[str]] = {}
        for informant_id, name in self.names.items():
            for word in _words(name):
                self._by_word.setdefault(word.casefold(), set()).add(informant_id)
        for informant_id, words in self.aliases.items():
            for word in words:
                self._by_word.setdefault(word.casefold(), set()).add(informant_id)
        self._bare = {w: ids for w, ids in self._by_word.items() if len(w) >= _MIN_WORD}
        self._non_names = {w.casefold() for w in non_names} - set(self._by_word)
        key_text = "\n".join(f"{k}\t{v}" for k, v in self.names.items())
        self._key = hashlib.sha256(("themepipe-pseudonym\n" + key_text).encode()).digest()
        self._pseudonyms = {k: self._informant_pseudonym(k) for k in self.names}

    @classmethod
    def from_informants(cls, informants: pd.DataFrame) -> Pseudonymiser:
        """Build a pseudonymiser from an informants table.

        Parameters
        ----------
        informants : DataFrame
            ``informants.csv`` rows; needs ``informant_id`` and ``name``; uses
            ``speaker_label`` (short forms after an honorific) and the other text
            columns (words that are not names) when present. Repeated informants and
            empty names are fine.

        Returns
        -------
        Pseudonymiser
        """
        names: dict[str, str] = {}
        aliases: dict[str, list[str]] = {}
        non_names: set[str] = set()
        skip = {"informant_id", "name", "transcript", "speaker_label"}
        for row in informants.to_dict("records"):
            informant_id = str(row.get("informant_id", "") or "").strip()
            name = row.get("name")
            if not informant_id:
                continue
            if isinstance(name, str) and name.strip():
                earlier = names.get(informant_id)
                names[informant_id] = (name.strip() if earlier in (None, name.strip())
                                       else f"{earlier} {name.strip()}")
            label = row.get("speaker_label")
            if isinstance(label, str):
                short = _label_short_form(label)
                if short:
                    aliases.setdefault(informant_id, []).extend(short)
                inner = re.findall(r"\(([^)]*)\)", label)
                for part in inner:
                    non_names.update(_words(part))
            for column, value in row.items():
                if column not in skip and isinstance(value, str):
                    non_names.update(_words(value))
        return cls(names, aliases, non_names)

    # -- pseudonyms ---------------------------------------------------------------------
    def _informant_pseudonym(self, informant_id: str) -> str:
        words = {w.casefold() for w in _words(informant_id)}
        if words & set(self._bare):  # an id that spells a name must not be shown
            return self._other_pseudonym("informant " + informant_id)
        return f"[{informant_id}]"

    def _other_pseudonym(self, name: str) -> str:
        key = " ".join(w.casefold() for w in _words(name))
        digest = hashlib.blake2b(key.encode(), key=self._key[:32], digest_size=8).digest()
        return f"[N-{int.from_bytes(digest, 'big') % 100000:05d}]"

    def pseudonym(self, name: str) -> str:
        """Return the pseudonym of a person's name (without honorific).

        Parameters
        ----------
        name : str
            One to three words, e.g. ``"Tris"`` or ``"Sri Lestari"``.

        Returns
        -------
        str
            ``[<informant_id>]`` when the words identify one informant, else
            ``[N-ddddd]``.
        """
        informant_id = self._resolve([w.casefold() for w in _words(name)], substring=True)
        if informant_id is not None:
            return self._pseudonyms[informant_id]
        return self._other_pseudonym(name)

    def _resolve(self, words: list[str], substring: bool) -> str | None:
        candidates: set[str] | None = None
        for word in words:
            ids = self._by_word.get(word)
            if ids is None and substring and len(word) >= _MIN_SUBSTRING:
                ids = {i for w, wids in self._by_word.items() if word in w for i in wids}
            if not ids:
                continue
            candidates = set(ids) if candidates is None else candidates & ids
        if candidates and len(candidates) == 1:
            return next(iter(candidates))
        return None

    # -- redaction ----------------------------------------------------------------------
    def _is_name_word(self, word: str) -> bool:
        folded = word.casefold()
        if folded in self._by_word:
            return True
        return (word[:1].isupper() and folded not in TITLES
                and not _is_honorific(word) and folded not in self._non_names)

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        tokens = list(_WORD.finditer(text))
        spans: list[tuple[int, int, str]] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if _is_honorific(tok.group(0)):
                j = i + 1
                name_toks = []
                while (j < len(tokens) and len(name_toks) < _MAX_NAME_WORDS
                       and _SAME_LINE_SPACE.fullmatch(text[tokens[j - 1].end():tokens[j].start()])
                       and self._is_name_word(tokens[j].group(0))):
                    name_toks.append(tokens[j])
                    j += 1
                if name_toks:
                    start, end = name_toks[0].start(), name_toks[-1].end()
                    spans.append((start, end, self.pseudonym(text[start:end])))
                    i = j
                    continue
                i += 1
                continue
            folded = tok.group(0).casefold()
            if folded in self._bare:
                j = i + 1
                words = [folded]
                while (j < len(tokens) and tokens[j].group(0).casefold() in self._bare
                       and _SAME_LINE_SPACE.fullmatch(text[tokens[j - 1].end():tokens[j].start()])):
                    words.append(tokens[j].group(0).casefold())
                    j += 1
                start, end = tok.start(), tokens[j - 1].end()
                informant_id = self._resolve(words, substring=False)
                if informant_id is not None:
                    spans.append((start, end, self._pseudonyms[informant_id]))
                else:
                    spans.append((start, end, self._other_pseudonym(" ".join(words))))
                i = j
                continue
            informant_id = self._vocative(text, tok)
            if informant_id is not None:
                spans.append((tok.start(), tok.end(), self._pseudonyms[informant_id]))
            i += 1
        return spans

    def _vocative(self, text: str, tok: re.Match) -> str | None:
        """The informant a short form used in address stands for (``Iyo, Ton.``)."""
        word = tok.group(0)
        if (len(word) < _MIN_WORD or not word[:1].isupper()
                or not _VOCATIVE.match(text, tok.end())
                or text[max(0, tok.start() - 2):tok.start()] != ", "
                or not self._is_name_word(word)):
            return None
        folded = word.casefold()
        ids = {i for w, wids in self._by_word.items() if folded in w for i in wids}
        return next(iter(ids)) if len(ids) == 1 else None

    def redact_mapped(self, text: str) -> RedactedText:
        """Pseudonymise ``text`` and keep the offset map.

        Parameters
        ----------
        text : str
            Any text (a transcript's decoded source, a quote, a cell).

        Returns
        -------
        RedactedText
            ``.text`` is the redacted text; ``.to_redacted``/``.to_original`` map
            offsets (code points, end exclusive) both ways. Any original span that does
            not overlap a replaced name maps onto identical text.
        """
        pieces: list[str] = []
        replacements: list[tuple[int, int, int, int]] = []
        prev = 0
        out_len = 0
        for start, end, pseudonym in self._spans(text):
            pieces.append(text[prev:start])
            out_len += start - prev
            pieces.append(pseudonym)
            replacements.append((start, end, out_len, out_len + len(pseudonym)))
            out_len += len(pseudonym)
            prev = end
        pieces.append(text[prev:])
        return RedactedText("".join(pieces), text, tuple(replacements))

    def redact(self, text: str) -> str:
        """Return ``text`` with names and honorific-plus-name mentions pseudonymised.

        Parameters
        ----------
        text : str

        Returns
        -------
        str
        """
        if not isinstance(text, str) or not text:
            return text
        return self.redact_mapped(text).text

    def redact_series(self, texts: pd.Series) -> pd.Series:
        """Redact every string of a Series (non-strings pass through)."""
        return texts.map(lambda t: self.redact(t) if isinstance(t, str) else t)


def _label_short_form(label: str) -> list[str]:
    """Short-form name words of a speaker label that starts with an honorific."""
    outer = re.sub(r"\([^)]*\)", " ", label)
    words = _words(outer)
    if len(words) < 2 or not _is_honorific(words[0]):
        return []
    return [w for w in words[1:] if w.casefold() not in TITLES
            and not _is_honorific(w) and len(w) >= 2]
