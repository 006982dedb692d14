"""Import human codings from a REFI-QDA project (``themepipe import-qdpx``).

Steps, for any tool's ``.qdpx`` (any single ``.qde``; GUIDs in any case; nested codes):

1. **Codes to themes.** A code's name is looked up, case-insensitively, in the config's
   ``qdpx.code_map`` (name -> theme id, ``none``, or ``""`` to ignore the code), then
   among the codebook's theme ids and labels; ``none`` is the reserved "coded, no theme"
   code. A nested code that maps to nothing inherits its parent's theme. A coding whose
   code maps to nothing is reported (T722).
2. **Sources to transcripts.** A text source is matched to a transcript of the config's
   corpus by name (as is, pseudonymised by :mod:`themepipe.privacy`, or without its
   extension), else by its text. Its text, BOM removed and CRLF/CR turned to LF, must be
   the transcript's decoded source (a project made from the original transcripts) or
   that source pseudonymised (our own redacted export, whose offsets are mapped back
   through :meth:`~themepipe.privacy.RedactedText.span_to_original`). A text that was
   edited in the QDA program is aligned with :class:`difflib.SequenceMatcher` and
   reported (T725).
3. **Offset convention.** Programs disagree on whether a CRLF counts as one code point
   or two, and some count the BOM. Each candidate reading of a source's positions is
   scored by how many selections then start and end on word boundaries; the best is
   used and reported in :attr:`ImportResult.sources`.
4. **Selections to turns.** A selection codes every informant turn it overlaps by at
   least half of the turn or half of the selection (a selection over several turns
   codes each). A coding that matches no informant turn is reported (T723), never
   dropped silently.
5. **Users.** Codings by the machine user (:data:`~themepipe.qdpx.project.MACHINE_USER`,
   recognised by GUID or name) are skipped unless ``include_machine``.

The result has one row per (transcript, turn_index, coder) -- the coder is the QDA user
-- ready for ``corpus.codes`` or ``themepipe train --codes``.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

import pandas as pd

from ..codebook import NO_THEME, Codebook, load_codebook
from ..config import Config
from ..errors import ConfigError, InputError, Problem
from ..privacy import Pseudonymiser, RedactedText
from .archive import decode_source, open_package
from .project import (
    MACHINE_USER,
    MACHINE_USER_GUID,
    NONE_CODE,
    child,
    children,
    local,
    norm_guid,
    parse_project,
)

CODES_COLUMNS = ["transcript", "turn_index", "themes", "coder"]


@dataclass
class ImportResult:
    """What :func:`import_qdpx` found.

    Attributes
    ----------
    codes : pandas.DataFrame
        ``transcript, turn_index, themes, coder``: one row per turn and coder, themes
        ``;``-joined in codebook order or ``none``; sorted.
    problems : list of Problem
        Codings, codes and sources that could not be used (and why).
    sources : list of dict
        Per text source: ``name``, ``transcript``, ``text`` (``original``,
        ``pseudonymised`` or ``edited``), ``convention`` (how positions were read),
        ``notes``, ``codings``.
    counts : dict of str to int
        ``codings`` read, ``machine_skipped``, ``imported`` (codings matched to a
        turn), ``unmatched``, ``unmapped``.
    """

    codes: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Coding:
    start: int
    end: int
    code: str
    user: str
    selection: str
    bad: str = ""  # why the positions cannot be read, e.g. "startPosition 'x' is ..."


def _code_map(config: Config, codebook: Codebook, config_path) -> dict[str, str]:
    lookup = {t.id.casefold(): t.id for t in codebook.themes}
    lookup.update({t.label.strip().casefold(): t.id for t in codebook.themes})
    lookup[NONE_CODE] = NO_THEME
    for name, theme in config.qdpx.code_map.items():
        if theme not in codebook.ids and theme not in (NO_THEME, ""):
            raise ConfigError("T730", f"qdpx.code_map maps '{name}' to '{theme}', which is "
                              f"not a theme id; use one of {', '.join(codebook.ids)}, "
                              f"'{NO_THEME}', or '' to ignore the code", path=config_path)
        lookup[name.strip().casefold()] = theme
    return lookup


def _walk_codes(element: ET.Element, lookup: dict[str, str], inherited: str | None,
                out: dict[str, tuple[str, str | None]], parents: str = "") -> None:
    for code in children(element, "Code"):
        name = code.get("name", "")
        key = name.strip().casefold()
        theme = lookup.get(key, inherited)
        path = f"{parents}/{name}" if parents else name
        out[norm_guid(code.get("guid"))] = (path, theme)
        _walk_codes(code, lookup, theme, out, path)


def _is_boundary(text: str, pos: int) -> bool:
    if pos <= 0 or pos >= len(text):
        return True
    return not (text[pos - 1].isalnum() and text[pos].isalnum())


def _conventions(raw: str, has_bom: bool) -> list[tuple[str, list[int]]]:
    """Candidate readings of positions in ``raw``: (label, position -> LF-text position)."""
    # a CR followed by LF is dropped by normalisation; a lone CR becomes LF (kept)
    dropped = [1 if ch == "\r" and raw[i + 1:i + 2] == "\n" else 0 for i, ch in enumerate(raw)]
    before = [0, *itertools.accumulate(dropped)]
    stored = [i - before[i] for i in range(len(raw) + 1)]
    n_norm = len(raw) - before[-1]
    candidates = [("code points of the stored text (CRLF = 2)", stored)]
    if before[-1]:
        candidates.append(("code points after CRLF -> LF (CRLF = 1)", list(range(n_norm + 1))))
    if has_bom:
        for label, table in list(candidates):
            candidates.append((label + ", BOM counted", [0] + table))
    return candidates


def _normalise(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def _diff_map(a: str, b: str):
    """Position map from text ``a`` to text ``b`` via their longest common blocks.

    Lines are matched first (fast for long transcripts), then characters inside each
    changed block of lines, so an edit costs time in proportion to its own size.
    """
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    a_at = [0, *itertools.accumulate(len(x) for x in a_lines)]
    b_at = [0, *itertools.accumulate(len(x) for x in b_lines)]
    blocks: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_lines, b_lines,
                                                       autojunk=False).get_opcodes():
        ca1, ca2, cb1, cb2 = a_at[i1], a_at[i2], b_at[j1], b_at[j2]
        if tag == "equal" or ca1 == ca2 or cb1 == cb2 or (ca2 - ca1) * (cb2 - cb1) > 4e8:
            blocks.append((tag, ca1, ca2, cb1, cb2))
            continue
        inner = difflib.SequenceMatcher(None, a[ca1:ca2], b[cb1:cb2], autojunk=False)
        blocks.extend((t, ca1 + x1, ca1 + x2, cb1 + y1, cb1 + y2)
                      for t, x1, x2, y1, y2 in inner.get_opcodes())
    starts = [block[1] for block in blocks]

    def to_b(pos: int, side: str) -> int:
        if not blocks:
            return 0
        k = max(0, bisect.bisect_right(starts, pos) - 1)
        tag, i1, _, j1, j2 = blocks[k]
        if tag == "equal":
            return min(j1 + (pos - i1), j2)
        return j1 if side == "left" or pos == i1 else j2

    return to_b


class _Matcher:
    """Corpus transcripts, their redacted forms, and their turns."""

    def __init__(self, corpus, pseudonymiser: Pseudonymiser) -> None:
        self.sources: dict[str, str] = corpus.sources
        self.pseudonymiser = pseudonymiser
        self._redacted: dict[str, RedactedText] = {}
        self.turns = {t: frame for t, frame in corpus.turns.groupby("transcript")}
        self._names: dict[str, set[str]] = {}
        for transcript in sorted(self.sources):
            redacted_name = pseudonymiser.redact(transcript)
            forms = {transcript, redacted_name, PurePosixPath(transcript).name,
                     PurePosixPath(transcript).stem, PurePosixPath(redacted_name).stem}
            self._names[transcript] = {f.casefold() for f in forms}

    def redacted(self, transcript: str) -> RedactedText:
        if transcript not in self._redacted:
            self._redacted[transcript] = self.pseudonymiser.redact_mapped(
                self.sources[transcript])
        return self._redacted[transcript]

    def find(self, name: str, text: str) -> str | None:
        folded = name.strip().casefold()
        for transcript, forms in self._names.items():
            if folded in forms:
                return transcript
        for transcript in sorted(self.sources):
            if text in (self.sources[transcript], self.redacted(transcript).text):
                return transcript
        return None


def import_qdpx(config: Config, path: str | Path, include_machine: bool = False,
                config_path: str | Path | None = None) -> ImportResult:
    """Read human codings from a ``.qdpx`` and align them to the corpus's turns.

    Parameters
    ----------
    config : Config
        The run config: its corpus (transcripts and informants, read again to align
        offsets), codebook, ``qdpx.code_map`` and ``qdpx`` size limits.
    path : str or Path
        The ``.qdpx`` file.
    include_machine : bool
        Also import codings by the machine user (themepipe's own predictions).
    config_path : str or Path, optional
        Shown in configuration errors.

    Returns
    -------
    ImportResult

    Raises
    ------
    InputError
        The file is not a usable project (T700-T706), or the corpus is a segment table
        (T731).
    ConfigError
        ``qdpx.code_map`` names an unknown theme (T730).
    """
    from ..ingest import ingest_transcripts

    path = Path(path)
    codebook = load_codebook(config.codebook)
    lookup = _code_map(config, codebook, config_path)
    package = open_package(path, int(config.qdpx.max_total_mb * 2**20),
                           config.qdpx.max_compression_ratio)
    root = parse_project(package.qde, path)
    if config.corpus.format != "transcripts":
        raise InputError("T731", "import-qdpx aligns codings to transcripts, but the "
                         "config's corpus.format is 'table'; use a config whose corpus is a "
                         "folder of transcripts", path=config_path)

    users_el = child(root, "Users")
    users = {norm_guid(u.get("guid")): u.get("name") or u.get("guid", "")
             for u in ([] if users_el is None else children(users_el, "User"))}
    codes: dict[str, tuple[str, str | None]] = {}
    codebook_el = child(root, "CodeBook")
    if codebook_el is not None and child(codebook_el, "Codes") is not None:
        _walk_codes(child(codebook_el, "Codes"), lookup, None, codes)

    corpus = ingest_transcripts(config.corpus)
    state = _Importer(str(path), users, codes, include_machine,
                      _Matcher(corpus, Pseudonymiser.from_informants(corpus.informants)))
    state.problems += corpus.problems
    sources_el = child(root, "Sources")
    for source in [] if sources_el is None else list(sources_el):
        if local(source.tag) == "TextSource":
            state.text_source(source, package)
        else:
            state.other_source(source)
    state.report_unmapped()
    table, more = _codes_table(state.rows, codebook, str(path))
    return ImportResult(table, state.problems + more, state.sources, state.counts)


class _Importer:
    """Collects codes, problems and counts while the sources of one project are read."""

    def __init__(self, where: str, users: dict[str, str],
                 codes: dict[str, tuple[str, str | None]], include_machine: bool,
                 matcher: _Matcher) -> None:
        self.where, self.users, self.codes = where, users, codes
        self.machine = {g for g, n in users.items() if n == MACHINE_USER} | {MACHINE_USER_GUID}
        self.include_machine, self.matcher = include_machine, matcher
        self.problems: list[Problem] = []
        self.sources: list[dict] = []
        self.rows: list[tuple[str, int, str, str]] = []
        self.unmapped: dict[str, int] = {}
        self.missing: dict[str, int] = {}
        self.counts = {"codings": 0, "machine_skipped": 0, "imported": 0, "unmatched": 0,
                       "unmapped": 0}

    def skip(self, code: str, message: str, n: int = 1, action: str = "skipped") -> None:
        """Record ``n`` codings that match no turn, with the problem that says why."""
        self.problems.append(Problem(self.where, None, code, message, action))
        self.counts["codings"] += n
        self.counts["unmatched"] += n

    def other_source(self, source: ET.Element) -> None:
        n = sum(1 for element in source.iter() if local(element.tag) == "Coding")
        if n:
            self.skip("T724", f"{local(source.tag)} '{source.get('name', '')}' has {n} "
                      "coding(s); only text sources are imported", n)

    def text_source(self, source: ET.Element, package) -> None:
        name = source.get("name") or source.get("guid", "")
        raw, notes = _source_text(source, package)
        codings = _codings(source)
        whole = children(source, "Coding")
        if whole:
            self.skip("T724", f"source '{name}' has {len(whole)} coding(s) of the whole "
                      "source, not of a text selection; not imported. Code the turns "
                      "instead", len(whole))
        if raw is None:
            if codings:
                self.skip("T720", f"source '{name}' has no text in the project "
                          f"({notes[0]}); its {len(codings)} codings were not imported",
                          len(codings))
            return
        text = _normalise(raw)
        transcript = self.matcher.find(name, text)
        if transcript is None:
            if codings:
                self.skip("T721", f"source '{name}' matches no transcript of the corpus by "
                          f"name or text; its {len(codings)} codings were not imported. "
                          "Rename the source to its transcript's file name", len(codings))
            return
        kind, to_original = self._relation(name, text, transcript)
        label, table = _choose_convention(raw, any("BOM" in n for n in notes), text, codings)
        if "\r" in raw:
            notes.append("CRLF line ends" if "\r\n" in raw else "CR line ends")
        self.sources.append({"name": name, "transcript": transcript, "text": kind,
                             "convention": label, "notes": "; ".join(notes),
                             "codings": len(codings)})
        for coding in codings:
            self._coding(coding, name, transcript, table, to_original)

    def _relation(self, name: str, text: str, transcript: str):
        """How the source's text relates to the transcript, and the span map back."""
        original = self.matcher.sources[transcript]
        if text == original:
            return "original", lambda s, e: (s, e)
        redacted = self.matcher.redacted(transcript)
        if text == redacted.text:
            return "pseudonymised", redacted.span_to_original
        to_b = _diff_map(text, original)
        self.problems.append(Problem(self.where, None, "T725", f"the text of source '{name}' "
                                     f"differs from transcript '{transcript}' (edited in the "
                                     "QDA program?); positions were aligned by matching the "
                                     "texts, check the imported codes", "warning"))
        return "edited", lambda s, e: (to_b(s, "left"), max(to_b(s, "left"),
                                                            to_b(e, "right")))

    def _coding(self, coding: _Coding, name: str, transcript: str, table: list[int],
                to_original) -> None:
        code_name, theme = self.codes.get(coding.code, (coding.code, None))
        user = self.users.get(coding.user) or coding.user or "unknown"
        if coding.user in self.machine and not self.include_machine:
            self.counts["codings"] += 1
            self.counts["machine_skipped"] += 1
            return
        if coding.code not in self.codes:  # a CodeRef to no code of the CodeBook
            self.counts["codings"] += 1
            self.counts["unmapped"] += 1
            self.missing[coding.code] = self.missing.get(coding.code, 0) + 1
            return
        if not theme:  # None: maps to nothing (reported once per code); "": ignored
            self.counts["codings"] += 1
            self.counts["unmapped"] += 1
            if theme is None:
                self.unmapped[code_name] = self.unmapped.get(code_name, 0) + 1
            return
        what = (f"selection {coding.start}-{coding.end} in source '{name}' (code "
                f"'{code_name}', user '{user}')")
        if coding.bad:
            self.skip("T723", f"a selection in source '{name}' (code '{code_name}', user "
                      f"'{user}'): {coding.bad}; not imported. Recode it in the QDA program")
            return
        span = _map_span(coding, table)
        if span is None:
            self.skip("T723", f"{what} is empty or lies outside the source's text; not "
                      "imported. Recode it in the QDA program")
            return
        hits, interviewer = _align(self.matcher.turns.get(transcript), *to_original(*span))
        if not hits:
            why = ("covers interviewer speech only; interviewer turns are not coded"
                   if interviewer else "matches no informant turn")
            self.skip("T723", f"{what} {why}; not imported. Recode it on an informant turn")
            return
        self.counts["codings"] += 1
        self.counts["imported"] += 1
        self.rows.extend((transcript, turn, theme, user) for turn in hits)

    def report_unmapped(self) -> None:
        for code_guid, n in sorted(self.missing.items()):
            self.problems.append(Problem(self.where, None, "T745", f"{n} coding(s) refer to "
                                         f"code GUID {code_guid or '(none)'}, which is not "
                                         "in the project's codebook; not imported. Fix the "
                                         "project in the QDA program", "skipped"))
        for code_name, n in sorted(self.unmapped.items()):
            self.problems.append(Problem(self.where, None, "T722", f"code '{code_name}' ({n} "
                                         "codings) maps to no theme; add it to "
                                         "qdpx.code_map in the config (theme id, "
                                         f"'{NO_THEME}', or '' to ignore it)", "skipped"))


def _source_text(source: ET.Element, package) -> tuple[str | None, list[str]]:
    content = child(source, "PlainTextContent")
    if content is not None:
        return content.text or "", ["inline PlainTextContent"]
    location = source.get("plainTextPath") or ""
    match = re.match(r"(?i)internal://(.+)$", location)
    if not match:
        return None, [f"plainTextPath '{location}' is not inside the package"]
    data = package.sources.get(PurePosixPath(match.group(1)).name.lower())
    if data is None:
        return None, [f"sources/{match.group(1)} is missing from the package"]
    return decode_source(data)


def _codings(source: ET.Element) -> list[_Coding]:
    found = []
    for selection in children(source, "PlainTextSelection"):
        positions, bad = [], []
        for attribute in ("startPosition", "endPosition"):
            raw = selection.get(attribute)
            try:
                positions.append(int(raw or ""))
            except ValueError:
                positions.append(-1)
                bad.append(f"{attribute} '{raw}' is not an integer" if raw is not None
                           else f"{attribute} is missing")
        start, end = positions
        for coding in children(selection, "Coding"):
            ref = child(coding, "CodeRef")
            user = coding.get("creatingUser") or selection.get("creatingUser")
            found.append(_Coding(start, end, norm_guid(ref.get("targetGUID") if ref is not
                                                       None else ""),
                                 norm_guid(user), norm_guid(selection.get("guid")),
                                 " and ".join(bad)))
    return found


def _choose_convention(raw: str, has_bom: bool, text: str, codings: list[_Coding]):
    candidates = _conventions(raw, has_bom)
    best = None
    for k, (label, table) in enumerate(candidates):
        score = 0
        for c in codings:
            if 0 <= c.start <= c.end < len(table):
                s, e = table[c.start], table[c.end]
                score += _is_boundary(text, s) + _is_boundary(text, e)
        if best is None or score > best[0]:
            best = (score, k)
    label, table = candidates[best[1]]
    if len(candidates) == 1:
        return "code points (no CR and no BOM: one reading)", table
    return f"{label}: {best[0]}/{2 * len(codings)} selection ends on word boundaries", table


def _map_span(coding: _Coding, table: list[int]) -> tuple[int, int] | None:
    if not 0 <= coding.start < coding.end < len(table):
        return None
    return table[coding.start], table[coding.end]


def _align(turns: pd.DataFrame | None, start: int, end: int) -> tuple[list[int], bool]:
    if turns is None:
        return [], False
    hits, interviewer = [], False
    for turn, s, e, role in zip(turns["turn_index"], turns["start_char"], turns["end_char"],
                                turns["role"]):
        overlap = min(end, int(e)) - max(start, int(s))
        if overlap <= 0:
            continue
        if 2 * overlap >= int(e) - int(s) or 2 * overlap >= end - start:
            if role == "informant":
                hits.append(int(turn))
            else:
                interviewer = True
    return hits, interviewer


def _codes_table(rows, codebook: Codebook, where: str) -> tuple[pd.DataFrame, list[Problem]]:
    problems = []
    merged: dict[tuple[str, int, str], set[str]] = {}
    for transcript, turn, theme, coder in rows:
        merged.setdefault((transcript, turn, coder), set()).add(theme)
    out = []
    for (transcript, turn, coder), themes in sorted(merged.items()):
        kept = [t for t in codebook.ids if t in themes]
        if kept and NO_THEME in themes:
            problems.append(Problem(where, None, "T726", f"turn {turn} of '{transcript}' is "
                                    f"coded '{NO_THEME}' and {';'.join(kept)} by '{coder}'; "
                                    f"the themes were kept, '{NO_THEME}' dropped", "warning"))
        out.append((transcript, turn, ";".join(kept) if kept else NO_THEME, coder))
    return pd.DataFrame(out, columns=CODES_COLUMNS), problems


def write_codes(codes: pd.DataFrame, out: str | Path) -> None:
    """Write the imported codes table atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    codes : pandas.DataFrame
        :attr:`ImportResult.codes`.
    out : str or Path
        The CSV to write; replaced if it is a regular file.

    Raises
    ------
    OutputError
        ``out`` is a link (T740), a folder (T741), not a regular file (T743) or cannot
        be written (T744).
    """
    from ..runfolder import write_csv
    from .export import check_target, replace_file

    out = Path(out)
    check_target(out, example="codes_nvivo.csv")
    replace_file(out, lambda partial: write_csv(codes, partial), "T744", "the codes table")


__all__ = ["ImportResult", "import_qdpx", "write_codes"]
