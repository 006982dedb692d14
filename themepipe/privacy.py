"""Pseudonymisation of text in outputs meant for sharing (``privacy.redact``).

Three kinds of mention are replaced, everything else is left byte for byte:

* **informant names** -- every word (3+ letters) of an informant's ``name`` in
  ``informants.csv``, matched as a whole word on NFC-normalised, case-folded text (so
  ``E`` + combining acute matches ``\u00c9``), plus the short forms an informant is
  called by in a speaker label: the label's name words (``Kiki (K)`` -> ``Kiki``,
  ``Pak Tris (Lurah)`` -> ``Tris``, ``Narasumber (Bu Tini)`` -> ``Tini``; not role
  words such as ``Narasumber``/``Informan``/``Peneliti``, titles, or one- and
  two-letter abbreviations). Words joined by an apostrophe or hyphen are one word
  (``Ma'ruf``, ``Al-Amin``, ``O'Neil``); a name word without its apostrophe
  (``Maruf``) is the same name; a clitic is split off (``Bejo-nya``, ``Budi's``).
  Adjacent words of one informant become one pseudonym: ``Sutrisno Hadi`` -> ``[inf01]``.
* **honorific mentions** -- an honorific (``Pak``, ``Bu``, ``Bapak``, ``Ibu``, ``Mas``,
  ``Mbak``, ``Mbah`` in any case; ``Bpk.``, ``Bp.``, ``Sdr.``, ``Sdri.``, academic titles
  ``Dr.``/``Ir.`` and a few regional ones such as ``Pakde``, ``Kang`` when capitalised),
  then spaces or one line break, then up to two titles or offices (``Haji``, ``Lurah``,
  ``Dokter``, ``H.``, ``Dr.`` ...), then one to three capitalised words on one line.
  Honorific and titles are kept, the name is replaced: ``Pak Tris`` -> ``Pak [inf01]``,
  ``Pak Haji Karto`` -> ``Pak Haji [N-ddddd]``. A lowercase word after an honorific is
  replaced only when it is a known name word or short form (``Mbak karyo``). Titles,
  fillers and role words are not names (``Pak Lurah`` stays); words of the informants
  table's other columns are not names only after an office (``Pak Dukuh Kalisoka``) or
  when the table names them as the body of an office (``Kajigelem`` in ``Bendahara
  Kajigelem``); a word that follows an honorific in the table (``Anak Mbah Suroto``) is
  a name everywhere.
* **short forms in address** -- a capitalised word of 3+ letters between ``", "`` and
  a punctuation mark (``Iyo, Ton.``, ``Melu wae, Yem, ...``) that is part of exactly one
  informant's name word (Anton, Lasiyem) becomes that informant's pseudonym.

The replaced span is the whole original word, combining marks included, and
:class:`RedactedText` maps offsets exactly both ways.

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
contains a name word (an informant id that does gets an ``[N-ddddd]`` pseudonym, and
:func:`informant_id_problems` warns with T707, since the id itself is shown in the
shared tables). Pseudonyms already in a text are left alone, so redacting twice changes
nothing.

Limits: a non-informant named without an honorific (``Karto bilang ...``) is not found;
that needs named-entity recognition. ``H.`` alone (without an honorific before it) is
not a title. Name words are matched case-insensitively, so a common word that is also a
name word (``sugeng`` in ``sugeng rawuh``, ``lestari``) is replaced too -- privacy wins
over readability.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from .errors import Problem

__all__ = ["HONORIFICS", "REGIONAL_HONORIFICS", "RULES_VERSION", "TITLES", "Pseudonymiser", "RedactedText",
           "informant_id_problems"]

RULES_VERSION = 2
"""Version of the redaction rules; part of the cache key of stages that redact."""

HONORIFICS = frozenset({"pak", "bu", "bapak", "ibu", "mas", "mbak", "mbah"})
"""Honorifics that introduce a person's name (lower case; matched in any case)."""

REGIONAL_HONORIFICS = frozenset({
    "pakde", "bude", "budhe", "pakdhe", "kang", "mbok", "mbakyu", "dik", "bang", "cak",
    "tante", "eyang", "om",
})
"""Further honorifics, matched only when capitalised (lower case they are often other
words, e.g. Javanese ``ning`` 'in', so those are left out altogether)."""

OFFICES = frozenset({
    "lurah", "dukuh", "kadus", "carik", "bupati", "camat", "kades", "sekdes", "kepala",
    "kaur", "kasi", "kasubag", "kabid", "kabag", "kadis", "ketua", "sekretaris",
    "bendahara", "guru", "haji", "hajah", "dokter", "dosen", "kyai", "kiai", "ustad",
    "ustadz", "mantri", "bidan", "polisi", "wakil", "gubernur", "menteri", "presiden",
    "direktur", "mandor", "juragan", "rt", "rw", "mantan", "almarhum", "almarhumah", "alm",
})
"""Titles and offices that may stand between an honorific and a name
(``Pak Lurah Darsono`` -> ``Pak Lurah [N-ddddd]``); a subset of :data:`TITLES`."""

TITLES = OFFICES | frozenset({
    "dewan", "dinas", "anu", "sinten", "siapa", "ini", "itu", "nggih", "ya", "iya",
    "saya", "kula", "kami", "kita", "juga", "yang", "dan", "tapi", "lho", "lha", "wah",
    "nah", "kok", "ayo", "kan", "sih", "toh", "deh", "dong", "oh", "eh",
})
"""Capitalised words after an honorific that are not a name: :data:`OFFICES`, and
fillers and other words."""

_WORD = re.compile(r"[^\W\d_]+")
_SAME_LINE_SPACE = re.compile(r"[ \t\u00a0]+")
_MAX_NAME_WORDS = 3
_MIN_WORD = 3
_MIN_SUBSTRING = 4
_VOCATIVE = re.compile(r"[.,!?]")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    word: str
    key: str


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


_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_PART = f"(?:[^\\W\\d_][{_COMBINING}]*)+"
_PART_RE = re.compile(_PART)
_COMPOUND = re.compile(f"{_PART}(?:['\u2019\u02bc\\-]{_PART})*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})
_CLITICS = frozenset({"nya", "lah", "kah", "pun", "ku", "mu", "s", "e", "ne"})
_HONORIFIC_GAP = re.compile(r"[ \t\u00a0]+|[ \t\u00a0]*\r?\n[ \t\u00a0]*")
_LABEL_AHEAD = re.compile(r"[ \t]*(?:\([^)\n]*\))?[ \t]*:")

ABBREVIATED_HONORIFICS = frozenset({"bpk", "bp", "sdr", "sdri", "sdra"})
"""Abbreviated honorifics (``Bpk. Suroto``), matched when capitalised, dot optional."""

ACADEMIC_TITLES = frozenset({"dr", "drs", "dra", "ir", "h", "hj", "prof"})
"""Academic and pilgrim titles written with a dot before a name (``Dr. Wati``,
``Pak H. Karto``); matched only capitalised and followed by ``.``. ``H.`` alone is too
ambiguous (``hari H. Setelah``) and counts only after an honorific (``Pak H. Karto``)."""

PLACE_WORDS = frozenset({
    "desa", "dusun", "kelurahan", "kecamatan", "kabupaten", "kota", "dinas", "sekolah",
    "puskesmas", "koperasi", "kelompok", "paguyuban", "kampung", "balai", "kantor",
})
"""Words that after an office name an institution, not a person (``Pak Kepala Desa``)."""

ROLE_LABELS = frozenset({
    "narasumber", "informan", "responden", "peneliti", "pewawancara", "penanya", "tanya",
    "jawab", "moderator", "fasilitator", "peserta", "partisipan", "subjek", "subyek",
    "pembicara", "interviewer", "interviewee", "respondent", "informant", "speaker",
})
"""Generic speaker-label words that are not names (``Narasumber``, ``Peneliti`` ...)."""


def _key(word: str) -> str:
    """Matching form of a word: NFC, case-folded, one apostrophe character."""
    folded = unicodedata.normalize("NFC", word).casefold().translate(_APOSTROPHES)
    return unicodedata.normalize("NFC", folded)


def _is_honorific(word: str, after: str = "") -> bool:
    """Whether ``word`` (followed by the text ``after``) is an honorific."""
    folded = _key(word)
    if folded in HONORIFICS:
        return True
    if not word[:1].isupper():
        return False
    if folded in REGIONAL_HONORIFICS or folded in ABBREVIATED_HONORIFICS:
        return True
    return folded in ACADEMIC_TITLES and folded != "h" and after.startswith(".")


def _words(text: str) -> list[str]:
    return [m.group(0) for m in _COMPOUND.finditer(text)]


def _name_keys(name: str) -> set[str]:
    """Matching forms of a name's words: whole words, their parts, apostrophe-less."""
    keys: set[str] = set()
    for word in _words(name):
        key = _key(word)
        keys.add(key)
        keys.add(key.replace("'", ""))
        keys.update(_key(part) for part in _PART_RE.findall(word))
    keys.discard("")
    return keys


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
        Words that are not person names (places, offices) unless they are name words;
        they stop a name only after an office (``Pak Dukuh Kalisoka``).
    organisations : iterable of str, optional
        Words that name the place or body of an office (``Kajigelem`` in ``Bendahara
        Kajigelem``); not names even right after an honorific, unless name words.
    """

    def __init__(self, names: dict[str, str], aliases: dict[str, list[str]] | None = None,
                 non_names: Iterable[str] = (), organisations: Iterable[str] = ()
                 ) -> None:
        self.names = dict(sorted(names.items()))
        self.aliases = {k: sorted(set(v)) for k, v in sorted((aliases or {}).items())}
        self._by_word: dict[str, set[str]] = {}
        for informant_id, name in self.names.items():
            for key in _name_keys(name):
                self._by_word.setdefault(key, set()).add(informant_id)
        for informant_id, words in self.aliases.items():
            for word in words:
                for key in _name_keys(word):
                    self._by_word.setdefault(key, set()).add(informant_id)
        self._bare = {w: ids for w, ids in self._by_word.items()
                      if len(w.replace("'", "").replace("-", "")) >= _MIN_WORD}
        self._non_names = {_key(w) for w in non_names} - set(self._by_word)
        self._organisations = {_key(w) for w in organisations} - set(self._by_word)
        key_text = "\n".join(f"{k}\t{v}" for k, v in self.names.items())
        self._key = hashlib.sha256(("themepipe-pseudonym\n" + key_text).encode()).digest()
        self._pseudonyms = {k: self._informant_pseudonym(k) for k in self.names}
        kept = "|".join(re.escape(p) for p in sorted(set(self._pseudonyms.values())))
        self._pseudonym_re = re.compile(r"\[N-\d{5}\]" + (f"|{kept}" if kept else ""))

    @classmethod
    def from_informants(cls, informants: pd.DataFrame) -> Pseudonymiser:
        """Build a pseudonymiser from an informants table.

        Parameters
        ----------
        informants : DataFrame
            ``informants.csv`` rows; needs ``informant_id`` and ``name``; uses
            ``speaker_label`` (the name words of a label are short forms of its
            informant: ``Kiki (K)``, ``Pak Tris (Lurah)``, ``Narasumber (Bu Tini)``) and
            the other text columns (places and offices, which are not names after an
            office: ``Pak Dukuh Kalisoka``) when present. Repeated informants and empty
            names are fine.

        Returns
        -------
        Pseudonymiser
        """
        names: dict[str, str] = {}
        aliases: dict[str, list[str]] = {}
        non_names: set[str] = set()
        organisations: set[str] = set()
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
                short, other = _label_short_form(label)
                if short:
                    aliases.setdefault(informant_id, []).extend(short)
                non_names.update(other)
            for column, value in row.items():
                if column not in skip and isinstance(value, str):
                    non_names.update(_not_after_honorific(value))
                    organisations.update(_after_office(value))
        return cls(names, aliases, non_names, organisations)

    # -- pseudonyms ---------------------------------------------------------------------
    def _informant_pseudonym(self, informant_id: str) -> str:
        if self._id_name_words(informant_id):  # an id that spells a name must not be shown
            return self._other_pseudonym("informant " + informant_id)
        return f"[{informant_id}]"

    def _id_name_words(self, informant_id: str) -> list[str]:
        return sorted({w.casefold() for w in _WORD.findall(informant_id)} & set(self._bare))

    def ids_with_name_words(self) -> dict[str, list[str]]:
        """Informant ids that contain a name word (whole word, 3+ letters).

        Returns
        -------
        dict of str to list of str
            ``informant_id -> name words it contains``; such an id is shown as it is in
            the shared tables' ``informant_id`` columns, so it should be replaced by a
            neutral id (``inf01``).
        """
        found = {i: self._id_name_words(i) for i in self.names}
        return {i: words for i, words in found.items() if words}

    def _other_pseudonym(self, name: str) -> str:
        key = " ".join(_key(w) for w in _words(name))
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
        informant_id = self._resolve([_key(w) for w in _words(name)], substring=True)
        if informant_id is not None:
            return self._pseudonyms[informant_id]
        return self._other_pseudonym(name)

    def _resolve(self, words: list[str], substring: bool) -> str | None:
        candidates: set[str] | None = None
        for word in words:
            ids = self._by_word.get(word) or self._by_word.get(word.replace("'", ""))
            if ids is None and substring and len(word) >= _MIN_SUBSTRING:
                ids = self._containing(word)
            if not ids:
                continue
            candidates = set(ids) if candidates is None else candidates & ids
        if candidates and len(candidates) == 1:
            return next(iter(candidates))
        return None

    # -- redaction ----------------------------------------------------------------------
    def _known(self, key: str) -> bool:
        return key in self._by_word or key.replace("'", "") in self._by_word

    def _containing(self, key: str) -> set[str]:
        """Informants with a name word or short form that contains ``key``."""
        return {i for w, wids in self._by_word.items() if key in w for i in wids}

    def _bare_word(self, key: str) -> bool:
        return key in self._bare or key.replace("'", "") in self._bare

    def _tokens(self, text: str) -> list[_Token]:
        """Words of ``text`` (letters with combining marks, inner ``'`` and ``-``).

        A word joined by ``-`` or an apostrophe stays whole (``Al-Amin``, ``O'Neil``)
        unless a clitic follows (``Bejo-nya``, ``Budi's``) or one of its parts is a known
        name word; pseudonyms already in the text are skipped.
        """
        protected = [m.span() for m in self._pseudonym_re.finditer(text)]
        tokens: list[_Token] = []

        def add(start: int, end: int) -> None:
            word = text[start:end]
            key = _key(word)
            parts = list(_PART_RE.finditer(word))
            if len(parts) == 1 or self._known(key):
                tokens.append(_Token(start, end, word, key))
                return
            if _key(parts[-1].group(0)) in _CLITICS:
                add(start, start + parts[-2].end())
                tokens.append(_Token(start + parts[-1].start(), end, parts[-1].group(0),
                                     _key(parts[-1].group(0))))
                return
            if any(self._known(_key(part.group(0))) for part in parts):
                for part in parts:
                    tokens.append(_Token(start + part.start(), start + part.end(),
                                         part.group(0), _key(part.group(0))))
                return
            tokens.append(_Token(start, end, word, key))

        k = 0
        for m in _COMPOUND.finditer(text):
            while k < len(protected) and protected[k][1] <= m.start():
                k += 1
            if k < len(protected) and protected[k][0] < m.end():
                continue
            add(m.start(), m.end())
        return tokens

    def _is_name_word(self, token: _Token, after_office: bool = False) -> bool:
        if self._known(token.key):
            return True
        return (token.word[:1].isupper() and token.key not in TITLES
                and token.key not in ROLE_LABELS and token.key not in self._organisations and not _is_honorific(token.word)
                and not (after_office and (token.key in self._non_names
                                           or token.key in PLACE_WORDS)))

    def _honorific_mention(self, text: str, tokens: list[_Token], i: int
                           ) -> tuple[int, list[_Token]] | None:
        """Name words of an honorific mention starting at token ``i`` (and the next i)."""
        tok = tokens[i]
        if not _is_honorific(tok.word, text[tok.end:tok.end + 1]):
            return None
        j = i + 1
        if j >= len(tokens):
            return None
        gap = text[tok.end:tokens[j].start]
        if gap.startswith("."):
            if tok.key not in ABBREVIATED_HONORIFICS and tok.key not in ACADEMIC_TITLES:
                return None
            gap = gap[1:]
        if not _HONORIFIC_GAP.fullmatch(gap):
            return None
        if "\n" in gap and _LABEL_AHEAD.match(text, tokens[j].end):
            return None  # a speaker label on the next line
        n_titles = 0
        while j < len(tokens) - 1 and n_titles < 2:  # Pak Haji, Bu Dokter, Pak Dr.
            cur = tokens[j]
            after = text[cur.end:tokens[j + 1].start]
            office = cur.key in OFFICES and _SAME_LINE_SPACE.fullmatch(after)
            academic = (cur.key in ACADEMIC_TITLES and cur.word[:1].isupper()
                        and after.startswith(".") and _SAME_LINE_SPACE.fullmatch(after[1:]))
            if not (office or academic):
                break
            j += 1
            n_titles += 1
        name_toks: list[_Token] = []
        while (j < len(tokens) and len(name_toks) < _MAX_NAME_WORDS
               and (not name_toks or _SAME_LINE_SPACE.fullmatch(
                   text[name_toks[-1].end:tokens[j].start]))
               and self._is_name_word(tokens[j], after_office=n_titles > 0)):
            name_toks.append(tokens[j])
            j += 1
        return (j, name_toks) if name_toks else None

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        tokens = self._tokens(text)
        spans: list[tuple[int, int, str]] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            mention = self._honorific_mention(text, tokens, i)
            if mention is not None:
                j, name_toks = mention
                start, end = name_toks[0].start, name_toks[-1].end
                spans.append((start, end, self.pseudonym(text[start:end])))
                i = j
                continue
            if _is_honorific(tok.word, text[tok.end:tok.end + 1]):
                i += 1
                continue
            if self._bare_word(tok.key):
                j = i + 1
                words = [tok.key]
                while (j < len(tokens) and self._bare_word(tokens[j].key)
                       and _SAME_LINE_SPACE.fullmatch(text[tokens[j - 1].end:tokens[j].start])):
                    words.append(tokens[j].key)
                    j += 1
                start, end = tok.start, tokens[j - 1].end
                informant_id = self._resolve(words, substring=False)
                if informant_id is not None:
                    spans.append((start, end, self._pseudonyms[informant_id]))
                else:
                    spans.append((start, end, self._other_pseudonym(" ".join(words))))
                i = j
                continue
            informant_id = self._vocative(text, tok)
            if informant_id is not None:
                spans.append((tok.start, tok.end, self._pseudonyms[informant_id]))
            i += 1
        return spans

    def _vocative(self, text: str, tok: _Token) -> str | None:
        """The informant a short form used in address stands for (``Iyo, Ton.``)."""
        word = tok.word
        if (len(tok.key) < _MIN_WORD or not word[:1].isupper()
                or not _VOCATIVE.match(text, tok.end)
                or text[max(0, tok.start - 2):tok.start] != ", "
                or not self._is_name_word(tok)):
            return None
        ids = self._containing(tok.key)
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


def _label_short_form(label: str) -> tuple[list[str], list[str]]:
    """Short-form name words of a speaker label, and its other words.

    ``Pak Tris (Lurah)`` -> ``Tris``; ``Kiki (K)`` -> ``Kiki``; ``Narasumber (Bu Tini)``
    -> ``Tini`` (words in parentheses are names only after an honorific). Role words (:data:`ROLE_LABELS`), titles, honorifics and words of one
    or two letters are not short forms (after an honorific two letters are).
    """
    short: list[str] = []
    other: list[str] = []
    outer = re.sub(r"\([^)]*\)", " ", label)
    for part in [outer, *re.findall(r"\(([^)]*)\)", label)]:
        words = _words(part)
        honorific = bool(words) and _is_honorific(words[0])
        if not honorific and part is not outer:  # (Lurah), (Koordinator Jipurwo), (K)
            other.extend(words)
            continue
        for word in words[1:] if honorific else words:
            key = _key(word)
            letters = len(key.replace("'", "").replace("-", ""))
            if (key in TITLES or key in ROLE_LABELS or _is_honorific(word)
                    or letters < (2 if honorific else _MIN_WORD)
                    or not (honorific or word[:1].isupper())):
                other.append(word)
            else:
                short.append(word)
    return short, other


def _not_after_honorific(value: str) -> list[str]:
    """Words of an attribute value, less those that follow an honorific (names)."""
    words = _words(value)
    kept = []
    skip = 0
    for word in words:
        if skip and _key(word) not in OFFICES:
            skip -= 1
            continue
        if _is_honorific(word):
            skip = _MAX_NAME_WORDS
        kept.append(word)
    return kept


def informant_id_problems(informants: pd.DataFrame, path: str = "informants.csv"
                          ) -> list[Problem]:
    """Warnings for informant ids that contain a name word (code T707).

    Shared outputs show ``informant_id`` as it is (its pseudonym in text is
    ``[N-ddddd]`` instead, see :class:`Pseudonymiser`), so an id such as ``wahyuni``
    leaks the name it spells.

    Parameters
    ----------
    informants : DataFrame
        The informants table (``informant_id``, ``name``, optionally ``speaker_label``).
    path : str
        The informants file, named in each problem.

    Returns
    -------
    list of Problem
        One ``warning`` per such id, sorted by id.
    """
    found = Pseudonymiser.from_informants(informants).ids_with_name_words()
    return [Problem(path, None, "T707", f"informant id '{informant_id}' contains a name "
                    "word; shared outputs show ids — use neutral ids such as inf01",
                    "warning") for informant_id in sorted(found)]


def _after_office(value: str) -> list[str]:
    """Capitalised words that follow an office or institution word in an attribute value
    (``Bendahara Kajigelem``, ``Lurah Bangunjiwo``, ``Koordinator dusun Jipurwo``)."""
    words = _words(value)
    heads = OFFICES | PLACE_WORDS | {"koordinator"}
    return [word for prev, word in itertools.pairwise(words)
            if _key(prev) in heads and word[:1].isupper() and _key(word) not in OFFICES]
