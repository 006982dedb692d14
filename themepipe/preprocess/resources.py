"""Lexical resources read from data files: lexicons, word lists, stem overrides, notes.

Every file is UTF-8 text; blank lines and lines starting with ``#`` are ignored; words are
lowercased and accent-folded on reading, so ``Dhèwèké`` and ``dheweke`` are one key.
The formats are documented in ``configs/README.md``.  A malformed line raises a
:class:`~themepipe.errors.ConfigError` naming the file and line.

Error codes: T030 file unreadable, T031 malformed line, T032 duplicate key,
T033 spacy-lookups-data requested but not installed, T034 invalid note pattern.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError

#: A word in a data file: letters (any script), digits, inner hyphens or apostrophes,
#: and inner or final periods for abbreviations (``m.si``).
_WORD = re.compile(r"^[^\W_](?:[\w'.-]*[^\W_.])?\.?$")


def fold(word: str) -> str:
    """Lowercase ``word`` and strip diacritics (``Dhèwèké`` -> ``dheweke``).

    Parameters
    ----------
    word : str

    Returns
    -------
    str
        NFKD-decomposed, combining marks dropped, recomposed (NFC); letters without an
        ASCII base (``ß``, ``ø``) are kept as they are.
    """
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, stripped line) for content lines of ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("T030", f"cannot read this file ({type(exc).__name__}); check "
                          "the path in the preprocess: section and save it as UTF-8",
                          path=path) from None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def _check_word(word: str, path: Path, number: int, what: str) -> str:
    if not _WORD.match(word):
        raise ConfigError("T031", f"{what} '{word}' is not one word (letters, digits, "
                          "inner '-' or '.'); write one word, e.g. 'tidak'",
                          path=path, line=number)
    return fold(word)


def read_mapping(path: Path, what: str = "entry") -> dict[str, str]:
    """Read a two-column TSV ``key<TAB>value[<TAB>comment]`` into a dict.

    Parameters
    ----------
    path : Path
        The TSV file (lexicon or stem overrides).
    what : str
        Name of the entries, used in error messages.

    Returns
    -------
    dict of str to str
        Folded key -> folded value, in file order.

    Raises
    ------
    ConfigError
        T030 unreadable file, T031 a line without two words, T032 a key given twice.
    """
    mapping: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, line in _lines(path):
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise ConfigError("T031", f"{what} line needs two tab-separated columns "
                              "(form<TAB>standard); got " + repr(line),
                              path=path, line=number)
        key = _check_word(fields[0], path, number, "form")
        value = _check_word(fields[1], path, number, "value")
        if key in seen:
            raise ConfigError("T032", f"'{key}' is listed twice (first on line "
                              f"{seen[key]}); keep one entry", path=path, line=number)
        seen[key] = number
        mapping[key] = value
    return mapping


def read_word_list(path: Path) -> list[str]:
    """Read a list of words, one a line; a leading ``!`` is kept on the word.

    Returns
    -------
    list of str
        Folded words in file order (``!word`` entries keep their ``!``).

    Raises
    ------
    ConfigError
        T030 unreadable file, T031 a line that is not one word.
    """
    words = []
    for number, line in _lines(path):
        bang = line.startswith("!")
        word = _check_word(line[1:].strip() if bang else line, path, number, "word")
        words.append("!" + word if bang else word)
    return words


def literal_note_pattern(note: str) -> str:
    """Regex for a literal note: case-insensitive text, any run of whitespace inside."""
    parts = [re.escape(part) for part in note.split()]
    return r"\s+".join(parts)


def read_note_patterns(path: Path) -> list[str]:
    """Read transcriber-note patterns: ``re:REGEX`` lines or literal notes.

    Returns
    -------
    list of str
        Regular expressions (literal notes escaped), each checked to compile.

    Raises
    ------
    ConfigError
        T030 unreadable file, T034 a regex that does not compile or matches empty text.
    """
    patterns = []
    for number, line in _lines(path):
        pattern = line[3:].strip() if line.startswith("re:") else literal_note_pattern(line)
        check_note_pattern(pattern, path, number)
        patterns.append(pattern)
    return patterns


def check_note_pattern(pattern: str, path: Path | None = None,
                       number: int | None = None) -> None:
    """Raise T034 unless ``pattern`` compiles and cannot match the empty string."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError("T034", f"note pattern {pattern!r} is not a valid regular "
                          f"expression ({exc}); fix it or write the note literally",
                          path=path, line=number) from None
    if compiled.match(""):
        raise ConfigError("T034", f"note pattern {pattern!r} matches empty text; "
                          "make it match at least one character", path=path, line=number)


def lookups_norm_table():
    """Return spacy-lookups-data's ``id_lexeme_norm`` table.

    Returns
    -------
    spacy.lookups.Table
        Keys are hashed by spaCy, so look words up with ``table.get(word)``.

    Raises
    ------
    ConfigError
        T033 when spacy-lookups-data is not installed.
    """
    from spacy.lookups import load_lookups

    try:
        lookups = load_lookups("id", ["lexeme_norm"])
    except (ValueError, ImportError, OSError):
        raise ConfigError("T033", "preprocess.lookups_norm is true but spacy-lookups-data "
                          "is not installed; pip install spacy-lookups-data or set "
                          "preprocess.lookups_norm: false") from None
    return lookups.get_table("lexeme_norm")
