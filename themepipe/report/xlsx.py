"""``report.xlsx``: the report's tables for a spreadsheet, one sheet per table.

The first sheet, ``summary``, holds the run summary; then one sheet per table of the run
folder, named after its CSV file, with the same columns and values (floats at the CSVs'
six decimals).  Text cells are always stored as text, so a quote that begins with ``=``
can never become a formula.  The file is byte-identical for the same inputs: workbook
timestamps are set to the run's start time and the zip entries carry a fixed date.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .tables import SCHEMA, ReportTables

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Tables longer than this are not written as sheets (the summary sheet names their CSV):
#: per-informant tables of very large studies would make the workbook slow to open.
MAX_SHEET_ROWS = 100_000
#: Columns passed through ``redact`` (text not pseudonymised upstream).
REDACTED_COLUMNS = {"topics": ["top_terms"], "quotes": ["transcript"]}


def summary_rows(tables: ReportTables) -> list[tuple[str, object]]:
    """Key/value rows of the ``summary`` sheet (from the manifest and the model card)."""
    m = tables.manifest
    counts = m.get("counts") or {}
    model = m.get("model") or {}
    config = m.get("config") or {}
    rows: list[tuple[str, object]] = [
        ("config", Path(str((m.get("config_file") or {}).get("path") or "")).name),
        ("started", m.get("started", "")),
        ("themepipe_version", m.get("themepipe_version", "")),
        ("model", model.get("name", "")),
        ("model_version", model.get("version", "")),
    ]
    try:
        macro = tables.card["cv_metrics"]["themepipe"]["macro_f1"]
        rows += [("cv_macro_f1_mean", float(macro["mean"])),
                 ("cv_macro_f1_sd", float(macro["sd"]))]
    except (TypeError, KeyError, ValueError):
        pass
    rows += [(key, counts[key]) for key in ("transcripts", "turns", "informants", "segments",
                                            "informant_segments", "coded_segments")
             if key in counts]
    compare = config.get("compare") or {}
    rows += [(f"compare.{key}", compare[key]) for key in ("bootstrap", "permutations",
                                                          "random_state") if key in compare]
    rows.append(("privacy.redact", (config.get("privacy") or {}).get("redact", "")))
    present = [name for name in SCHEMA if name in tables.tables]
    rows.append(("sheets", ", ".join(name for name in present
                                     if len(tables.tables[name]) <= MAX_SHEET_ROWS)))
    for name in present:
        if len(tables.tables[name]) > MAX_SHEET_ROWS:
            note = (f"{len(tables.tables[name]):,} rows, more than {MAX_SHEET_ROWS:,}: "
                    f"see {name}.csv in the run folder")
            rows.append((f"{name} (not a sheet)", note))
    return rows


def _cell_value(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _append(sheet, values: list, font: Font | None = None) -> None:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=_cell_value(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
        if font is not None:
            cell.font = font
        cells.append(cell)
    sheet.append(cells)


def write_xlsx(tables: ReportTables, path: Path,
               redact: Callable[[str], str] | None = None) -> None:
    """Write ``report.xlsx``: a ``summary`` sheet, then one sheet per present table.

    Parameters
    ----------
    tables : ReportTables
    path : Path
        Output file.
    redact : callable, optional
        Applied to the text columns of :data:`REDACTED_COLUMNS` (topic terms, transcript
        names); quote text is written as ``quotes.csv`` has it.

    Raises
    ------
    OSError
        The file cannot be written (the run folder turns this into T502).
    """
    workbook = Workbook(write_only=True)  # streamed to disk row by row: linear, low memory
    bold = Font(bold=True)
    summary = workbook.create_sheet("summary")
    _append(summary, ["key", "value"], bold)
    for key, value in summary_rows(tables):
        _append(summary, [key, value])
    for name in SCHEMA:
        frame = tables.get(name)
        if frame is None:
            continue
        if len(frame) > MAX_SHEET_ROWS:  # named in the summary sheet instead
            continue
        frame = frame.copy()
        for column in REDACTED_COLUMNS.get(name, []):
            if redact is not None:
                frame[column] = [redact(str(v)) for v in frame[column]]
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        _append(sheet, list(frame.columns), bold)
        for row in frame.itertuples(index=False):
            _append(sheet, list(row))
    started = str(tables.manifest.get("started") or "")
    try:
        when = datetime.fromisoformat(started).astimezone(timezone.utc).replace(tzinfo=None)
    except ValueError:
        when = datetime(2000, 1, 1)
    workbook.properties.created = workbook.properties.modified = when
    workbook.properties.creator = "themepipe"
    workbook.save(path)
    _fix_dates(Path(path), when)


def _fix_dates(path: Path, when: datetime) -> None:
    """Rewrite the zip with fixed dates so that equal workbooks are equal bytes.

    openpyxl stamps ``dcterms:modified`` with the current time on save; it is set back to
    ``when`` (the run's start), and every zip entry gets the same fixed date.
    """
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    entries = [(name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                             rb"\g<1>" + stamp + rb"\g<2>", data)
                if name == "docProps/core.xml" else data) for name, data in entries]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, data)
    tmp.replace(path)
