"""Read a run folder's segments table, whichever format the run wrote it in.

A small run writes ``segments.csv``; a streamed (large) run writes one Parquet file per
partition, ``segments/part-00000.parquet`` ..., with exactly the columns of segments.csv
(strings, int64 offsets, float64 ``p_<theme>`` rounded to 6 decimals, NaN where empty).
Readers of a run folder (``themepipe compare``, the REFI-QDA export) take the table part
by part from :func:`iter_segment_parts`, so a run larger than memory can be read, and see
the same values in both formats: every cell as the string that segments.csv holds, as
``pandas.read_csv(..., dtype=str, keep_default_na=False)`` returns it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import StageError
from .runfolder import FLOAT_FORMAT

#: Folder of the Parquet parts inside a run folder, and their file name pattern.
PARTS_FOLDER = "segments"
PART_PATTERN = "part-*.parquet"


def segment_parts(run_dir: Path) -> list[Path]:
    """The files holding a run folder's segments, in table order.

    Parameters
    ----------
    run_dir : Path
        A run folder.

    Returns
    -------
    list of Path
        ``[RUN/segments.csv]`` when it exists, else the sorted
        ``RUN/segments/part-*.parquet``; empty when there is neither.
    """
    run_dir = Path(run_dir)
    if (run_dir / "segments.csv").is_file():
        return [run_dir / "segments.csv"]
    parts = sorted((run_dir / PARTS_FOLDER).glob(PART_PATTERN))
    expected = _expected_parts(run_dir)
    if expected is not None:
        names = {p.name for p in parts}
        missing = [f"part-{i:05d}.parquet" for i in range(expected)
                   if f"part-{i:05d}.parquet" not in names]
        if missing:
            raise StageError("T611", f"the run folder is incomplete: {PARTS_FOLDER}/"
                             f"{missing[0]} is missing ({len(missing)} of {expected} parts); "
                             "copy the whole run folder or run again",
                             path=run_dir / PARTS_FOLDER)
    return parts


def _expected_parts(run_dir: Path) -> int | None:
    """Number of Parquet parts the run's manifest.json records (None when unknown)."""
    import json

    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    streaming = manifest.get("streaming") if isinstance(manifest, dict) else None
    if isinstance(streaming, dict) and streaming.get("tables") == "parquet":
        partitions = streaming.get("partitions")
        return partitions if isinstance(partitions, int) else None
    return None


def _as_csv_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as the strings ``write_csv`` writes and ``read_csv(dtype=str)`` reads."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column.dtype):
            values = column.to_numpy(dtype=float)
            text = np.char.mod(FLOAT_FORMAT, values).astype(object)
            text[np.isnan(values)] = ""
            out[name] = text
        elif pd.api.types.is_bool_dtype(column.dtype) \
                or pd.api.types.is_integer_dtype(column.dtype):
            missing = column.isna().to_numpy()
            text = column.astype(object).astype(str).to_numpy(dtype=object)
            text[missing] = ""
            out[name] = text
        else:
            missing = column.isna().to_numpy()
            text = column.astype(object).to_numpy(dtype=object).copy()
            text[missing] = ""
            out[name] = np.array([v if isinstance(v, str) else str(v) for v in text],
                                 dtype=object)
    return pd.DataFrame(out, columns=list(frame.columns), index=range(len(frame)))


def iter_segment_parts(run_dir: Path, columns: Sequence[str] | None = None,
                       ) -> Iterator[pd.DataFrame]:
    """The run folder's segments table, part by part, as segments.csv's strings.

    Parameters
    ----------
    run_dir : Path
        A run folder (``themepipe run --out``).
    columns : sequence of str, optional
        Columns to read, in this order; names the table lacks are skipped (e.g.
        ``gold_themes`` of a run without codes).  All columns when None.

    Yields
    ------
    pandas.DataFrame
        ``segments.csv`` whole (one part), or one frame per Parquet part in part order;
        every value a str (``""`` where empty; floats with 6 decimals).

    Raises
    ------
    StageError
        The folder has neither ``segments.csv`` nor ``segments/part-*.parquet``, or a
        part cannot be read (T603).
    """
    run_dir = Path(run_dir)
    parts = segment_parts(run_dir)
    if not parts:
        raise StageError("T603", "not a complete run folder: segments.csv (or "
                         f"{PARTS_FOLDER}/{PART_PATTERN}) is missing; give the --out "
                         "folder of a `themepipe run`", path=run_dir)
    for part in parts:
        try:
            if part.suffix == ".csv":
                wanted = None if columns is None else set(columns).__contains__
                frame = pd.read_csv(part, dtype=str, keep_default_na=False, usecols=wanted)
            else:
                import pyarrow.parquet as pq

                names = pq.read_schema(part).names
                wanted = None if columns is None else [c for c in columns if c in names]
                frame = _as_csv_strings(pq.read_table(part, columns=wanted).to_pandas())
        except (OSError, ValueError) as exc:
            raise StageError("T603", f"cannot read {part.name} ({type(exc).__name__}: "
                             f"{exc}); run `themepipe run` again", path=part) from None
        if columns is not None:
            frame = frame[[c for c in columns if c in frame.columns]]
        yield frame


def read_segments(run_dir: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The whole segments table of a run folder (every part concatenated).

    Parameters
    ----------
    run_dir : Path
    columns : sequence of str, optional
        As :func:`iter_segment_parts`.

    Returns
    -------
    pandas.DataFrame
        As ``pandas.read_csv(RUN/segments.csv, dtype=str, keep_default_na=False)``.

    Raises
    ------
    StageError
        As :func:`iter_segment_parts` (T603).
    """
    parts = list(iter_segment_parts(run_dir, columns))
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
