"""Speaker turns in a decoded transcript: header metadata, labels and exact offsets.

:func:`parse_transcript` reads the decoded source of one transcript (see
:mod:`themepipe.sources`) and returns its header metadata, its turns and the label
problems found.  Every offset indexes into the full text, header included, so
``text[turn.start_char:turn.end_char]`` is the turn's speech.

Header blocks
-------------
At the very top of the file:

- YAML front matter between ``---`` lines (closed by ``---`` or ``...``), read with
  ``yaml.safe_load``;
- TOML front matter between ``+++`` lines, as static-site generators write it, read with
  ``tomllib`` (Python 3.11+) or a minimal ``key = "value"`` reader on Python 3.10;
- ``Key: value`` lines whose keys are in ``header_keys`` (``corpus.header_keys``, any
  case), ending at a blank line or at the first line that starts with a speaker label
  (the first turn may follow the header directly); blank lines may precede them.

Front matter opens on the first line (as static-site generators require; a later
``---`` is a markdown rule).

A front-matter block that does not parse into a mapping is read as transcript text and
reported (kind ``invalid_header``).  Nested keys are flattened with dots; every value
becomes a string (dates in ISO 8601, lists joined with ``"; "``).  A single ``Key:
value`` line whose key is also used as a speaker label further down (``Informan: ...``)
is read as a turn and reported (kind ``ambiguous_header``); a block of ``Key: value``
lines starting with a header key but with other keys is read as text and reported
(kind ``incomplete_header``).

Speaker labels
--------------
A label starts a line and ends with a colon (or a tab, as in rows of a Word table).
Around it may be a timestamp (``[00:03:15]``, ``(00:03:15)``, ``00:03:15``, optionally
followed by ``-``) and markdown bold or italic markers, also escaped by a converter
(``**Tanya:**``, ``**Pak Darmo**:``, ``\\*\\*K:\\*\\*``); a bold label needs no colon
(``**K** iya``).  The label as returned has the timestamp, markers and colon removed and
runs of whitespace collapsed: ``Pak Darmo (Kadus)``, ``Narasumber``, ``K``.

A label of the form ``Name (X)`` introduces ``Name`` and ``X`` as other names of the same
speaker in this file (``Kiki (K)`` ... ``K:``, or ``K (Kiki)``), unless ``X`` is claimed by
two different speakers (``Pak Darmo (Warga)``, ``Bu Sri (Warga)``), which is reported
(kind ``ambiguous_alias``).  Labels are compared case-insensitively and with whitespace
collapsed.

Which candidates are labels:

- with ``known_labels`` (interviewer labels plus the labels of ``informants.csv``): a
  candidate is a label when it is a known label, has a known part (``Kiki (K)`` when
  ``K`` is known; ``K (Kiki)`` when ``Kiki (K)`` is known), or is a name introduced by an
  accepted ``Name (X)`` label of the file.  Any other candidate is speech.  It is
  reported (kind ``unknown_label``) when it is within a small edit distance of a known
  label (with the suggestion), or when it looks like a label by the heuristic below;
- without ``known_labels``, the heuristic: a candidate of at most 4 words before an
  optional ``(...)`` part and at most 40 characters, starting with a letter, that is not a
  header key or a word that often ends a phrase with a colon in speech (``Jadi``,
  ``Catatan``, ``Misalnya``, ...), is a label when it

  * is a generic label (``P``, ``I``, ``T``, ``J``, ``Peneliti``, ``Narasumber``,
    ``Informan``, ``Pewawancara``, ``Penanya``, ``Responden``, ``Tanya``, ``Jawab``, ...,
    any case, optionally numbered: ``Informan 2``, ``P1``);
  * is a single capital letter (``K``);
  * starts with an honorific or a role word (``Pak``, ``Bu``, ``Mbak``, ``Kadus``, ...)
    followed by capitalised words (``Pak Darmo``, ``Bu Sri``), or recurs in the file;
  * is ``Name (X)`` with capitalised words and ``X`` starting with a capital letter;
  * has every word capitalised and recurs: used as a label on at least two lines;

  or is a name introduced by an accepted ``Name (X)`` label.  So ``Jadi begini: harganya
  naik`` (lower-case second word) and ``Catatan: ...`` are speech.

A ``label_pattern`` (``corpus.label_pattern``) replaces the built-in recognition: see
:func:`compile_label_pattern`.  Its matches are labels without the heuristic; with
``known_labels`` they are still filtered as above.

A turn's speech runs from the label over following lines and blank-line-separated
paragraphs up to the next label line, without surrounding whitespace (``str.strip``);
a label with no speech gives an empty span at the end of the label.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from .config import DEFAULT_HEADER_KEYS, DEFAULT_INTERVIEWER_LABELS
from .errors import ConfigError

#: Error code for an invalid ``corpus.label_pattern``.
E_LABEL_PATTERN = "T011"

#: Generic speaker labels recognised without ``known_labels`` (compared case-insensitively).
GENERIC_LABELS = tuple(dict.fromkeys([
    *DEFAULT_INTERVIEWER_LABELS,
    "P", "I", "T", "J", "R", "N", "Peneliti", "Pewawancara", "Penanya", "Tanya",
    "Pertanyaan", "Narasumber", "Informan", "Responden", "Jawab", "Jawaban", "Peserta",
    "Partisipan", "Interviewer", "Interviewee", "Moderator", "Fasilitator", "Notulis",
]))

# First words that make a short capitalised candidate look like a person's label.
_HONORIFICS = frozenset("""
pak bapak bu ibu mas mbak mba mbakyu mbah kang bang abang kak kakak dik adik dek cak ning
den raden mak eyang romo ki nyi haji hajah hajjah h. hj. dr. drs. dra. ir. prof. ustadz
ustad ustaz ustazah kyai kiai gus pakde bude budhe paklik bulik om tante sdr. sdri.
saudara saudari bpk. bpk ibu. mr. mrs. ms. lik pakdhe
""".split())
_ROLE_WORDS = frozenset("""
kadus dukuh lurah kades carik sekdes camat bupati ketua wakil sekretaris bendahara kepala
kabid kasi kasubag staf pegawai anggota pengurus pengrajin perajin warga tokoh pemilik
pendamping penyuluh koordinator
""".split())
# Words that often end a phrase with a colon in ordinary speech or transcriber notes.
_NOT_LABELS = frozenset("""
jadi nah terus lalu kemudian tapi tetapi dan atau karena kalau kalo yang itu ini begini
gini begitu gitu ya iya yo oh lho loh wah kata katanya contoh contohnya misal misalnya
catatan keterangan ket note nb ps artinya intinya pokoknya maksudnya yaitu yakni
kesimpulan kesimpulannya alasannya masalahnya pertama kedua ketiga keempat kelima
terakhir akhirnya sumber waktu tempat hari jam durasi topik tema judul sesi bagian
transkrip transkriptor perekam rekaman lampiran ringkasan
""".split())

_WS = r"[^\S\n]"
_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_MARK = r"(?:\\?[*_]){1,3}"
_COLON = r":(?![\d/])"  # not a time (10:30) or a URL (https://)
_PREFIX_RE = re.compile(
    rf"{_WS}*(?P<m0>{_MARK})?{_WS}*"
    rf"(?:(?:\[{_WS}*{_TS}{_WS}*\]|\({_WS}*{_TS}{_WS}*\)|{_TS}(?=\s))"
    rf"{_WS}*(?:[-\u2013\u2014|]{_WS}*)?(?P<m1>{_MARK})?{_WS}*)?")
# Labels start and end with a non-space character, so that the label and the spaces
# around it cannot be split in many ways (keeps matching linear on long blank runs).
_BOLD_RE = re.compile(
    rf"(?P<lab>[^*_:\s\\](?:[^*_:\t\n\\]{{0,58}}?[^*_:\s\\])?)"
    rf"{_WS}*(?P<c1>{_COLON})?{_WS}*(?P<m2>{_MARK})"
    rf"(?:{_WS}*(?P<role>\([^()\n:*\\]{{1,40}}\)){_WS}*(?P<c3>{_COLON})"
    rf"|{_WS}*(?P<c2>{_COLON}))?")
_PLAIN_RE = re.compile(
    rf"(?P<lab>[^:\s](?:[^:\t\n]{{0,58}}[^:\s])?){_WS}*"
    rf"(?:(?P<colon>{_COLON})(?P<m2>{_MARK})?|(?P<tab>\t))")
_STRIP_MARKS_RE = re.compile(r"\\?\*|(?:\\?_){2,}|^\\?_|\\?_$")
_SHAPE_RE = re.compile(
    r"(?P<outer>[^\W\d_][\w.'\u2019\-]*(?: [\w.'\u2019\-]+){0,5})"
    r"(?: ?\((?P<inner>[^()]{1,40})\))?")
_OPEN_PAREN_RE = re.compile(r"\s*\(\s*")
_CLOSE_PAREN_RE = re.compile(r"\s*\)")
_NUMBERED_RE = re.compile(r"(?P<base>.*?) ?\d{1,3}")
_NONSPACE_RE = re.compile(r"\S")
_COLON_RE = re.compile(_COLON)
_NONBLANK_LINE_RE = re.compile(r"^[^\S\n]*\S", re.MULTILINE)
_KV_RE = re.compile(
    rf"{_WS}*(?:\\?[*_]){{0,3}}(?P<key>[^:\n*\\]{{1,40}}?){_WS}*(?:\\?[*_]){{0,3}}{_WS}*:"
    rf"(?:\\?[*_]){{0,3}}{_WS}*(?P<value>[^\n]*)")
_YAML_END_RE = re.compile(r"^(?:---|\.\.\.)[^\S\n]*$", re.MULTILINE)
_TOML_END_RE = re.compile(r"^\+\+\+[^\S\n]*$", re.MULTILINE)

_HEAD_CHARS = 200  # label candidates are looked for in the first characters of a line
_MAX_LABEL_CHARS = 60
_HEURISTIC_MAX_CHARS = 40
_HEURISTIC_MAX_WORDS = 4
_MAX_HEADER_LINES = 100
_MAX_FRONT_MATTER_CHARS = 65536
_MAX_META_KEYS = 1000
_MAX_META_VALUE = 10000
_MAX_META_DEPTH = 20
_MAX_SUGGEST_LINES = 5


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker's contiguous speech.

    Parameters
    ----------
    speaker_label : str
        The label as written, without timestamp, markdown markers and colon.
    aliases : tuple of str
        Every form naming the same speaker in this file, the label included
        (``("Kiki (K)", "Kiki", "K")``); ``(speaker_label,)`` for a plain label.
    start_char, end_char : int
        The speech is ``text[start_char:end_char]`` (code points, end exclusive),
        without the label and surrounding whitespace; equal for a label with no speech.
    line : int
        1-based line number of the label.
    """

    speaker_label: str
    aliases: tuple[str, ...]
    start_char: int
    end_char: int
    line: int


@dataclass(frozen=True, slots=True)
class LabelProblem:
    """Something about the labels of a transcript a researcher should look at.

    Parameters
    ----------
    line : int
        1-based line number.
    kind : str
        ``unknown_label``, ``two_labels_on_line``, ``ambiguous_alias``,
        ``text_before_first_label``, ``invalid_header``, ``incomplete_header`` or
        ``ambiguous_header``.
    message : str
        One line: what is wrong and how to fix it.
    suggestion : str or None
        The probable intended label (``"Narasumber"`` for ``Narasumbr``), or another
        short fix.
    """

    line: int
    kind: str
    message: str
    suggestion: str | None = None


@dataclass(frozen=True)
class ParsedTranscript:
    """Header metadata, turns and label problems of one transcript.

    Parameters
    ----------
    metadata : dict of str to str
        Header values (front matter keys flattened with dots); empty without a header.
    body_start : int
        Offset of the first character after the header block (0 without one).
    turns : list of Turn
        In order of appearance; offsets index into the full text.
    problems : list of LabelProblem
        In order of line.
    """

    metadata: dict[str, str]
    body_start: int
    turns: list[Turn]
    problems: list[LabelProblem] = field(default_factory=list)


@dataclass(slots=True)
class _Candidate:
    line: int
    line_start: int
    line_end: int
    speech_start: int
    label: str
    key: str
    outer: str | None = None
    inner: str | None = None
    shape_ok: bool = False


@dataclass
class _Header:
    metadata: dict[str, str]
    body_start: int
    single_key: str | None = None  # key of a one-line ``Key: value`` header
    problems: list[LabelProblem] = field(default_factory=list)
    ended_by_label: bool = False  # the block ended at a speaker label, not a blank line


@functools.lru_cache(maxsize=65536)
def label_key(label: str) -> str:
    """Return the comparison form of a label: case-folded, whitespace collapsed.

    ``"Pak  Darmo(Kadus)"`` and ``"pak darmo (kadus)"`` have the same key.
    """
    label = _OPEN_PAREN_RE.sub(" (", label)
    label = _CLOSE_PAREN_RE.sub(")", label)
    return " ".join(label.split()).casefold()


@functools.lru_cache(maxsize=32)
def compile_label_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a ``corpus.label_pattern`` override.

    The pattern is matched at the start of every line (``re.match``; ``^`` and ``$``
    refer to the line).  It must have a named group ``label`` capturing the speaker
    label; markdown markers in it are removed and whitespace collapsed.  The speech
    starts where the match ends, or where the optional named group ``speech`` starts.
    Example: ``r"(?P<label>[A-Z][a-z]+)\\s*>\\s*"`` for ``Darmo > iya``.

    Raises
    ------
    ConfigError
        Not a valid regular expression, or without a ``label`` group (T011).
    """
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise ConfigError(E_LABEL_PATTERN, f"corpus.label_pattern is not a valid regular "
                          f"expression ({exc}); fix it or remove the key") from None
    if "label" not in compiled.groupindex:
        raise ConfigError(E_LABEL_PATTERN, "corpus.label_pattern has no named group "
                          "'label'; write e.g. '(?P<label>[A-Z]\\w*):\\s*'")
    return compiled


def parse_transcript(text: str, header_keys: Iterable[str] = DEFAULT_HEADER_KEYS,
                     known_labels: Iterable[str] | None = None,
                     label_pattern: str | None = None,
                     name: str = "<transcript>") -> ParsedTranscript:
    """Split a decoded transcript into header metadata and speaker turns.

    Parameters
    ----------
    text : str
        Decoded source (LF line endings), see :func:`themepipe.sources.read_source`.
    header_keys : iterable of str
        Keys of ``Key: value`` header lines (``corpus.header_keys``), any case.
    known_labels : iterable of str, optional
        Every label that may name a speaker in this file (interviewer labels and the
        informants' labels).  ``None`` uses the heuristic of the module docstring.
    label_pattern : str, optional
        Regex override for label recognition; see :func:`compile_label_pattern`.
    name : str
        Transcript name.  Problems carry line numbers only; the caller attaches the
        name when it records them.

    Returns
    -------
    ParsedTranscript
        ``turns[i]`` speech is ``text[turns[i].start_char:turns[i].end_char]``.

    Raises
    ------
    ConfigError
        ``label_pattern`` is invalid (T011).

    Notes
    -----
    One pass over the lines with compiled, bounded regexes on at most the first
    200 characters of each line: linear in the length of the text.
    """
    matcher = compile_label_pattern(label_pattern) if label_pattern else None
    keys = [str(key) for key in header_keys]
    known = None if known_labels is None else [str(label) for label in known_labels]
    label_keys = frozenset(label_key(label) for label in (
        known if known is not None else GENERIC_LABELS))
    header = _read_header(text, keys, label_keys)
    parsed = _parse_body(text, header, keys, known, matcher)
    if header.single_key is not None and label_key(header.single_key) in {
            label_key(alias) for turn in parsed.turns for alias in turn.aliases}:
        if header.ended_by_label:  # 'Informan: ...' right before 'Peneliti: ...': a turn
            return _parse_body(text, _Header({}, 0), keys, known, matcher)
        line = text.count("\n", 0, _first_nonblank(text, 0)) + 1
        problem = LabelProblem(
            line, "ambiguous_header",
            f"'{header.single_key}: ...' could be a header line or a turn; it was read "
            "as a turn because the label is used below; put header lines in YAML front "
            "matter (--- ... ---) to make it a header", None)
        parsed = _parse_body(text, _Header({}, 0, problems=[problem]), keys, known,
                             matcher)
    return parsed


# ---------------------------------------------------------------------------- header


def _first_nonblank(text: str, pos: int) -> int:
    match = _NONBLANK_LINE_RE.search(text, pos)
    if match is None:
        return len(text)
    return text.rfind("\n", 0, match.end() - 1) + 1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _read_header(text: str, header_keys: list[str], label_keys: frozenset[str]) -> _Header:
    # Front matter must open on the very first line (a BOM before it is tolerated), as
    # static-site generators require: a later '---' is a markdown rule.
    start = 1 if text.startswith("\ufeff") else 0
    open_end = _line_end(text, start)
    fence = text[start:open_end].strip()
    if fence in ("---", "+++") and open_end < len(text):
        end_re = _YAML_END_RE if fence == "---" else _TOML_END_RE
        close = end_re.search(text, open_end + 1,
                              min(len(text), open_end + 1 + _MAX_FRONT_MATTER_CHARS))
        if close is not None:
            block = text[open_end + 1:close.start()]
            try:
                metadata = _flatten(_load_front_matter(block, fence))
            except ValueError as exc:
                kind = "YAML" if fence == "---" else "TOML"
                problem = LabelProblem(
                    1, "invalid_header",
                    f"front matter is not a valid {kind} mapping ({exc}); it was read as "
                    f"transcript text; fix the {kind} between the '{fence}' lines", None)
                return _Header({}, 0, problems=[problem])
            body_start = min(_line_end(text, close.start()) + 1, len(text))
            return _Header(metadata, body_start)
    start = _first_nonblank(text, 0)
    if start >= len(text):
        return _Header({}, 0)
    return _read_key_value_header(text, start, header_keys, label_keys)


def _load_front_matter(block: str, fence: str) -> dict:
    """Parse a YAML (``---``) or TOML (``+++``) block; ValueError if not a mapping."""
    if fence == "---":
        try:
            data = yaml.safe_load(block)
        except Exception as exc:  # noqa: BLE001 - PyYAML raises YAMLError but also
            # ValueError/OverflowError/RecursionError on some scalars and nestings
            raise ValueError(_one_line(exc)) from None
    else:
        try:
            data = _load_toml(block)
        except Exception as exc:  # noqa: BLE001 - tomllib.TOMLDecodeError, ValueError
            raise ValueError(_one_line(exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"got a {type(data).__name__}, not key: value pairs")
    return data


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:120] or type(exc).__name__)


def _load_toml(block: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(block)
    return parse_simple_toml(block)  # pragma: no cover - Python 3.10


def parse_simple_toml(block: str) -> dict:
    """Read the ``key = value`` subset of TOML used in front matter (Python 3.10).

    Supports ``[table]`` headers, ``#`` comments, basic strings (with ``\\"`` and
    ``\\\\`` escapes), literal strings, and bare values (numbers, booleans, dates)
    kept as their text.

    Raises
    ------
    ValueError
        A line is neither a table header nor ``key = value``, or a string is not closed.
    """
    data: dict = {}
    table = data
    for number, raw in enumerate(block.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            table = data
            for part in line.strip("[]").split("."):
                table = table.setdefault(part.strip().strip("\"'"), {})
                if not isinstance(table, dict):
                    raise ValueError(f"line {number}: table {line} redefines a key")
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"line {number} is not key = value")
        table[key.strip().strip("\"'")] = _simple_toml_value(value.strip(), number)
    return data


def _simple_toml_value(value: str, number: int) -> str:
    if not value:
        raise ValueError(f"line {number}: missing value")
    if value[:1] == '"':
        match = re.match(r'"((?:[^"\\]|\\.)*)"', value)
        if match is None:
            raise ValueError(f"line {number}: string is not closed")
        return re.sub(r"\\(.)", r"\1", match.group(1))
    if value[:1] == "'":
        end = value.find("'", 1)
        if end < 0:
            raise ValueError(f"line {number}: string is not closed")
        return value[1:end]
    return value.split("#", 1)[0].strip()


def _flatten(data: dict, prefix: str = "", depth: int = 0,
             flat: dict[str, str] | None = None) -> dict[str, str]:
    """Flatten nested front matter into dotted keys with string values.

    Raises
    ------
    ValueError
        Deeper than 20 levels or more than 1000 keys (YAML anchors can make small
        files expand enormously).
    """
    flat = {} if flat is None else flat
    if depth > _MAX_META_DEPTH:
        raise ValueError(f"nested deeper than {_MAX_META_DEPTH} levels")
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, name + ".", depth + 1, flat)
        else:
            flat[name] = _to_text(value, depth + 1)
        if len(flat) > _MAX_META_KEYS:
            raise ValueError(f"more than {_MAX_META_KEYS} keys")
    return flat


def _to_text(value, depth: int = 0) -> str:
    """A metadata value as text: ISO dates, lists joined with ``"; "``.

    Raises
    ------
    ValueError
        Nested deeper than 20 levels or longer than 10000 characters.
    """
    if depth > _MAX_META_DEPTH:
        raise ValueError(f"nested deeper than {_MAX_META_DEPTH} levels")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dict):
        items = [f"{key}: {_to_text(item, depth + 1)}" for key, item in value.items()]
        value = items
    if isinstance(value, (list, tuple)):
        parts, size = [], 0
        for item in value:
            part = _to_text(item, depth + 1)
            size += len(part) + 2
            if size > _MAX_META_VALUE:
                raise ValueError(f"a value is longer than {_MAX_META_VALUE} characters")
            parts.append(part)
        return "; ".join(parts)
    return str(value)


def _read_key_value_header(text: str, start: int, header_keys: list[str],
                           label_keys: frozenset[str]) -> _Header:
    """Read ``Key: value`` lines from ``start`` up to a blank line or a speaker label.

    They are a header when every key is in ``header_keys``; the block also ends, without
    a blank line, at a line starting with a speaker label (a key in ``label_keys``).
    When the block starts with a header key but has other keys that are not labels
    either (``Durasi: 40 menit``), it is read as text and reported, so the researcher
    can add the keys.
    """
    canonical = {label_key(key): key for key in header_keys}
    metadata: dict[str, str] = {}
    others: list[str] = []
    pos = start
    ended_by_label = False
    for _ in range(_MAX_HEADER_LINES):
        end = _line_end(text, pos)
        head = text[pos:min(end, pos + _HEAD_CHARS)]
        if not head.strip():
            break
        match = _KV_RE.match(head)
        if match is None:
            return _Header({}, 0)
        raw_key = " ".join(_clean_label(match.group("key")).split())
        key = canonical.get(label_key(raw_key))
        if key is None:
            if not metadata:
                return _Header({}, 0)
            if label_key(raw_key) in label_keys and not others:
                ended_by_label = True  # the first turn follows the header directly
                break
            others.append(raw_key)
        elif key in metadata:
            return _Header({}, 0)
        else:
            value = text[pos + match.start("value"):end]
            metadata[key] = _clean_label(value) if "*" in value else value.strip()
        pos = end + 1
        if pos > len(text):
            break
    else:
        return _Header({}, 0)
    if others:
        line = text.count("\n", 0, start) + 1
        keys = ", ".join(f"'{key}'" for key in others)
        problem = LabelProblem(
            line, "incomplete_header",
            f"the lines at the top look like a header but {keys} "
            f"{'is' if len(others) == 1 else 'are'} not in corpus.header_keys, so they "
            "were read as transcript text; add the keys to corpus.header_keys",
            f"add {keys} to corpus.header_keys")
        return _Header({}, 0, problems=[problem])
    if not metadata:
        return _Header({}, 0)
    single = next(iter(metadata)) if len(metadata) == 1 else None
    return _Header(metadata, min(pos, len(text)), single_key=single,
                   ended_by_label=ended_by_label)


# ---------------------------------------------------------------------------- labels


def _clean_label(raw: str) -> str:
    if "*" in raw or "_" in raw:
        raw = _STRIP_MARKS_RE.sub("", raw)
    return " ".join(raw.split())


@functools.lru_cache(maxsize=65536)
def _label_form(raw_label: str) -> tuple[str, str, str | None, str | None, bool] | None:
    """``(label, key, outer, inner, shape_ok)`` of a raw label, or None if unusable."""
    label = _clean_label(raw_label)
    if not label or len(label) > _MAX_LABEL_CHARS:
        return None
    shape = _SHAPE_RE.fullmatch(label)
    if shape is None:
        return label, label_key(label), None, None, False
    inner = shape.group("inner")
    if inner is None or not inner.strip():
        return label, label_key(label), None, None, True
    outer = shape.group("outer").strip()
    return label, label_key(label), outer, " ".join(inner.split()), True


def _make_candidate(line: int, line_start: int, line_end: int, speech_start: int,
                    raw_label: str) -> _Candidate | None:
    form = _label_form(raw_label)
    if form is None:
        return None
    return _Candidate(line, line_start, line_end, speech_start, *form)


def _probe_builtin(text: str, line: int, start: int, end: int) -> _Candidate | None:
    head = text[start:min(end, start + _HEAD_CHARS)]
    if ":" not in head and "\t" not in head:
        stripped = head.lstrip()
        if not stripped.startswith(("*", "_", "\\*", "\\_")):
            return None
    prefix = _PREFIX_RE.match(head)
    pos = prefix.end()
    marks = ""
    if pos:
        m0, m1 = prefix.group("m0", "m1")
        marks = (m0 or "") + (m1 or "")
    if marks:
        bold = _BOLD_RE.match(head, pos)
        if bold is not None:
            lab, c1, c2, c3, closing, role = bold.group(
                "lab", "c1", "c2", "c3", "m2", "role")
            after = bold.end()
            if (c1 or c2 or c3) or (len(closing.replace("\\", "")) >= 2
                                    and len(marks.replace("\\", "")) >= 2
                                    and (after >= len(head) or head[after].isspace())):
                label = f"{lab} {role}" if role else lab
                return _make_candidate(line, start, end, start + after, label)
    plain = _PLAIN_RE.match(head, pos)
    if plain is None:
        return None
    if marks or plain.group("tab"):
        speech = plain.end()
    else:
        speech = plain.end("colon")
    return _make_candidate(line, start, end, start + speech, plain.group("lab"))


def _probe_pattern(matcher: re.Pattern[str], text: str, line: int, start: int,
                   end: int) -> _Candidate | None:
    match = matcher.match(text, start, end)
    if match is None or match.group("label") is None:
        return None
    speech = match.end()
    if "speech" in matcher.groupindex and match.start("speech") >= 0:
        speech = match.start("speech")
    return _make_candidate(line, start, end, speech, match.group("label"))


def _scan(text: str, body_start: int, matcher: re.Pattern[str] | None) -> list[_Candidate]:
    candidates = []
    line = text.count("\n", 0, body_start) + 1
    pos = 1 if body_start == 0 and text.startswith("\ufeff") else body_start
    size = len(text)
    while pos < size:
        end = text.find("\n", pos)
        if end < 0:
            end = size
        if matcher is None:
            candidate = _probe_builtin(text, line, pos, end)
        else:
            candidate = _probe_pattern(matcher, text, line, pos, end)
        if candidate is not None:
            candidates.append(candidate)
        pos = end + 1
        line += 1
    return candidates


def _is_generic(key: str, generic_keys: frozenset[str]) -> bool:
    if key in generic_keys:
        return True
    numbered = _NUMBERED_RE.fullmatch(key)
    return numbered is not None and numbered.group("base").strip() in generic_keys


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def _looks_like_label(candidate: _Candidate, count: int, header_keys: frozenset[str],
                      generic_keys: frozenset[str]) -> bool:
    """The heuristic of the module docstring, for use without known labels."""
    if not candidate.shape_ok or len(candidate.label) > _HEURISTIC_MAX_CHARS:
        return False
    outer = candidate.outer if candidate.outer is not None else candidate.label
    words = outer.split()
    if len(words) > _HEURISTIC_MAX_WORDS:
        return False
    if candidate.inner is not None and len(candidate.inner.split()) > _HEURISTIC_MAX_WORDS:
        return False
    key, outer_key = candidate.key, label_key(outer)
    if _is_generic(key, generic_keys) or _is_generic(outer_key, generic_keys):
        return True
    if key in header_keys or outer_key in header_keys or words[0].casefold() in _NOT_LABELS:
        return False
    if len(outer) == 1 and outer.isupper():
        return True
    first = words[0].casefold()
    rest_capitalised = all(_capitalised(word) for word in words[1:])
    if first in _HONORIFICS or first in _ROLE_WORDS:
        return _capitalised(words[0]) and (rest_capitalised or count >= 2)
    if not all(_capitalised(word) for word in words):
        return False
    if candidate.inner is not None and _capitalised(candidate.inner):
        return True
    return count >= 2


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` when above ``limit``.

    Only the diagonal band of width ``2 * limit + 1`` of the dynamic programme is
    computed (Ukkonen 1985, "Algorithms for approximate string matching").
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, char_a in enumerate(a, start=1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [over] * (len(b) + 1)
        if i <= limit:
            current[0] = i
        for j in range(low, high + 1):
            cost = previous[j - 1] + (char_a != b[j - 1])
            current[j] = min(cost, previous[j] + 1, current[j - 1] + 1, over)
        if min(current[max(0, low - 1):high + 1]) > limit:
            return over
        previous = current
    return previous[-1]


class _Suggester:
    """Find the target label nearest to a rejected candidate.

    A target of n characters allows ``min(2, (n - 1) // 2)`` edits, so one-letter
    labels (``P``) never attract suggestions and ``Narasumber`` allows two.  Targets
    are bucketed by length, and a pair is skipped when one has more distinct
    characters missing from the other than edits allowed (each edit adds or removes
    at most one), so most candidates reach no dynamic programme.
    """

    def __init__(self, targets: dict[str, str]) -> None:
        self._by_length: dict[int, list[tuple[str, str, int, frozenset[str]]]] = {}
        for target_key, target in targets.items():
            limit = min(2, (len(target_key) - 1) // 2)
            if limit > 0:
                self._by_length.setdefault(len(target_key), []).append(
                    (target_key, target, limit, frozenset(target_key)))

    def suggest(self, key: str) -> str | None:
        best, best_distance = None, 3
        size = len(key)
        chars = frozenset(key)
        for length in range(size - 2, size + 3):
            for target_key, target, limit, target_chars in self._by_length.get(length, ()):
                if (abs(length - size) > limit or target_key == key
                        or len(chars - target_chars) > limit
                        or len(target_chars - chars) > limit):
                    continue
                distance = _edit_distance(key, target_key, limit)
                if distance <= limit and (distance, target) < (best_distance, best or ""):
                    best, best_distance = target, distance
        return best


def _line_list(lines: list[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:_MAX_SUGGEST_LINES])
    more = len(lines) - _MAX_SUGGEST_LINES
    return shown + (f" and {more} more" if more > 0 else "")


def _parse_body(text: str, header: _Header, header_keys: list[str],
                known: list[str] | None, matcher: re.Pattern[str] | None
                ) -> ParsedTranscript:
    candidates = _scan(text, header.body_start, matcher)
    header_key_set = frozenset(label_key(key) for key in header_keys)
    generic_keys = frozenset(label_key(label) for label in GENERIC_LABELS)
    counts: dict[str, int] = {}
    for candidate in candidates:
        counts[candidate.key] = counts.get(candidate.key, 0) + 1

    accepted = [False] * len(candidates)
    if known is not None:
        known_keys: set[str] = set()
        for label in known:
            known_keys.add(label_key(label))
            shape = _SHAPE_RE.fullmatch(" ".join(label.split()))
            if shape is not None and shape.group("inner"):
                known_keys.add(label_key(shape.group("outer")))
                known_keys.add(label_key(shape.group("inner")))
        for index, candidate in enumerate(candidates):
            accepted[index] = candidate.key in known_keys or (
                candidate.inner is not None
                and (label_key(candidate.outer) in known_keys
                     or label_key(candidate.inner) in known_keys))
    elif matcher is not None:
        accepted = [True] * len(candidates)
    else:
        decided: dict[str, bool] = {}  # by label as written: the heuristic reads its case
        for index, candidate in enumerate(candidates):
            decision = decided.get(candidate.label)
            if decision is None:
                decision = decided[candidate.label] = _looks_like_label(
                    candidate, counts[candidate.key], header_key_set, generic_keys)
            accepted[index] = decision
    _accept_introduced_names(candidates, accepted)

    problems = list(header.problems)
    problems.extend(_rejected_problems(candidates, accepted, known, counts,
                                       header_key_set, generic_keys))
    chosen = [candidate for candidate, ok in zip(candidates, accepted, strict=True) if ok]
    aliases, ambiguous = _speaker_aliases(chosen)
    turns = _build_turns(text, chosen, aliases)
    problems.extend(_ambiguous_alias_problems(chosen, ambiguous))
    problems.extend(_two_label_problems(text, chosen, aliases, known))
    problems.extend(_text_before_first_label(text, header.body_start, chosen, header_keys))
    problems.sort(key=lambda problem: problem.line)
    return ParsedTranscript(dict(header.metadata), header.body_start, turns, problems)


def _accept_introduced_names(candidates: list[_Candidate], accepted: list[bool]) -> None:
    """Accept candidates naming a part of an accepted ``Name (X)`` label (in place)."""
    by_key: dict[str, list[int]] = {}
    for index, candidate in enumerate(candidates):
        by_key.setdefault(candidate.key, []).append(index)
    introduced: set[str] = set()
    queue = [index for index, ok in enumerate(accepted) if ok]
    while queue:
        candidate = candidates[queue.pop()]
        if candidate.inner is None:
            continue
        for part in (candidate.outer, candidate.inner):
            part_key = label_key(part)
            if part_key in introduced:
                continue
            introduced.add(part_key)
            for index in by_key.get(part_key, ()):
                if not accepted[index]:
                    accepted[index] = True
                    queue.append(index)


def _rejected_problems(candidates: list[_Candidate], accepted: list[bool],
                       known: list[str] | None, counts: dict[str, int],
                       header_keys: frozenset[str], generic_keys: frozenset[str]
                       ) -> list[LabelProblem]:
    targets: dict[str, str] = {}
    for label in (known if known is not None else GENERIC_LABELS):
        targets.setdefault(label_key(label), " ".join(label.split()))
    for candidate, ok in zip(candidates, accepted, strict=True):
        if ok:
            targets.setdefault(candidate.key, candidate.label)
            if candidate.inner is not None:
                targets.setdefault(label_key(candidate.outer), candidate.outer)
                targets.setdefault(label_key(candidate.inner), candidate.inner)
    lines_by_key: dict[str, list[int]] = {}
    first: dict[str, _Candidate] = {}
    for candidate, ok in zip(candidates, accepted, strict=True):
        if not ok and candidate.shape_ok:
            lines_by_key.setdefault(candidate.key, []).append(candidate.line)
            first.setdefault(candidate.key, candidate)
    problems = []
    suggester = _Suggester(targets)
    for key, lines in lines_by_key.items():
        candidate = first[key]
        words = (candidate.outer or candidate.label).split()
        if len(words) > _HEURISTIC_MAX_WORDS:
            continue
        suggestion = suggester.suggest(key)
        where = f"line{'s' if len(lines) > 1 else ''} {_line_list(lines)}"
        if suggestion is not None:
            problems.append(LabelProblem(
                candidate.line, "unknown_label",
                f"'{candidate.label}:' looks like a speaker label but is not a known "
                f"label ({where}); did you mean {suggestion}? Its lines were read as "
                "speech of the turn before", suggestion))
        elif known is not None and _looks_like_label(candidate, counts[key], header_keys,
                                                     generic_keys):
            problems.append(LabelProblem(
                candidate.line, "unknown_label",
                f"'{candidate.label}:' looks like a speaker label but is neither an "
                f"informant's nor an interviewer's label ({where}); add it to "
                "informants.csv or corpus.interviewer_labels; its lines were read as "
                "speech of the turn before", None))
    return problems


def _speaker_aliases(chosen: list[_Candidate]) -> tuple[dict[str, tuple[str, ...]],
                                                         dict[str, list[str]]]:
    """Group accepted labels that name the same speaker.

    Returns the alias tuple for every label key, and for every ambiguous short name the
    full labels claiming it.
    """
    # One representative per label as written: the grouping only depends on labels.
    distinct: dict[str, _Candidate] = {}
    for candidate in chosen:
        distinct.setdefault(candidate.label, candidate)
    chosen = list(distinct.values())
    owners: dict[str, dict[frozenset[str], str]] = {}
    for candidate in chosen:
        if candidate.inner is None:
            continue
        pair = frozenset((label_key(candidate.outer), label_key(candidate.inner)))
        for part_key in pair:
            owners.setdefault(part_key, {}).setdefault(pair, candidate.label)
    ambiguous = {key: list(pairs.values()) for key, pairs in owners.items()
                 if len(pairs) > 1}

    parent: dict[str, str] = {}

    def find(key: str) -> str:
        parent.setdefault(key, key)
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    def union(a: str, b: str) -> None:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[root_b] = root_a

    for candidate in chosen:
        find(candidate.key)
        if candidate.inner is not None:
            for part in (candidate.outer, candidate.inner):
                part_key = label_key(part)
                if part_key not in ambiguous:
                    union(candidate.key, part_key)

    # Order: each "Name (X)" form followed by its parts, then the other forms.
    full_forms: dict[str, list[str]] = {}
    other_forms: dict[str, list[str]] = {}
    for candidate in chosen:
        root = find(candidate.key)
        if candidate.inner is not None:
            forms = full_forms.setdefault(root, [])
            forms.append(candidate.label)
            forms.extend(part for part in (candidate.outer, candidate.inner)
                         if label_key(part) not in ambiguous)
        else:
            other_forms.setdefault(root, []).append(candidate.label)
    aliases: dict[str, tuple[str, ...]] = {}
    for candidate in chosen:
        root = find(candidate.key)
        if root not in aliases:
            ordered = full_forms.get(root, []) + other_forms.get(root, [])
            aliases[root] = tuple(dict.fromkeys(ordered))
    return {candidate.key: aliases[find(candidate.key)] for candidate in chosen}, ambiguous


def _build_turns(text: str, chosen: list[_Candidate],
                 aliases: dict[str, tuple[str, ...]]) -> list[Turn]:
    turns = []
    for index, candidate in enumerate(chosen):
        limit = chosen[index + 1].line_start if index + 1 < len(chosen) else len(text)
        first = _NONSPACE_RE.search(text, candidate.speech_start, limit)
        if first is None:
            start = end = candidate.speech_start
        else:
            start, end = first.start(), limit
            while text[end - 1].isspace():  # stops at text[start], which is not space
                end -= 1
        turns.append(Turn(candidate.label, aliases[candidate.key], start, end,
                          candidate.line))
    return turns


def _ambiguous_alias_problems(chosen: list[_Candidate], ambiguous: dict[str, list[str]]
                              ) -> list[LabelProblem]:
    problems, reported = [], set()
    for candidate in chosen:
        if candidate.key in ambiguous and candidate.key not in reported:
            reported.add(candidate.key)
            claimants = ", ".join(ambiguous[candidate.key])
            problems.append(LabelProblem(
                candidate.line, "ambiguous_alias",
                f"'{candidate.label}' names more than one speaker in this file "
                f"({claimants}); write the full label", None))
    return problems


def _two_label_problems(text: str, chosen: list[_Candidate],
                        aliases: dict[str, tuple[str, ...]], known: list[str] | None
                        ) -> list[LabelProblem]:
    # A second label ends in a colon that is not a time or a URL: without one in any
    # turn's first line, there is nothing to look for (and no pattern to compile).
    if not any(_COLON_RE.search(text, candidate.speech_start, candidate.line_end)
               for candidate in chosen):
        return []
    forms = {form for group in aliases.values() for form in group}
    forms.update(" ".join(label.split())
                 for label in (known if known is not None else GENERIC_LABELS))
    forms.discard("")
    if not forms:
        return []
    alternation = "|".join(re.escape(form).replace(r"\ ", r"\s+")
                           for form in sorted(forms, key=lambda form: (-len(form), form)))
    second = re.compile(rf"(?<!\S)(?:\\?[*_]){{0,3}}(?P<form>{alternation})"
                        rf"(?:\\?[*_]){{0,3}}{_WS}*{_COLON}")
    problems = []
    for candidate in chosen:
        if text.find(":", candidate.speech_start, candidate.line_end) < 0:
            continue
        match = second.search(text, candidate.speech_start, candidate.line_end)
        if match is not None:
            column = match.start() - candidate.line_start + 1
            problems.append(LabelProblem(
                candidate.line, "two_labels_on_line",
                f"a second speaker label '{match.group('form')}:' at column {column} is "
                f"on the same line as '{candidate.label}:'; start each turn on its own "
                "line (it was read as speech)", f"start a new line before "
                f"'{match.group('form')}:'"))
    return problems


def _text_before_first_label(text: str, body_start: int, chosen: list[_Candidate],
                             header_keys: list[str]) -> list[LabelProblem]:
    limit = chosen[0].line_start if chosen else len(text)
    first_match = _NONBLANK_LINE_RE.search(text, body_start, limit)
    if first_match is None:
        return []
    n_lines = sum(1 for _ in _NONBLANK_LINE_RE.finditer(text, body_start, limit))
    first = first_match.start()
    line = text.count("\n", 0, first) + 1
    head = text[first:min(_line_end(text, first), first + _HEAD_CHARS)]
    key_value = _KV_RE.match(head)
    suggestion = None
    fix = "start it with a speaker label or delete it"
    configured = {label_key(k) for k in header_keys}
    if key_value is not None and len(key_value.group("key").split()) <= 3:
        key = key_value.group("key").strip()
        if label_key(_clean_label(key)) in configured:
            fix = (f"'{key}' is in corpus.header_keys, but header lines must come first "
                   "in the file, before any turn; move it up or delete it")
        else:
            suggestion = f"add '{key}' to corpus.header_keys"
            fix = f"if it is a header, {suggestion}"
    where = "no speaker label was found" if not chosen else (
        f"before the first speaker label (line {chosen[0].line})")
    return [LabelProblem(
        line, "text_before_first_label",
        f"{n_lines} non-blank line{'s' if n_lines != 1 else ''} of text belong to no "
        f"turn: {where}; {fix}", suggestion)]
