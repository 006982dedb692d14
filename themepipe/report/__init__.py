"""Reports meant for sharing: ``report.html`` and ``report.xlsx``.

Both are built from the tables a run already wrote (see :mod:`themepipe.report.tables`),
never from the transcripts, so their numbers are the CSVs' numbers and their only text is
the (pseudonymised) ``quotes.csv``.

Example
-------
>>> from themepipe.report import write_reports
>>> write_reports("runs/kajigelem")  # doctest: +SKIP
[PosixPath('runs/kajigelem/report.html'), PosixPath('runs/kajigelem/report.xlsx')]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..runfolder import replace_file
from .html import build_html
from .tables import SCHEMA, ReportTables, load_report_tables
from .xlsx import write_xlsx

__all__ = ["SCHEMA", "ReportTables", "build_html", "load_report_tables", "write_reports",
           "write_xlsx"]


#: ``write_reports(redact=RUN_SETTING)`` follows the run's own ``privacy.redact``.
RUN_SETTING = "run"


def write_reports(run_dir: str | Path, html: bool = True, xlsx: bool = True,
                  redact: Callable[[str], str] | str | None = RUN_SETTING,
                  card: dict | None = None,
                  theme_labels: dict[str, str] | None = None) -> list[Path]:
    """Write ``report.html`` and/or ``report.xlsx`` into a run folder from its tables.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (during ``themepipe run``, the staged one).
    html, xlsx : bool
        Which reports to write (``report.html``, ``report.xlsx``).
    redact : callable, "run" or None, default "run"
        Pseudonymiser for text that was not pseudonymised upstream (topic terms,
        transcript names). ``"run"`` (the default) follows the run's ``privacy.redact``
        from its manifest, with names from the run's informants copy; None writes the
        terms as they are.
    card : dict, optional
        The classifier's model card (default: read from the manifest's model path).
    theme_labels : dict, optional
        Theme id -> codebook label (default: from the manifest's codebook).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    StageError
        A required table is missing (T651) or a table does not match the schema
        (T650, T652, T653); nothing is written then.
    """
    run_dir = Path(run_dir)
    if not (html or xlsx):
        return []
    tables = load_report_tables(run_dir, card=card, theme_labels=theme_labels)
    if isinstance(redact, str):
        redact = _run_redactor(run_dir)
    if redact is not None:  # group values are informant attribute values: may hold names
        for frame in tables.tables.values():
            for column in ("group", "group_a", "group_b"):
                if column in frame:  # few distinct values, many rows: redact each once
                    shown = {v: redact(v) for v in set(frame[column]) if isinstance(v, str)}
                    frame[column] = [shown.get(v, v) if isinstance(v, str) else v
                                     for v in frame[column]]
    page = build_html(tables, redact) if html else None
    written = []
    # Each file is written beside its target and renamed over it, so a reader of a
    # finished run folder never sees half a report.
    if page is not None:
        written.append(replace_file(run_dir / "report.html",
                                lambda path: path.write_bytes(page.encode("utf-8"))))
    if xlsx:
        written.append(replace_file(run_dir / "report.xlsx",
                                lambda path: write_xlsx(tables, path, redact)))
    return written


def _run_redactor(run_dir: Path) -> Callable[[str], str] | None:
    """The run's own pseudonymiser, or None when its ``privacy.redact`` was off."""
    import json

    import pandas as pd

    from ..privacy import Pseudonymiser

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    if not manifest.get("config", {}).get("privacy", {}).get("redact", True):
        return None
    informants = run_dir / "informants.csv"
    if not informants.is_file():
        return None
    frame = pd.read_csv(informants, dtype=str, keep_default_na=False)
    return Pseudonymiser.from_informants(frame).redact


