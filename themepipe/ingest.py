"""Ingest: transcripts (or a segment table) plus the informants table -> turn rows.

The ingest stage reads every transcript under ``corpus.path``, decodes it
(:mod:`themepipe.sources`), finds its speaker turns (:mod:`themepipe.speakers`), gives
each turn its role from ``corpus.interviewer_labels`` and ``informants.csv``, and returns
one row per turn — interviewer turns included — with exact offsets into the decoded
source.  Problems with single files are collected as :class:`Problem` records so a run
can skip a bad file, go on, and list every problem at the end.
"""

from __future__ import annotations

import fnmatch
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .codebook import NO_THEME, Codebook
from .config import CorpusConfig
from .errors import InformantError, InputError, Problem, ThemepipeError
from .sources import read_source
from .speakers import label_key, parse_transcript

#: Columns of the turn table returned by :func:`ingest`, in order.
TURN_COLUMNS = ["segment_id", "transcript", "informant_id", "group", "speaker", "role",
                "turn_index", "start_char", "end_char", "text"]
REQUIRED_INFORMANT_COLUMNS = ["transcript", "speaker_label", "informant_id", "group"]
TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".parquet", ".xlsx"}


@dataclass
class Corpus:
    """The ingested corpus.

    Attributes
    ----------
    turns : pandas.DataFrame
        One row per turn, columns :data:`TURN_COLUMNS`, in transcript then turn order.
    sources : dict of str to str
        Decoded source of every transcript (empty for ``format: table``).
    informants : pandas.DataFrame
        The informants table as read (all columns as strings).
    files : dict of str to Path
        Input file of every transcript, for checksums.
    metadata : dict of str to dict
        Header metadata of every transcript.
    problems : list of Problem
    """

    turns: pd.DataFrame
    sources: dict[str, str]
    informants: pd.DataFrame
    files: dict[str, Path]
    metadata: dict[str, dict]
    problems: list[Problem]


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV, TSV, JSONL, Parquet or XLSX table with every column as text.

    Raises
    ------
    InputError
        The file is missing, of an unknown kind, or cannot be parsed (T110, T111).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("T110", "file not found; check the path", path=path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str,
                                keep_default_na=False, encoding="utf-8-sig")
        elif suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            raise InputError("T111", f"unknown table kind '{suffix}'; use one of "
                             f"{', '.join(sorted(TABLE_SUFFIXES))}", path=path)
    except InputError:
        raise
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, ImportError, OSError,
            KeyError, zipfile.BadZipFile) as exc:
        raise InputError("T111", f"cannot read table: {str(exc).splitlines()[0]}; "
                         "check that it is a valid file of its kind", path=path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.fillna("").astype(str)


def load_informants(path: Path | None) -> pd.DataFrame:
    """Read and check ``informants.csv`` (``corpus.informants``).

    Returns
    -------
    pandas.DataFrame
        All columns as stripped strings; at least ``transcript, speaker_label,
        informant_id, group``.

    Raises
    ------
    InformantError
        No table is set (T200), a required column is missing (T201), a required cell is
        empty (T202), or a (transcript, speaker_label) pair is duplicated (T203).
    """
    if path is None:
        raise InformantError("T200", "corpus.informants is not set; point it at "
                             "informants.csv (transcript, speaker_label, informant_id, "
                             "name, group)")
    table = read_table(path)
    missing = [c for c in REQUIRED_INFORMANT_COLUMNS if c not in table.columns]
    if missing:
        raise InformantError("T201", f"informants table has no column "
                             f"{', '.join(repr(m) for m in missing)}; columns found: "
                             f"{', '.join(table.columns)}; it needs "
                             f"{', '.join(REQUIRED_INFORMANT_COLUMNS)}", path=path)
    table = table.apply(lambda col: col.str.strip())
    labels = table["transcript"] + "\0" + table["speaker_label"].map(label_key)
    same = labels.duplicated(keep="first") & ~table.duplicated(
        ["transcript", "speaker_label"], keep="first")
    if same.any():
        row = int(table.index[same][0])
        raise InformantError("T203", f"speaker_label '{table.loc[row, 'speaker_label']}' of "
                             f"'{table.loc[row, 'transcript']}' differs from another row's "
                             "label only in case or spaces; labels are matched ignoring "
                             "those, so keep one row", path=path, line=row + 2)
    for column in REQUIRED_INFORMANT_COLUMNS:
        empty = table.index[table[column] == ""]
        if len(empty):
            raise InformantError("T202", f"empty '{column}' in row {empty[0] + 1}; fill it in",
                                 path=path, line=int(empty[0]) + 2)
    dup = table.duplicated(["transcript", "speaker_label"], keep="first")
    if dup.any():
        row = int(table.index[dup][0])
        t, s = table.loc[row, "transcript"], table.loc[row, "speaker_label"]
        raise InformantError("T203", f"duplicate row for transcript '{t}' and speaker_label "
                             f"'{s}'; keep one row per speaker per transcript",
                             path=path, line=row + 2)
    conflicting = table.groupby("informant_id")["group"].nunique()
    if (conflicting > 1).any():
        inf = conflicting.index[conflicting > 1][0]
        raise InformantError("T204", f"informant '{inf}' has more than one group; "
                             "an informant belongs to one group", path=path)
    return table.reset_index(drop=True)


def discover(corpus: CorpusConfig) -> list[str]:
    """List transcript names (paths relative to ``corpus.path``, POSIX form), sorted.

    Raises
    ------
    InputError
        ``corpus.path`` is not a folder (T101) or holds no matching file (T102).
    """
    root = Path(corpus.path)
    if not root.is_dir():
        raise InputError("T140", "corpus folder not found; set corpus.path to the folder "
                         "of transcripts (or corpus.format: table for a table file)",
                         path=root)
    names = []
    for path in root.rglob("*"):
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts[:-1])
        if path.is_file() and not hidden and not path.name.startswith((".", "~$")) and any(
                fnmatch.fnmatch(path.name.lower(), pat.lower()) for pat in corpus.include):
            names.append(path.relative_to(root).as_posix())
    if not names:
        raise InputError("T141", f"no transcript matches {corpus.include} under this folder; "
                         "check corpus.path and corpus.include", path=root)
    return sorted(names)


def _transcript_turns(name: str, text: str, corpus: CorpusConfig,
                      speakers: pd.DataFrame) -> tuple[list[dict], dict, list[Problem]]:
    """Parse one decoded transcript and give each turn its role and informant."""
    interviewer = {label_key(x) for x in corpus.interviewer_labels}
    labels = speakers["speaker_label"].tolist()  # plain lists: no per-row pandas objects
    by_label = {label_key(label): (informant_id, group) for label, informant_id, group in
                zip(labels, speakers["informant_id"].tolist(), speakers["group"].tolist())}
    known = list(corpus.interviewer_labels) + labels
    parsed = parse_transcript(text, header_keys=corpus.header_keys, known_labels=known,
                              label_pattern=corpus.label_pattern, name=name)
    problems = [Problem(name, p.line, "T120", p.message, "warning") for p in parsed.problems]
    rows = []
    for index, turn in enumerate(parsed.turns):
        keys = [label_key(a) for a in (turn.speaker_label, *turn.aliases)]
        informant = next((by_label[k] for k in keys if k in by_label), None)
        if informant is not None:
            role, (informant_id, group) = "informant", informant
        elif any(k in interviewer for k in keys):
            role, informant_id, group = "interviewer", "", ""
        else:
            raise InformantError(
                "T205", f"speaker '{turn.speaker_label}' is neither an informant of this "
                "transcript in informants.csv nor in corpus.interviewer_labels; add a row "
                "to informants.csv or the label to corpus.interviewer_labels",
                path=name, line=turn.line)
        rows.append({
            "segment_id": f"{name}:{index}", "transcript": name,
            "informant_id": informant_id, "group": group, "speaker": turn.speaker_label,
            "role": role, "turn_index": index, "start_char": turn.start_char,
            "end_char": turn.end_char, "text": text[turn.start_char:turn.end_char],
        })
    if not rows:
        raise InputError("T121", "no speaker turn found; each turn must start a line with "
                         "a label such as 'P:' or 'Narasumber:'", path=name)
    if not any(r["role"] == "informant" and r["text"].strip() for r in rows):
        raise InputError("T122", "no informant speech found (only interviewer turns or "
                         "empty turns); check the speaker labels and informants.csv",
                         path=name)
    return rows, parsed.metadata, problems


def ingest_transcripts(corpus: CorpusConfig, strict: bool = False,
                       progress=None, names: list[str] | None = None,
                       informants: pd.DataFrame | None = None,
                       allow_empty: bool = False) -> Corpus:
    """Read every transcript of a folder corpus into turn rows.

    Parameters
    ----------
    corpus : CorpusConfig
        With ``format: transcripts`` and an ``informants`` table.
    strict : bool
        Raise on the first bad file (one that would be skipped, or whose speaker labels
        have a problem) instead of skipping it or warning.
    progress : callable, optional
        Called as ``progress(done, total)`` after each file.
    names : list of str, optional
        Read only these transcripts (a partition, see :mod:`themepipe.stream`); the
        check that every transcript of informants.csv exists is then left to the
        caller.  Default: every transcript :func:`discover` finds.
    informants : pandas.DataFrame, optional
        The informants table already read by :func:`load_informants`.
    allow_empty : bool
        Return an empty corpus instead of raising T142 when no transcript could be read
        (a partition whose files were all skipped; the caller checks the whole corpus).

    Returns
    -------
    Corpus

    Raises
    ------
    ThemepipeError
        In strict mode, the first problem; always, a missing informants table or an
        empty corpus after skipping.
    """
    if informants is None:
        informants = load_informants(corpus.informants)
    problems: list[Problem] = []
    if names is None:
        names = discover(corpus)
        problems += missing_transcripts(corpus, informants, names, strict)
    root = Path(corpus.path)
    rows: list[dict] = []
    sources: dict[str, str] = {}
    files: dict[str, Path] = {}
    metadata: dict[str, dict] = {}
    wanted = informants[informants["transcript"].isin(set(names))]  # a partition's rows only
    grouped = dict(tuple(wanted.groupby("transcript", sort=False)))
    for done, name in enumerate(names, 1):
        try:
            decoded = read_source(root / name, encoding=corpus.encoding,
                                  max_file_mb=corpus.max_file_mb, display_name=name)
            if not decoded.text.strip():
                raise InputError("T123", "transcript is empty; remove it or add its text",
                                 path=name)
            speakers = grouped.get(name)
            if speakers is None:
                raise InformantError("T207", "transcript has no row in informants.csv; "
                                     "add a row per informant speaker (transcript, "
                                     "speaker_label, informant_id, name, group)", path=name)
            turn_rows, meta, found = _transcript_turns(name, decoded.text, corpus, speakers)
            if strict and found:  # strict: a label problem stops the run too
                first = found[0]
                raise InputError(first.code, first.message, path=name, line=first.line)
        except ThemepipeError as err:
            if strict:
                raise
            problems.append(Problem.from_error(err, "skipped"))
        else:
            problems.extend(found)
            problems.extend(Problem(name, None, "T130", w, "warning") for w in decoded.warnings)
            rows.extend(turn_rows)
            sources[name] = decoded.text
            files[name] = root / name
            metadata[name] = meta
        if progress is not None:
            progress(done, len(names))
    if not rows and not allow_empty:
        raise nothing_read(len(names), problems, root)
    turns = pd.DataFrame(rows, columns=TURN_COLUMNS)
    return Corpus(turns, sources, informants, files, metadata, problems)


def nothing_read(n_names: int, problems: list[Problem], path) -> InputError:
    """The error for a corpus none of whose ``n_names`` transcripts could be read (T142),
    naming the last of their ``problems``."""
    first = problems[-1].format() if problems else ""
    return InputError("T142", f"no transcript could be read ({n_names} skipped); "
                      f"last problem: {first}", path=path)


def missing_transcripts(corpus: CorpusConfig, informants: pd.DataFrame, names: list[str],
                        strict: bool = False) -> list[Problem]:
    """A warning per transcript that informants.csv names but the corpus lacks (T206).

    Raises
    ------
    InformantError
        In strict mode, the first such transcript (T206).
    """
    problems = []
    for missing in sorted(set(informants["transcript"]) - set(names)):
        err = InformantError("T206", f"informants.csv names transcript '{missing}', which is "
                             "not in the corpus folder; fix the name or remove the rows",
                             path=corpus.informants)
        if strict:
            raise err
        problems.append(Problem.from_error(err, "warning"))
    return problems


def ingest_table(corpus: CorpusConfig, codebook: Codebook) -> tuple[Corpus, pd.DataFrame]:
    """Read a segment table (``corpus.format: table``): one row per segment.

    ``transcript`` is the table's file name, ``turn_index`` the 0-based row number, and
    offsets span the whole cell.  The themes column (optional) follows the codes rule:
    ``;``-separated theme ids, ``none`` for coded with no theme, empty for uncoded.

    Returns
    -------
    corpus : Corpus
        Turn rows (all informant rows) and an informants table derived from the rows.
    codes : pandas.DataFrame
        ``transcript, turn_index, themes`` for the coded rows.

    Raises
    ------
    InputError
        A configured column is missing (T112), text cells are empty (T113), or a theme
        is not in the codebook (T210).
    """
    path = Path(corpus.path)
    table = read_table(path)
    needed = [corpus.text_column, corpus.informant_column, corpus.group_column]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError("T112", f"table has no column {', '.join(repr(m) for m in missing)}; "
                         f"columns found: {', '.join(table.columns)}; set "
                         "corpus.text_column / informant_column / group_column", path=path)
    if table.empty:
        raise InputError("T114", "table has no rows; add one row per segment", path=path)
    for column in needed:
        empty = table.index[table[column].str.strip() == ""]
        if len(empty):
            raise InputError("T113", f"{len(empty)} empty '{column}' cell(s), first in row "
                             f"{empty[0] + 1}; remove those rows or fill them in", path=path,
                             line=int(empty[0]) + 2)
    groups_per = table.groupby(table[corpus.informant_column].str.strip())[
        corpus.group_column].nunique()
    if (groups_per > 1).any():
        raise InputError("T115", f"informant '{groups_per.index[groups_per > 1][0]}' has "
                         "rows in more than one group; an informant belongs to one group",
                         path=path)
    if "segment_id" in table.columns:
        check_unique_ids(table["segment_id"].str.strip(), path)
    name = path.name
    texts = table[corpus.text_column]
    turns = pd.DataFrame({
        "segment_id": [f"{name}:{i}" for i in range(len(table))],
        "transcript": name,
        "informant_id": table[corpus.informant_column].str.strip(),
        "group": table[corpus.group_column].str.strip(),
        "speaker": "",
        "role": "informant",
        "turn_index": range(len(table)),
        "start_char": 0,
        "end_char": texts.str.len(),
        "text": texts,
    }, columns=TURN_COLUMNS)
    informants = (turns[["informant_id", "group"]].drop_duplicates("informant_id")
                  .assign(transcript=name, speaker_label="", name="")
                  [["transcript", "speaker_label", "informant_id", "name", "group"]]
                  .reset_index(drop=True))
    codes = pd.DataFrame(columns=["transcript", "turn_index", "themes", "coder"])
    if corpus.themes_column in table.columns:
        cells = table[corpus.themes_column].str.strip()
        coded = cells != ""
        codes = pd.DataFrame({"transcript": name, "turn_index": turns["turn_index"][coded],
                              "themes": cells[coded], "coder": path.stem})
        codes["themes"] = [
            ";".join(check_themes(value, codebook, path, row + 2)) or NO_THEME
            for row, value in codes[["turn_index", "themes"]].itertuples(index=False)]
    return Corpus(turns, {}, informants, {name: path}, {}, []), codes.reset_index(drop=True)


def check_unique_ids(ids: pd.Series, path: Path) -> None:
    """Refuse a segment table whose ``segment_id`` column repeats an id.

    Raises
    ------
    InputError
        An id is empty or appears twice (T800), naming both lines.
    """
    empty = ids.index[ids == ""]
    if len(empty):
        raise InputError("T800", f"empty segment_id in row {empty[0] + 1}; give every row "
                         "an id or drop the segment_id column", path=path,
                         line=int(empty[0]) + 2)
    dup = ids.duplicated(keep="first")
    if dup.any():
        row = int(ids.index[dup][0])
        first = int(ids.index[ids == ids[row]][0])
        raise InputError("T800", f"duplicate segment_id '{ids[row]}' (first in line "
                         f"{first + 2}); make the ids unique or drop the segment_id column",
                         path=path, line=row + 2)


def check_themes(value: str, codebook: Codebook, path, line: int | None) -> list[str]:
    """Split a ``;``-separated themes cell and check every id against the codebook.

    Returns
    -------
    list of str
        Theme ids in codebook order; empty for ``none``.

    Raises
    ------
    InformantError
        An id is not in the codebook, or ``none`` is mixed with themes (T210).
    """
    parts = [p.strip() for p in str(value).split(";") if p.strip()]
    if not parts:
        raise InformantError("T210", f"themes cell '{value}' names no theme; write theme ids "
                             f"separated by ';', or '{NO_THEME}'", path=path, line=line)
    if parts == [NO_THEME]:
        return []
    unknown = [p for p in parts if p not in codebook.ids]
    if unknown or NO_THEME in parts:
        bad = unknown[0] if unknown else NO_THEME
        raise InformantError("T210", f"theme '{bad}' is not in the codebook; use one of "
                             f"{', '.join(codebook.ids)} or '{NO_THEME}' alone",
                             path=path, line=line)
    return [t for t in codebook.ids if t in parts]


def load_codes(path: Path, codebook: Codebook) -> pd.DataFrame:
    """Read a codes table: ``transcript, turn_index, themes`` and optional ``coder``.

    Returns
    -------
    pandas.DataFrame
        Columns ``transcript, turn_index (int), themes`` (``;``-joined ids in codebook
        order, ``none`` for coded with no theme), ``coder``, ``line`` (the row's line in
        the file) and ``file`` (``path``, so later problems name the right file); rows
        with an empty themes cell are uncoded and dropped.

    Raises
    ------
    InformantError
        Missing columns (T211), a turn_index that is not a whole number (T212), an
        unknown theme (T210), or the same turn coded twice by one coder (T213).
    """
    table = read_table(path)
    missing = [c for c in ("transcript", "turn_index", "themes") if c not in table.columns]
    if missing:
        raise InformantError("T211", f"codes table has no column "
                             f"{', '.join(repr(m) for m in missing)}; it needs transcript, "
                             "turn_index, themes (and optionally coder)", path=path)
    if "coder" not in table.columns:
        table["coder"] = Path(path).stem
    table = table.apply(lambda col: col.astype(str).str.strip())
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        if row.themes == "":
            continue
        if not re.fullmatch(r"[0-9]+", row.turn_index):
            raise InformantError("T212", f"turn_index '{row.turn_index}' is not a whole "
                                 "number >= 0", path=path, line=i + 2)
        themes = check_themes(row.themes, codebook, path, i + 2)
        rows.append((row.transcript, int(row.turn_index),
                     ";".join(themes) if themes else NO_THEME, row.coder or Path(path).stem, i + 2))
    codes = pd.DataFrame(rows, columns=["transcript", "turn_index", "themes", "coder", "line"])
    codes["file"] = str(path)
    dup = codes.duplicated(["transcript", "turn_index", "coder"])
    if dup.any():
        first = codes[dup].iloc[0]
        raise InformantError("T213", f"turn {first.turn_index} of '{first.transcript}' is coded "
                             "twice by the same coder; keep one row", path=path,
                             line=int(first.line))
    return codes
