"""Read a run folder's tables for the report, checking each against the agreed schema.

The report is built only from what the run folder already holds — the comparison CSVs,
``topics.csv`` and ``manifest.json`` (plus the model card the manifest points to) — so
every number in ``report.html`` and ``report.xlsx`` is the number in a CSV.  The report
never reads ``sources/`` or ``segments.csv``: the only text it shows is ``quotes.csv``,
which is pseudonymised upstream when ``privacy.redact`` is on.

``theme_distribution.csv`` and ``manifest.json`` are required.  Every other table is
optional (the report says so where it is missing), but a table that is present must have
exactly the schema's columns: a mismatch is an error, never silently worked around.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..compare import (
    CODING_TABLE_COLUMNS,
    CODING_TEST_COLUMNS,
    COMPARISON_COLUMNS,
    DISTANCE_COLUMNS,
    DISTRIBUTION_COLUMNS,
    INFORMANT_COLUMNS,
    PAIR_COLUMNS,
)
from ..errors import StageError
from ..quotes import QUOTE_COLUMNS

#: Columns of each table, in file order (the run-folder table in README.md): the
#: writers' own column lists.  ``topics`` and ``topic_prevalence`` are spelled out here
#: because importing :mod:`themepipe.topics` (gensim, scikit-learn) takes seconds.
SCHEMA: dict[str, list[str]] = {
    "theme_distribution": DISTRIBUTION_COLUMNS,
    "informant_themes": INFORMANT_COLUMNS,
    "group_comparison": COMPARISON_COLUMNS,
    "group_pairs": PAIR_COLUMNS,
    "group_distances": DISTANCE_COLUMNS,
    "coding_table": CODING_TABLE_COLUMNS,
    "coding_test": CODING_TEST_COLUMNS,
    "topics": ["topic", "anchored_theme", "top_terms", "npmi"],
    "topic_prevalence": ["group", "topic", "anchored_theme", "mean_proportion", "ci_low",
                         "ci_high", "n_informants"],
    "quotes": QUOTE_COLUMNS,
}
#: Columns read as text; every other column must be numeric (empty cells allowed).
TEXT_COLUMNS = {"group", "theme", "group_a", "group_b", "source", "note", "anchored_theme",
                "top_terms", "segment_id", "informant_id", "transcript", "text"}
REQUIRED = ("theme_distribution",)


@dataclass
class ReportTables:
    """Everything the report shows, read from one run folder.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Present tables by name (keys of :data:`SCHEMA`); ``theme_distribution`` always.
    manifest : dict
        ``manifest.json``.
    card : dict or None
        The classifier's model card, when the manifest names a readable one.
    theme_labels : dict of str to str
        Theme id -> codebook label (empty when the codebook is not readable).
    """

    tables: dict[str, pd.DataFrame]
    manifest: dict
    card: dict | None = None
    theme_labels: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        """The table ``name``, or None when the run folder does not have it."""
        return self.tables.get(name)

    @property
    def groups(self) -> list[str]:
        """Groups in the order of ``theme_distribution.csv``."""
        return list(dict.fromkeys(self.tables["theme_distribution"]["group"]))

    @property
    def themes(self) -> list[str]:
        """Themes in the order of ``theme_distribution.csv``."""
        return list(dict.fromkeys(self.tables["theme_distribution"]["theme"]))


def check_columns(name: str, frame: pd.DataFrame, path: Path | str) -> None:
    """Refuse a table whose columns are not exactly the schema's.

    Raises
    ------
    StageError
        Missing or unexpected columns (T650).
    """
    expected = SCHEMA[name]
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unexpected {', '.join(map(str, extra))}"] if extra else [])
        raise StageError("T650", f"{name}.csv does not have the report's columns "
                         f"({'; '.join(parts)}); expected {', '.join(expected)}. Re-create "
                         "the run folder with this themepipe version", path=path)


def read_table(name: str, path: Path) -> pd.DataFrame:
    """Read one run-folder CSV and check it against :data:`SCHEMA`.

    Text columns are read as str (an empty cell is ``""``); numeric columns as numbers
    (an empty cell is NaN).

    Raises
    ------
    StageError
        Unreadable CSV (T652), wrong columns (T650), a non-numeric value in a numeric
        column (T653).
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StageError("T652", f"cannot read {name}.csv ({message}); re-create the run "
                         "folder", path=path) from None
    check_columns(name, frame, path)
    frame = frame[SCHEMA[name]].copy()
    for column in frame.columns:
        if column in TEXT_COLUMNS:
            continue
        values = pd.to_numeric(frame[column].mask(frame[column] == ""), errors="coerce")
        bad = values.isna() & (frame[column] != "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise StageError("T653", f"{name}.csv column '{column}' has the non-numeric "
                             f"value '{frame[column].iloc[row]}'; re-create the run folder",
                             path=path, line=row + 2)
        frame[column] = values.astype(float)
    return frame


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _theme_labels(manifest: dict) -> dict[str, str]:
    from ..codebook import load_codebook
    from ..errors import ConfigError

    path = (manifest.get("config") or {}).get("codebook")
    if not path or not Path(path).is_file():
        return {}
    try:
        return {t.id: t.label for t in load_codebook(path).themes}
    except ConfigError:
        return {}


def load_report_tables(run_dir: Path, card: dict | None = None,
                       theme_labels: dict[str, str] | None = None) -> ReportTables:
    """Read the tables of a run folder (a staged one during ``run``).

    Parameters
    ----------
    run_dir : Path
        Folder holding ``theme_distribution.csv``, ``manifest.json`` and any of the
        optional tables of :data:`SCHEMA`.
    card : dict, optional
        The model card; by default read from ``<manifest model.path>/card.json`` when
        that file exists.
    theme_labels : dict, optional
        Theme id -> label; by default from the codebook named in the manifest's config.

    Returns
    -------
    ReportTables

    Raises
    ------
    StageError
        ``theme_distribution.csv`` or ``manifest.json`` missing or unreadable (T651), a
        table that cannot be read (T652, T653) or has other columns than the schema
        (T650).
    """
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.is_file() else None
    if manifest is None:
        raise StageError("T651", "manifest.json is missing or not a JSON object; the report "
                         "needs the run's manifest. Re-run themepipe run", path=manifest_path)
    tables = {}
    for name in SCHEMA:
        path = run_dir / f"{name}.csv"
        if path.is_file():
            tables[name] = read_table(name, path)
        elif name in REQUIRED:
            raise StageError("T651", f"{name}.csv is missing; the report needs it. Re-run "
                             "themepipe run", path=path)
    if card is None:
        model_path = (manifest.get("model") or {}).get("path")
        if model_path and (Path(model_path) / "card.json").is_file():
            card = _read_json(Path(model_path) / "card.json")
    if theme_labels is None:
        theme_labels = _theme_labels(manifest)
    return ReportTables(tables, manifest, card, dict(theme_labels))
