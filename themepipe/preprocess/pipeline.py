"""The preprocess stage: text -> tokens with norm, stem, stop flag and sentence index.

Design for speed: only spaCy's tokenizer runs (no pipeline), and everything else —
noise, normalisation, stemming, stop words — is computed once per word type and cached.
:meth:`Preprocessor.transform` goes one step further, as spaCy's tokenizer itself does:
it caches the columns of each whitespace-separated chunk, so a chunk seen before costs
one dictionary lookup and only new chunks reach the tokenizer.

Token policy
------------
- Words and numbers become tokens; the span ``text[start:end]`` is the token's text.
- Punctuation, whitespace, fillers and everything inside a transcriber note produce no
  token.  Punctuation still ends sentences; a period belonging to an abbreviation
  (``Pak.``, ``dll.``) is part of that token, which does not end a sentence.
  Abbreviations (honorifics, titles, ``dll.``) are stop words; their norm drops the
  final period.
- Numbers (``10.000``, ``2007``) keep their text as norm and stem; with
  ``preprocess.stop_numbers`` (default) they are flagged ``is_stop`` so that they stay
  out of ``stems``.
- Clitics stay attached (see :mod:`.normalize`).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import math
import re
from dataclasses import asdict, dataclass

import pandas as pd

from ..config import PreprocessConfig
from ..errors import StageError
from .noise import DEFAULT_FILLERS, DEFAULT_NOTE_PATTERNS, FillerList, NoteFinder
from .normalize import Normalizer
from .resources import (
    fold,
    lookups_norm_table,
    read_mapping,
    read_note_patterns,
    read_word_list,
)
from .stemmer import Stemmer
from .stopwords import StopWords
from .tokenizer import (
    DEFAULT_ABBREVIATIONS,
    FILLER,
    NOISE_KINDS,
    NUMBER,
    WORD,
    get_nlp,
    sentence_ids,
    surface_kind,
)

_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """Replace lone surrogates (undecodable input) by U+FFFD, one code point each.

    spaCy cannot encode them; replacing one code point by one keeps every offset.
    """
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


@dataclass(frozen=True, slots=True)
class Token:
    """One word or number of a text.

    Attributes
    ----------
    text : str
        The token as written; ``source[start:end] == text``.
    norm : str
        Canonical standard form, lowercase (``nggak`` -> ``tidak``).
    stem : str
        Stem of the norm, lowercase (``ngurusin`` -> ``urus``).
    start, end : int
        Character offsets in the analysed text (end exclusive).
    is_stop : bool
        Stop word (or number, with ``stop_numbers``): left out of ``stems``.
    sent : int
        0-based index of the token's sentence (see :meth:`Preprocessor.sentences`).
    """

    text: str
    norm: str
    stem: str
    start: int
    end: int
    is_stop: bool
    sent: int


# Type information: (kind, norm, stem, is_stop, is_token, model_stem) where is_token is
# False for noise and model_stem is the stem when the token goes into ``stems``, else "".
_Info = tuple


class Preprocessor:
    """Normalise, tokenise, stem and flag stop words in spoken Indonesian text.

    Parameters
    ----------
    config : PreprocessConfig, optional
        The ``preprocess:`` section; default: built-in lists only, no lexicon files.

    Raises
    ------
    ConfigError
        A resource file named in ``config`` is missing or malformed (T030-T034).

    Notes
    -----
    Resource files are read here; the spaCy tokenizer is built on first use, once per
    process (:func:`get_nlp`).  Results are cached per word type, so the first texts are
    slower than the rest.

    Examples
    --------
    >>> pre = Preprocessor()
    >>> [t.norm for t in pre.analyze("Programnya jalan.")]
    ['programnya', 'jalan']
    """

    def __init__(self, config: PreprocessConfig | None = None) -> None:
        self.config = config if config is not None else PreprocessConfig()
        cfg = self.config
        lexicon: dict[str, str] = {}
        for path in (cfg.lexicon, cfg.lexicon_extra):
            if path is not None:
                lexicon.update(read_mapping(path, "lexicon"))
        lookups = lookups_norm_table() if cfg.lookups_norm else None
        protected = set(read_word_list(cfg.protected_words)) if cfg.protected_words else set()
        overrides = read_mapping(cfg.stem_overrides, "stem override") \
            if cfg.stem_overrides else {}
        additions = read_word_list(cfg.stop_words) if cfg.stop_words else []
        notes = read_note_patterns(cfg.note_patterns) if cfg.note_patterns \
            else list(DEFAULT_NOTE_PATTERNS)
        self.stemmer = Stemmer(overrides, protected, enabled=cfg.stem)
        self.normalizer = Normalizer(lexicon, protected, self.stemmer, lookups)
        self.stop_words = StopWords(additions, [fold(w) for w in cfg.keep_words])
        self.fillers = FillerList(fold(w) for w in (cfg.fillers if cfg.fillers is not None
                                                    else DEFAULT_FILLERS))
        self.notes = NoteFinder(notes)
        self.abbreviations = (tuple(cfg.abbreviations) if cfg.abbreviations is not None
                              else None)
        self._abbreviation_set = frozenset(
            a.lower() for a in (self.abbreviations or DEFAULT_ABBREVIATIONS))
        self._types: dict[int, _Info] = {}     # spaCy ORTH id -> word-type info
        self._words: dict[str, _Info] = {}     # token text -> word-type info
        self._chunks: dict[str, tuple[str, str]] = {}  # chunk -> (tokens, stems)

    @classmethod
    def from_config(cls, config: PreprocessConfig) -> Preprocessor:
        """Build a Preprocessor from the ``preprocess:`` config section."""
        return cls(config)

    @property
    def nlp(self):
        """The shared spaCy pipeline (:func:`get_nlp`) for this abbreviation list."""
        return get_nlp(self.abbreviations)

    def __getstate__(self) -> dict:
        return {"config": self.config}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    # word types -------------------------------------------------------------------

    def word_info(self, surface: str) -> _Info:
        """Kind, norm, stem and stop flag of one token text (cached per type).

        Returns
        -------
        tuple (kind, norm, stem, is_stop, is_token, model_stem)
            ``kind`` is one of the constants of :mod:`.tokenizer`; ``is_token`` is False
            for noise (which carries empty strings); ``model_stem`` is the stem when the
            token goes into ``stems``, else ''.
        """
        info = self._words.get(surface)
        if info is None:
            kind, norm, stem, is_stop = self._classify(surface)
            is_token = kind not in NOISE_KINDS
            info = (kind, norm, stem, is_stop, is_token,
                    stem if is_token and not is_stop else "")
            self._words[surface] = info
        return info

    def _classify(self, surface: str) -> tuple[int, str, str, bool]:
        kind = surface_kind(surface)
        if kind in NOISE_KINDS:
            return kind, "", "", True
        if kind == NUMBER:
            return kind, surface, surface, self.config.stop_numbers
        folded = fold(surface)
        if folded in self._abbreviation_set:
            norm = folded.rstrip(".")
            return WORD, norm, norm, True
        if folded in self.fillers:
            return FILLER, "", "", True
        word = folded.strip("'’.")
        norm, root = self.normalizer.normalize(word) if word else (folded, None)
        stem = self.stemmer.stem(norm, root, surface=word)
        return WORD, norm, stem, norm in self.stop_words

    def _doc_infos(self, text: str, doc) -> tuple[list, list, list]:
        """(infos, starts, ends) of the tokens of ``doc``."""
        from spacy.attrs import IDX, LENGTH, ORTH

        rows = doc.to_array([ORTH, IDX, LENGTH]).tolist() if len(doc) else []
        types = self._types
        infos, starts, ends = [], [], []
        for orth, start, length in rows:
            info = types.get(orth)
            if info is None:
                info = types[orth] = self.word_info(text[start:start + length])
            infos.append(info)
            starts.append(start)
            ends.append(start + length)
        return infos, starts, ends

    @staticmethod
    def _note_mask(spans: list, starts: list, ends: list) -> list[bool] | None:
        """Per token: does it overlap a transcriber note?  None when there is no note."""
        if not spans:
            return None
        note_starts = [s for s, _ in spans]
        mask = []
        for start, end in zip(starts, ends):
            i = bisect.bisect_right(note_starts, end - 1) - 1
            mask.append(i >= 0 and spans[i][1] > start)
        return mask

    # public API -------------------------------------------------------------------

    def _walk(self, text: str) -> tuple[list[Token], list[tuple[int, int]]]:
        doc = self.nlp.tokenizer(without_surrogates(text))
        infos, starts, ends = self._doc_infos(text, doc)
        mask = self._note_mask(self.notes.spans(text), starts, ends)
        kinds = [info[0] for info in infos]
        if mask is not None:
            kinds = [WORD if noted else kind for kind, noted in zip(kinds, mask)]
        sents, spans = sentence_ids(kinds, starts, ends)
        tokens = []
        for i, info in enumerate(infos):
            if not info[4] or (mask is not None and mask[i]):
                continue
            tokens.append(Token(text[starts[i]:ends[i]], info[1], info[2], starts[i],
                                ends[i], info[3], sents[i]))
        return tokens, spans

    def analyze(self, text: str) -> list[Token]:
        """Tokens of ``text`` with norm, stem, offsets, stop flag and sentence index.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of Token
            In text order; noise (punctuation, fillers, notes) produces no token.
        """
        return self._walk(text)[0]

    def sentences(self, text: str) -> list[tuple[int, int]]:
        """Sentence spans of ``text``.

        Returns
        -------
        list of (start, end)
            Character offsets (end exclusive) from each sentence's first to its last
            non-space token; together they cover every token of the text, noise
            included.  Punctuation inside transcriber notes does not end a sentence.
        """
        return self._walk(text)[1]

    def token_records(self, text: str) -> list[dict]:
        """Tokens as dicts with keys ``text, norm, stem, start, end, is_stop, sent``.

        Used by ``themepipe preprocess --text TEXT --json``.
        """
        return [asdict(token) for token in self.analyze(text)]

    def stem_word(self, word: str) -> str:
        """Normalise and stem one word (``pengrajin`` -> ``perajin``).

        Used for codebook seed words.  Noise (a filler, punctuation) gives ''; a text
        of several tokens (``kerja sama``) gives their stems joined by spaces.
        """
        word = word.strip()
        if word.isalpha():
            info = self.word_info(word)
            return info[2] if info[4] else ""
        return " ".join(token.stem for token in self.analyze(word))

    def columns(self, text: str) -> tuple[str, str]:
        """``(tokens, stems)`` of one text: space-joined norms of all its tokens, and
        stems of the tokens that are not stop words."""
        notes = self.notes.spans(text)
        if notes:
            infos, starts, ends = self._doc_infos(text, self.nlp.tokenizer(without_surrogates(text)))
            mask = self._note_mask(notes, starts, ends)
            return _join([info for info, noted in zip(infos, mask) if not noted])
        return _join_parts([self.chunk_columns(chunk) for chunk in text.split()])

    def chunk_columns(self, chunk: str) -> tuple[str, str]:
        """``(tokens, stems)`` of one whitespace-free chunk of text (cached per chunk).

        spaCy's tokenizer splits a text at whitespace and tokenises each chunk on its own
        (no rule spans a space, see :mod:`.tokenizer`), so a text's columns are the
        space-joined columns of its chunks — unless a transcriber note, which may span
        spaces, is in the text.
        """
        columns = self._chunks.get(chunk)
        if columns is None:
            infos = [self.word_info(token.text) for token in self.nlp.tokenizer(without_surrogates(chunk))]
            columns = self._chunks[chunk] = _join(infos)
        return columns

    def transform_texts(self, texts: list[str], n_process: int = 1
                        ) -> list[tuple[str, str]]:
        """``(tokens, stems)`` per text; ``n_process > 1`` uses that many processes.

        Output is identical for any ``n_process``: every result is a pure function of
        its text and the config.
        """
        if n_process > 1 and len(texts) > 1:
            from .parallel import transform_parallel

            return transform_parallel(self, texts, n_process)
        get, compute, has_notes = self._chunks.get, self.chunk_columns, self.notes.spans
        rows = []
        with gc_paused():
            for text in texts:
                if has_notes(text):
                    rows.append(self.columns(text))
                    continue
                # the hot path: one lookup per whitespace-separated chunk
                rows.append(_join_parts([get(chunk) or compute(chunk)
                                         for chunk in text.split()]))
        return rows

    def transform(self, segments: pd.DataFrame, n_process: int = 1) -> pd.DataFrame:
        """Add ``tokens`` and ``stems`` columns to a segments table.

        Parameters
        ----------
        segments : DataFrame of shape (n_segments, n_columns)
            Must have a ``text`` column; missing texts count as empty.
        n_process : int, default 1
            Worker processes; the output is identical for any value.

        Returns
        -------
        DataFrame of shape (n_segments, n_columns + 2)
            A new table: the input's columns plus ``tokens`` (space-joined norms of all
            tokens) and ``stems`` (space-joined stems of non-stop tokens).  The input is
            not modified.

        Raises
        ------
        StageError
            T440 when there is no ``text`` column; T441 when ``n_process < 1``.
        """
        if "text" not in segments.columns:
            raise StageError("T440", "the segments table has no 'text' column; columns: "
                             + ", ".join(map(str, segments.columns)))
        if n_process < 1:
            raise StageError("T441", f"n_process must be >= 1, got {n_process}; "
                             "set executor.n_process to 1 or more")
        texts = [_as_text(value) for value in segments["text"].tolist()]
        results = self.transform_texts(texts, n_process=n_process)
        return segments.assign(tokens=[r[0] for r in results], stems=[r[1] for r in results])


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector: the loop allocates millions of small objects
    and makes no reference cycles, so collections would only cost time (~5%)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _join(infos: list) -> tuple[str, str]:
    return (" ".join([info[1] for info in infos if info[4]]),
            " ".join([info[5] for info in infos if info[5]]))


def _join_parts(parts: list) -> tuple[str, str]:
    return (" ".join([part[0] for part in parts if part[0]]),
            " ".join([part[1] for part in parts if part[1]]))


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else str(value)
