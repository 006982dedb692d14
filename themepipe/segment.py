"""Segment: turn rows -> the segments that get coded.

With ``segment.max_sentences: 0`` (the default) every turn is one segment.  With
``N > 0`` an informant turn longer than N sentences is split into consecutive windows of
N sentences; each window keeps exact offsets into the transcript's decoded source, gets
the id ``<transcript>:<turn_index>:<window>`` and inherits its turn's gold codes.
Interviewer turns are never windowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from .errors import InformantError, Problem

SentenceSplitter = Callable[[str], Sequence[tuple[int, int]]]


def window_spans(sentences: Sequence[tuple[int, int]], max_sentences: int,
                 ) -> list[tuple[int, int]]:
    """Group sentence spans into windows of at most ``max_sentences`` sentences.

    Parameters
    ----------
    sentences : sequence of (start, end)
        Sentence spans in order, offsets relative to the turn's text.
    max_sentences : int
        Window size in sentences, >= 1.

    Returns
    -------
    list of (start, end)
        One span per window, from its first sentence's start to its last one's end.
    """
    return [(sentences[i][0], sentences[min(i + max_sentences, len(sentences)) - 1][1])
            for i in range(0, len(sentences), max_sentences)]


def segment_turns(turns: pd.DataFrame, max_sentences: int = 0,
                  split_sentences: SentenceSplitter | None = None) -> pd.DataFrame:
    """Return the segments table for a partition of turn rows.

    Parameters
    ----------
    turns : pandas.DataFrame
        Rows from :func:`themepipe.ingest.ingest_transcripts` (not modified).
    max_sentences : int
        0 keeps one segment per turn; N > 0 windows informant turns of more than N
        sentences.
    split_sentences : callable, optional
        ``text -> [(start, end), ...]`` sentence spans; required when
        ``max_sentences > 0``.

    Returns
    -------
    pandas.DataFrame
        Same columns as ``turns``, windows replacing long turns, in order.
    """
    if max_sentences <= 0:
        return turns.copy()
    if split_sentences is None:
        raise ValueError("split_sentences is required when max_sentences > 0")
    rows = []
    for row in turns.to_dict("records"):
        spans = split_sentences(row["text"]) if row["role"] == "informant" else []
        if len(spans) <= max_sentences:
            rows.append(row)
            continue
        for window, (start, end) in enumerate(window_spans(spans, max_sentences)):
            rows.append({**row, "segment_id": f"{row['segment_id']}:{window}",
                         "start_char": row["start_char"] + start,
                         "end_char": row["start_char"] + end,
                         "text": row["text"][start:end]})
    return pd.DataFrame(rows, columns=turns.columns)


def codes_not_ingested(row, codes_path: str) -> Problem:
    """The warning for a code (a row of a codes table) whose transcript was not ingested
    (T216); ``codes_path`` names the file when the row has no ``file`` value."""
    line = int(getattr(row, "line", 0)) or None
    return Problem(str(getattr(row, "file", "") or codes_path), line, "T216",
                   f"codes for transcript '{row.transcript}', which was not ingested; "
                   "fix the name or see the problems with that file", "warning")


def attach_codes(segments: pd.DataFrame, codes: pd.DataFrame | None,
                 codes_path: str = "codes.csv", strict: bool = False,
                 ) -> tuple[pd.DataFrame, list[Problem]]:
    """Add the ``gold_themes`` column from a codes table; windows inherit their turn's codes.

    Parameters
    ----------
    segments : pandas.DataFrame
        Segments with ``transcript``, ``turn_index`` and ``role``.
    codes : pandas.DataFrame or None
        From :func:`themepipe.ingest.load_codes`, one row per (transcript, turn_index);
        when several coders coded a turn, pass the merged codes.
    codes_path : str
        Shown in problems about rows without a ``file`` column value (codes from
        :func:`themepipe.ingest.load_codes` name their own file).
    strict : bool
        Raise on a code that points at no informant turn instead of skipping the code
        and reporting it.

    Returns
    -------
    segments : pandas.DataFrame
        A copy with ``gold_themes``: ``;``-joined theme ids, ``none`` for a turn coded with
        no theme, empty for uncoded segments and interviewer turns.
    problems : list of Problem
        Codes for transcripts that were skipped or are not in the corpus.

    Raises
    ------
    InformantError
        In strict mode, a code points at a turn that does not exist in its transcript
        (T214) or at an interviewer turn (T215); otherwise these are problems.
    """
    out = segments.copy()
    out["gold_themes"] = ""
    problems: list[Problem] = []
    if codes is None or codes.empty:
        return out, problems
    turns = out.drop_duplicates(["transcript", "turn_index"]).set_index(
        ["transcript", "turn_index"])["role"]
    present = set(out["transcript"])
    lookup = {}
    for row in codes.itertuples(index=False):
        line = int(getattr(row, "line", 0)) or None
        where = str(getattr(row, "file", "") or codes_path)
        if row.transcript not in present:
            problems.append(codes_not_ingested(row, codes_path))
            continue
        key = (row.transcript, int(row.turn_index))
        error = None
        if key not in turns.index:
            n = int((out["transcript"] == row.transcript).sum())
            error = InformantError("T214", f"code for turn {row.turn_index} of "
                                   f"'{row.transcript}', which has turns 0-{n - 1} only; "
                                   "turn_index counts every turn from 0 (code ignored)",
                                   path=where, line=line)
        elif turns[key] != "informant":
            error = InformantError("T215", f"code for turn {row.turn_index} of "
                                   f"'{row.transcript}', an interviewer turn; only informant "
                                   "turns are coded (code ignored)", path=where,
                                   line=line)
        if error is not None:
            if strict:
                raise error
            problems.append(Problem.from_error(error, "warning"))
            continue
        lookup[key] = row.themes
    keys = list(zip(out["transcript"], out["turn_index"].astype(int)))
    out["gold_themes"] = [lookup.get(k, "") for k in keys]
    return out, problems
