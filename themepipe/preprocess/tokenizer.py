"""Tokenisation: spaCy's Indonesian tokenizer with the rules spoken transcripts need.

:func:`get_nlp` builds spaCy's Indonesian language (``spacy.blank("id")``) once per
process (it takes seconds: the tokenizer exceptions are compiled), with these changes:

- a hyphen between letters never splits a word: reduplications (``beda-beda``,
  ``anak-anaknya``) and hyphenated clitics (``rumah-nya``) stay one token;
- abbreviations (``Pak.``, ``Bu.``, ``Bpk.``, ``Sdr.``, ``Jl.``, ``dll.``, ``M.Si.`` ...)
  are one token in any capitalisation, and never end a sentence;
- numbers (``10.000``, ``2007``, ``2,5``) and words with diacritics (``dhèwèké``) are
  one token (spaCy already does this; tests hold it);
- no exception spans a space (spaCy's ``Dr. med``), so tokens never contain whitespace
  and every whitespace-separated chunk is tokenised on its own, as spaCy itself does;
- a ``themepipe_sentences`` pipe sets sentence starts with :func:`sentence_ids`.

Sentences: a sentence ends after a run of ``.``, ``!``, ``?`` or ``…`` tokens (closing
brackets and quotes written right after it still belong to it) and at a blank line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

#: Built-in abbreviations (``preprocess.abbreviations`` replaces them).  Ordinary words
#: that end a sentence (``Ibu.``, ``Mas.``) are deliberately not here.
DEFAULT_ABBREVIATIONS: tuple[str, ...] = (
    "Pak.", "Bu.", "Bpk.", "Sdr.", "Sdri.", "Jl.", "Jln.", "dll.", "dsb.", "dst.",
    "dkk.", "tsb.", "M.Si.", "M.Sc.", "M.M.", "M.Pd.", "S.E.", "S.Pd.", "S.Sos.", "S.T.",
    "S.H.", "S.Kom.", "S.Ag.", "S.IP.", "Dr.", "Drs.", "Dra.", "Ir.", "Prof.", "H.",
    "Hj.", "Kab.", "Kec.", "Ds.", "Dsn.", "No.", "Rp.", "Yth.", "Tn.", "Ny.", "Moh.",
    "Muh.", "a.n.", "u.p.",
)

# Token kinds, computed once per word type.
SPACE, BREAK, PUNCT, END, CLOSE, NUMBER, WORD, FILLER = range(8)
#: Kinds that never become a Token.
NOISE_KINDS = frozenset({SPACE, BREAK, PUNCT, END, CLOSE, FILLER})

_END_CHARS = frozenset(".!?…")
_CLOSE_CHARS = frozenset(")]}»”’\"'")


def surface_kind(text: str) -> int:
    """Kind of a token from its text alone (no config): space, punctuation, number, word.

    Parameters
    ----------
    text : str
        The token's text.

    Returns
    -------
    int
        ``BREAK`` (whitespace with a blank line), ``SPACE``, ``END`` (only ``.!?…``),
        ``CLOSE`` (a closing bracket or quote), ``PUNCT`` (no letter or digit),
        ``NUMBER`` (digits but no letter) or ``WORD``.
    """
    if text.isspace():
        return BREAK if text.count("\n") >= 2 else SPACE
    if not any(ch.isalnum() for ch in text):
        if all(ch in _END_CHARS for ch in text):
            return END
        if len(text) == 1 and text in _CLOSE_CHARS:
            return CLOSE
        return PUNCT
    if not any(ch.isalpha() for ch in text):
        return NUMBER
    return WORD


def sentence_ids(kinds: Sequence[int], starts: Sequence[int], ends: Sequence[int]
                 ) -> tuple[list[int], list[tuple[int, int]]]:
    """Assign a sentence index to every token and return the sentence spans.

    Parameters
    ----------
    kinds : sequence of int, length n_tokens
        Token kinds (:func:`surface_kind`); abbreviations and transcriber notes must be
        passed as ``WORD`` so that their periods do not end a sentence.
    starts, ends : sequence of int, length n_tokens
        Character offsets of the tokens.

    Returns
    -------
    ids : list of int, length n_tokens
        Sentence index per token; whitespace tokens get the index of the sentence
        before them (-1 before the first sentence).
    spans : list of (int, int)
        ``(start, end)`` of each sentence, from its first to its last non-space token.
    """
    ids: list[int] = []
    spans: list[list[int]] = []
    sent = -1
    ended = False
    broken = False
    prev_end = -1
    for kind, start, end in zip(kinds, starts, ends):
        if kind == SPACE or kind == BREAK:
            broken = broken or kind == BREAK
            ids.append(sent)
            continue
        if sent < 0 or broken:
            new = True
        elif ended:
            new = not (kind == END or (kind == CLOSE and start == prev_end))
        else:
            new = False
        if new:
            sent += 1
            spans.append([start, end])
            ended = broken = False
        ids.append(sent)
        spans[sent][1] = end
        if kind == END:
            ended = True
        prev_end = end
    return ids, [(s, e) for s, e in spans]


def _abbreviation_variants(abbreviations: Iterable[str]) -> list[str]:
    variants: dict[str, None] = {}
    for abbr in abbreviations:
        for form in (abbr, abbr.lower(), abbr.upper(), abbr[:1].upper() + abbr[1:].lower()):
            variants[form] = None
    return list(variants)


def _infixes(defaults: Sequence[str]) -> list[str]:
    """spaCy's Indonesian infixes, except that a hyphen between letters never splits."""
    from spacy.lang.char_classes import ALPHA, HYPHENS

    dashes = "|".join(h for h in HYPHENS.split("|") if h != "-")
    generic = rf"(?<=[{ALPHA}])(?:{HYPHENS})(?=[{ALPHA}])"  # any hyphen between letters
    infixes = []
    for pattern in defaults:
        if pattern == generic:
            infixes.append(rf"(?<=[{ALPHA}])(?:{dashes})(?=[{ALPHA}])")
        elif pattern.startswith(rf"(?<=[{ALPHA}])[\/-]"):
            # Indonesian rule splitting "/" and "-" before letters or a currency
            infixes.append(pattern.replace(r"[\/-]", r"\/", 1))
        else:
            infixes.append(pattern)
    return infixes


def _exceptions(defaults: dict, abbreviations: Iterable[str]) -> dict:
    """spaCy's exceptions without those that contain a space (``Dr. med``: one token
    across a space would break the space-joined columns and chunk-wise tokenising),
    plus the abbreviations."""
    from spacy.attrs import ORTH

    exceptions = {key: value for key, value in defaults.items()
                  if key.isspace() or not any(ch.isspace() for ch in key)}
    for form in _abbreviation_variants(abbreviations):
        exceptions[form] = [{ORTH: form}]
    return exceptions


def _sentence_pipe(doc):
    """spaCy component: set ``is_sent_start`` with :func:`sentence_ids`."""
    ids, _ = sentence_ids([surface_kind(t.text) for t in doc], [t.idx for t in doc],
                          [t.idx + len(t) for t in doc])
    for i, token in enumerate(doc):
        token.is_sent_start = i == 0 or ids[i] != ids[i - 1]
    return doc


def _register_component() -> None:
    from spacy.language import Language

    if not Language.has_factory("themepipe_sentences"):
        Language.component("themepipe_sentences", func=_sentence_pipe)


def get_nlp(abbreviations: tuple[str, ...] | None = None):
    """Return the process-wide ``spacy.blank("id")`` with themepipe's tokenizer rules.

    Built once per process and per abbreviation list (building takes a few seconds);
    worker processes started by fork share the parent's copy.

    Parameters
    ----------
    abbreviations : tuple of str, optional
        Abbreviations to keep as one token; ``None`` = :data:`DEFAULT_ABBREVIATIONS`.

    Returns
    -------
    spacy.language.Language
        Tokenizer plus the ``themepipe_sentences`` pipe.  :class:`Preprocessor` calls only
        ``nlp.tokenizer`` (fast) and applies the same sentence rule itself.
    """
    if abbreviations is None:
        abbreviations = DEFAULT_ABBREVIATIONS
    return _build_nlp(tuple(abbreviations))


@functools.lru_cache(maxsize=4)
def _build_nlp(abbreviations: tuple[str, ...]):
    from spacy.lang.id import Indonesian

    class SpokenDefaults(Indonesian.Defaults):
        tokenizer_exceptions = _exceptions(Indonesian.Defaults.tokenizer_exceptions,
                                           abbreviations)
        infixes = tuple(_infixes(Indonesian.Defaults.infixes))
        suffixes = tuple(s for s in Indonesian.Defaults.suffixes
                         if s not in (r"\-[Nn]ya", "-[KkMm]u"))  # keep rumah-nya whole

    class SpokenIndonesian(Indonesian):
        """``spacy.blank("id")`` with themepipe's tokenizer rules."""

        Defaults = SpokenDefaults

    nlp = SpokenIndonesian()
    _register_component()
    nlp.add_pipe("themepipe_sentences")
    return nlp
