"""Export a run folder as a REFI-QDA project (``themepipe export-qdpx``).

What goes into ``project.qde`` (children in the schema's order):

* ``Users``: the machine user (:data:`~themepipe.qdpx.project.MACHINE_USER`, the
  classifier's codings) and the human user (:data:`~themepipe.qdpx.project.HUMAN_USER`,
  the gold codes of the run's codes table).
* ``CodeBook``: one code per theme (name = theme id, a fixed colour per position in the
  codebook, ``Description`` = label, definitions, when to use, example), plus the
  reserved code ``none`` for turns coded with no theme.
* ``Variables`` and ``Cases``: one Text variable per informant attribute (every
  informants-table column except transcript, speaker_label, informant_id and name); one
  case per informant, named by its informant id, with its attribute values, a
  ``SourceRef`` to each transcript where it is the only informant and a ``SelectionRef``
  to each of its coded turns in transcripts with several informants (focus groups).
* ``Sources``: one ``TextSource`` per transcript, stored as ``sources/<GUID>.txt``
  (UTF-8 without BOM, LF). With redaction on, the text, the source names and the
  attribute values are pseudonymised (:mod:`themepipe.privacy`) and selection offsets are
  recomputed through :meth:`~themepipe.privacy.RedactedText.span_to_redacted`.
* Per informant segment, one ``PlainTextSelection`` + ``Coding`` per predicted theme by
  the machine user (``Description``: model name, version and the theme's probability;
  a segment with no predicted theme gets the ``none`` code) and one per gold theme by the
  human user (``none`` for turns coded with no theme). Offsets are Unicode code points,
  end exclusive.

GUIDs are uuid5 of stable keys (project, transcript, segment, user, theme) and
timestamps come from the run's manifest, so exporting a run twice gives identical bytes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from .. import __version__
from ..codebook import NO_THEME, Codebook, Theme, load_codebook
from ..errors import OutputError, ThemepipeError
from ..privacy import Pseudonymiser
from ..runfolder import replace_file as _replace_file
from .archive import write_package
from .project import (
    HUMAN_USER,
    HUMAN_USER_GUID,
    MACHINE_USER,
    MACHINE_USER_GUID,
    NONE_CODE,
    NS,
    guid,
    q,
)

#: Colours of the codes, by position in the codebook (Okabe-Ito, then Tableau 10).
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1"]
NONE_COLOUR = "#9E9E9E"
NOT_ATTRIBUTES = {"transcript", "speaker_label", "informant_id", "name"}


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_qdpx` wrote.

    Attributes
    ----------
    path : Path
        The ``.qdpx`` file.
    redacted : bool
        Sources and names were pseudonymised.
    n_sources, n_cases, n_codes : int
        Text sources, cases (informants) and codes (themes + the ``none`` code).
    n_machine_codings, n_gold_codings : int
        Codings by the machine user and by the human user.
    notes : tuple of str
        Anything the user should know (e.g. the codebook was not found).
    """

    path: Path
    redacted: bool
    n_sources: int
    n_cases: int
    n_codes: int
    n_machine_codings: int
    n_gold_codings: int
    notes: tuple[str, ...] = ()


def _need(run_dir: Path, name: str) -> Path:
    path = run_dir / name
    if not path.exists():
        raise OutputError("T710", f"is not a complete themepipe run folder: {name} is "
                          "missing; give the folder written by 'themepipe run' (its --out)",
                          path=run_dir)
    return path


def _codebook(config: dict, themes: list[str]) -> tuple[Codebook, list[str]]:
    path = config.get("codebook")
    if path:
        try:
            codebook = load_codebook(path)
            if codebook.ids == themes or not themes:
                return codebook, []
        except ThemepipeError:
            pass
    note = (f"codebook {path} not found or changed since the run; codes carry theme ids "
            "without definitions")
    return Codebook(themes=[Theme(id=t, label=t) for t in themes]), [note]


def _description(theme: Theme) -> str:
    parts = [theme.label + (f": {theme.short_definition}" if theme.short_definition else "")]
    for title, text in (("", theme.full_definition), ("When to use: ", theme.when_to_use),
                        ("When not to use: ", theme.when_not_to_use),
                        ("Example: ", theme.example)):
        if text:
            parts.append(title + text.strip())
    return "\n\n".join(parts)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, q(tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _themes(cell) -> list[str]:
    return [t for t in str(cell or "").split(";") if t]


def read_run(run_dir: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Read a run folder's manifest, segments and informants copy.

    Raises
    ------
    OutputError
        The folder lacks one of them (T710).
    """
    manifest = json.loads(_need(run_dir, "manifest.json").read_text(encoding="utf-8"))
    from ..segment_tables import read_segments, segment_parts

    if not segment_parts(run_dir):  # segments.csv, or the Parquet parts of a large run
        _need(run_dir, "segments.csv")
    segments = read_segments(run_dir)
    informants = pd.read_csv(_need(run_dir, "informants.csv"), dtype=str,
                             keep_default_na=False)
    return manifest, segments, informants


def build_project(run_dir: str | Path, redact: bool | None = None,
                  ) -> tuple[bytes, dict[str, str], ExportSummary]:
    """Build the project XML and source files of a run folder (nothing is written).

    Parameters
    ----------
    run_dir : str or Path
        A folder written by ``themepipe run``.
    redact : bool, optional
        Pseudonymise; default: the run's ``privacy.redact``.

    Returns
    -------
    qde : bytes
        ``project.qde`` (UTF-8 XML).
    sources : dict of str to str
        ``<GUID>.txt -> text``.
    summary : ExportSummary
        With ``path`` set to ``run_dir``.

    Raises
    ------
    OutputError
        Not a complete run folder (T710).
    """
    run_dir = Path(run_dir)
    manifest, segments, informants = read_run(run_dir)
    config = manifest.get("config", {})
    if redact is None:
        redact = bool(config.get("privacy", {}).get("redact", True))
    themes = [c[2:] for c in segments.columns if c.startswith("p_")]
    codebook, notes = _codebook(config, themes)
    themes = codebook.ids
    config_file = (manifest.get("config_file") or {}).get("path")
    project = Path(config_file).stem if config_file else run_dir.name
    created = manifest.get("started")
    model = manifest.get("model") or {}
    model_name = f"{model.get('name', 'model')} {model.get('version', '')}".strip()
    pseudonymiser = Pseudonymiser.from_informants(informants) if redact else None

    def shown(text: str) -> str:
        return pseudonymiser.redact(text) if pseudonymiser is not None else text

    root = ET.Element(q("Project"), {"name": project, "origin": f"themepipe {__version__}",
                                     "creatingUserGUID": MACHINE_USER_GUID})
    if created:
        root.set("creationDateTime", created)
    users = _sub(root, "Users")
    _sub(users, "User", guid=MACHINE_USER_GUID, name=MACHINE_USER)
    _sub(users, "User", guid=HUMAN_USER_GUID, name=HUMAN_USER)

    codes = _sub(_sub(root, "CodeBook"), "Codes")
    code_guid = {}
    for k, theme in enumerate(codebook.themes):
        code_guid[theme.id] = guid("code", project, theme.id)
        code = _sub(codes, "Code", guid=code_guid[theme.id], name=theme.id, isCodable="true",
                    color=PALETTE[k % len(PALETTE)])
        _sub(code, "Description", _description(theme))
    code_guid[NO_THEME] = guid("code", project, NO_THEME)
    _sub(_sub(codes, "Code", guid=code_guid[NO_THEME], name=NONE_CODE, isCodable="true",
              color=NONE_COLOUR), "Description",
         "Reserved by themepipe: the turn was coded with no theme of the codebook "
         "('none' in codes tables). Do not rename.")

    attributes = [c for c in informants.columns if c not in NOT_ATTRIBUTES]
    variable_guid = {a: guid("variable", project, a) for a in attributes}
    if attributes:
        variables = _sub(root, "Variables")
        for attribute in attributes:
            _sub(variables, "Variable", guid=variable_guid[attribute], name=attribute,
                 typeOfVariable="Text")

    informant_rows = segments[segments["role"] == "informant"]
    transcripts = sorted(set(segments["transcript"]))
    per_transcript = informant_rows.groupby("transcript")["informant_id"].nunique()
    source_files: dict[str, str] = {}
    source_elements = []
    selections_of: dict[str, list[str]] = {}
    n_machine = n_gold = 0
    for transcript in transcripts:
        path = run_dir / "sources" / transcript
        if not path.is_file():
            notes.append(f"source of {transcript} missing from the run folder; left out")
            continue
        text = path.read_text(encoding="utf-8")
        mapped = pseudonymiser.redact_mapped(text) if pseudonymiser is not None else None
        source_guid = guid("source", project, transcript)
        source = ET.Element(q("TextSource"), {"guid": source_guid, "name": shown(transcript),
                                              "plainTextPath": f"internal://{source_guid}.txt"})
        if created:
            source.set("creationDateTime", created)
        source_files[f"{source_guid}.txt"] = mapped.text if mapped is not None else text
        several = per_transcript.get(transcript, 0) > 1
        rows = informant_rows[informant_rows["transcript"] == transcript]
        for row in rows.to_dict("records"):
            start, end = int(row["start_char"]), int(row["end_char"])
            if mapped is not None:
                start, end = mapped.span_to_redacted(start, end)
            label = shown(row["segment_id"])
            codings = []
            predicted = _themes(row["pred_themes"])
            for theme in predicted:
                if theme == NO_THEME:
                    top = max(themes, key=lambda t: _prob(row, t)) if themes else ""
                    note = (f"no theme predicted (highest p({top}) = {_prob(row, top):.6f})"
                            if top else "no theme predicted")
                else:
                    note = f"p({theme}) = {_prob(row, theme):.6f}"
                codings.append(("machine", theme, f"themepipe model {model_name}: {note}"))
            for theme in _themes(row["gold_themes"]):
                codings.append(("human", theme, "gold code from the run's codes table"))
            for who, theme, description in codings:
                if theme not in code_guid:
                    continue
                user = MACHINE_USER_GUID if who == "machine" else HUMAN_USER_GUID
                selection_guid = guid("selection", project, row["segment_id"], who, theme)
                selection = _sub(source, "PlainTextSelection", guid=selection_guid,
                                 name=f"{label} {theme}", startPosition=str(start),
                                 endPosition=str(end), creatingUser=user,
                                 creationDateTime=created)
                _sub(selection, "Description", description)
                coding = _sub(selection, "Coding", guid=guid("coding", selection_guid),
                              creatingUser=user, creationDateTime=created)
                _sub(coding, "CodeRef", targetGUID=code_guid[theme])
                if several:
                    selections_of.setdefault(row["informant_id"], []).append(selection_guid)
                n_machine += who == "machine"
                n_gold += who == "human"
        source_elements.append((transcript, source))

    sole = {}
    for transcript, count in per_transcript.items():
        if count == 1:
            informant = informant_rows.loc[informant_rows["transcript"] == transcript,
                                           "informant_id"].iloc[0]
            sole.setdefault(informant, []).append(guid("source", project, transcript))
    case_ids = sorted(set(informant_rows["informant_id"]) - {""})
    if case_ids:
        cases = _sub(root, "Cases")
        for informant in case_ids:
            case = _sub(cases, "Case", guid=guid("case", project, informant), name=informant)
            rows = informants[informants["informant_id"] == informant]
            if not redact and "name" in rows and rows["name"].iloc[0]:
                _sub(case, "Description", rows["name"].iloc[0])
            for attribute in attributes:
                values = [v for v in rows[attribute] if v] if len(rows) else []
                if values:
                    value = _sub(case, "VariableValue")
                    _sub(value, "VariableRef", targetGUID=variable_guid[attribute])
                    _sub(value, "TextValue", shown(values[0]))
            for source_guid in sole.get(informant, []):
                _sub(case, "SourceRef", targetGUID=source_guid)
            for selection_guid in selections_of.get(informant, []):
                _sub(case, "SelectionRef", targetGUID=selection_guid)

    sources = _sub(root, "Sources")
    for _, source in source_elements:
        sources.append(source)
    _sub(root, "Description",
         f"Exported by themepipe {__version__} from the run started {created or '?'} "
         f"(model {model_name or 'none'}); " + ("names pseudonymised" if redact else
                                         "NOT pseudonymised: contains names"))
    ET.register_namespace("", NS)
    ET.indent(root, space=" ")
    qde = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    summary = ExportSummary(run_dir, redact, len(source_elements), len(case_ids),
                            len(code_guid), n_machine, n_gold, tuple(notes))
    return qde, source_files, summary


def _prob(row: dict, theme: str) -> float:
    try:
        return float(row.get(f"p_{theme}", ""))
    except (TypeError, ValueError):
        return float("nan")


def check_target(out: Path, run_dir: str | Path | None = None,
                 example: str = "project.qdpx") -> None:
    """Refuse an output path that is not a plain file outside run folders.

    Writing there would replace a run's link, a folder or a file inside a versioned run.

    Parameters
    ----------
    out : Path
        The file to write.
    run_dir : str or Path, optional
        The run folder being exported; given, ``out`` must also lie outside it, outside
        any versioned run (``.<name>.runs``) and outside any folder with a manifest
        (the CLI's check; ``themepipe run`` itself writes ``project.qdpx`` in its
        staging folder).
    example : str
        A file name to suggest in messages.

    Raises
    ------
    OutputError
        ``out`` is a symlink (T740), an existing folder (T741), the run folder or inside a
        run folder or its versions (T742), or exists and is not a regular file (T743).
    """
    out = Path(out)
    if out.is_symlink():
        raise OutputError("T740", "is a link (a run folder's link?); give the path of a new "
                          f"file, e.g. {example}", path=out)
    if out.is_dir():
        raise OutputError("T741", "is a folder; give the path of a file outside run "
                          f"folders, e.g. {example}", path=out)
    if out.exists() and not out.is_file():
        raise OutputError("T743", "exists and is not a regular file; give the path of a "
                          f"file, e.g. {example}", path=out)
    if run_dir is None:
        return
    parent = out.absolute().parent.resolve()
    inside_run = ((Path(run_dir) / "manifest.json").is_file()
                  and parent.is_relative_to(Path(run_dir).resolve()))
    in_versions = any(p.name.startswith(".") and p.name.endswith(".runs")
                      for p in (parent, *parent.parents))
    if inside_run or in_versions or (parent / "manifest.json").is_file():
        raise OutputError("T742", "is inside a run folder, which only 'themepipe run' "
                          f"writes; give a path outside it, e.g. {example}", path=out)


def replace_file(out: Path, write: Callable[[Path], None], code: str, what: str) -> None:
    """Write ``out`` atomically: ``write`` a temporary file beside it, then ``os.replace``.

    Raises
    ------
    OutputError
        ``code`` when writing or replacing fails (the temporary file is removed).
    """
    try:
        _replace_file(out, write)
    except OSError as exc:
        raise OutputError(code, f"cannot write {what} ({exc.strerror or exc}); "
                          "choose a writable -o path", path=out) from None


def export_qdpx(run_dir: str | Path, out: str | Path, redact: bool | None = None,
                ) -> ExportSummary:
    """Write a run folder as a REFI-QDA project (``.qdpx``).

    Parameters
    ----------
    run_dir : str or Path
        A folder written by ``themepipe run``.
    out : str or Path
        The ``.qdpx`` to write; replaced atomically if it exists.
    redact : bool, optional
        Pseudonymise sources, source names and attribute values; default: the run's
        ``privacy.redact``.

    Returns
    -------
    ExportSummary

    Raises
    ------
    OutputError
        Not a complete run folder (T710), the file cannot be written (T711), or ``out``
        is a link, a folder or not a regular file (T740, T741, T743; see
        :func:`check_target`).
    """
    out = Path(out)
    check_target(out)
    qde, sources, summary = build_project(run_dir, redact)
    replace_file(out, lambda partial: write_package(partial, qde, sources), "T711",
                 "the project")
    return dataclasses.replace(summary, path=out)
