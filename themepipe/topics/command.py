"""The ``themepipe topics`` command's library side: choose K on a study's corpus.

:func:`select_topics` runs ingest -> segment -> preprocess once (the same functions as
``themepipe run``), then :func:`themepipe.topics.select_num_topics` on the informant
segments' stems with the config's ``topics:`` parameters, and writes
``topic_selection.csv`` atomically into the output folder.  K is chosen by the rule of
:func:`themepipe.topics.choose_num_topics` (stability >= 0.6, then the smallest K whose
mean NPMI is within one seed-to-seed standard deviation of the best).  It never prints:
progress goes to a :class:`themepipe.pipeline.Reporter`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import Config
from ..errors import OutputError, StageError
from ..runfolder import replace_file, write_csv

SELECTION_FILE = "topic_selection.csv"
_RANGE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*(?::\s*(\d+)\s*)?$")


def parse_k_range(text: str) -> list[int]:
    """Parse the ``--k`` option: ``LOW:HIGH`` (both included), ``LOW:HIGH:STEP`` or a
    comma-separated list such as ``6,8,12``.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    list of int
        Sorted distinct numbers of topics, each >= 1.

    Raises
    ------
    StageError
        T443: the value is not of one of these forms, or gives no K >= 1.
    """
    text = str(text)
    match = _RANGE.match(text)
    try:
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            step = int(match.group(3) or 1)
            if step < 1 or high < low:
                raise ValueError
            ks = list(range(low, high + 1, step))
        else:
            ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise StageError("T443", f"--k {text!r} is not a range of numbers of topics; write "
                         "LOW:HIGH (both included, e.g. 6:16), LOW:HIGH:STEP (6:16:2) or "
                         "a list (6,8,12), with every K >= 1")
    return sorted(set(ks))


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write a table with :func:`themepipe.runfolder.write_csv` so that ``path`` is
    replaced atomically (temporary file in the same folder, flushed, then renamed).

    Raises
    ------
    OutputError
        T444: the folder cannot be created or written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda tmp: write_csv(frame, tmp))
    except OSError as exc:
        raise OutputError("T444", f"cannot write {path.name} ({exc.strerror}); choose a "
                          "writable --out", path=path.parent) from None


@dataclass
class SelectionResult:
    """What :func:`select_topics` produced.

    Attributes
    ----------
    table : pandas.DataFrame
        The ``topic_selection.csv`` table (see :func:`themepipe.topics.select_num_topics`).
    chosen_k : int
        The K picked by the rule.
    path : Path
        Where ``topic_selection.csv`` was written.
    n_segments : int
        Informant segments the models were fitted on.
    problems : list of themepipe.errors.Problem
        Inputs skipped or warned about while reading the corpus.
    """

    table: pd.DataFrame
    chosen_k: int
    path: Path
    n_segments: int
    problems: list


def select_topics(config: Config, ks: list[int], n_seeds: int, out: Path,
                  topn: int = 10, min_stability: float = 0.6, reporter=None,
                  strict: bool = False) -> SelectionResult:
    """Fit every K with ``n_seeds`` random states on a study's corpus and choose K.

    Parameters
    ----------
    config : Config
        Validated run config; its ``topics:`` section gives the model and its parameters
        (``num_topics`` and ``random_state`` are replaced by each K and by
        ``random_state, random_state + 1, ...``).
    ks : list of int
        Numbers of topics to try (seeded plus residual).
    n_seeds : int
        Random states per K (>= 2, stability needs pairs of runs).
    out : Path
        Folder receiving ``topic_selection.csv`` (created if needed).
    topn : int, default 10
        Top terms per topic scored by NPMI (gensim ``c_npmi``), UMass and stability.
    min_stability : float, default 0.6
        Eligibility threshold of the K rule.
    reporter : themepipe.pipeline.Reporter, optional
        Progress receiver: stages ``ingest``, ``segment``, ``preprocess`` and
        ``topic-selection`` (advanced after every fit).
    strict : bool
        Stop at the first bad input file instead of skipping it.

    Returns
    -------
    SelectionResult

    Raises
    ------
    ThemepipeError
        Input and config errors of the ingest stages; StageError T436 for an unusable K
        range or ``n_seeds`` < 2 (before any fit) and T445 when no informant segment
        has stems; OutputError T444 when the file cannot be written.
    """
    from ..codebook import load_codebook
    from ..pipeline import Reporter, _Timer, load_corpus, prepare_segments
    from ..preprocess import Preprocessor
    from .seeding import theme_seed_stems
    from .selection import select_num_topics

    reporter = reporter or Reporter()
    codebook = load_codebook(config.codebook)
    cfg = config.topics
    seeds_needed = len(codebook.ids) if cfg.seeded else 0
    if min(ks) < seeds_needed:
        raise StageError("T436", f"K = {min(ks)} is below the {seeds_needed} seeded themes "
                         f"of the codebook; start --k at {seeds_needed} or more, or use "
                         "--set topics.seeded=false")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 2:
        raise StageError("T436", f"model selection needs at least 2 random states per K "
                         f"to measure stability; got --seeds {n_seeds!r}")
    timer = _Timer(reporter, {}, {})
    with timer.stage("ingest") as st:
        corpus, codes, problems = load_corpus(config, codebook, strict, reporter)
        st.summary = f"{corpus.turns['transcript'].nunique()} transcripts"
    with timer.stage("load-nlp") as st:
        preprocessor = Preprocessor.from_config(config.preprocess)
        st.summary = "spaCy blank('id') + components"
    segments, more = prepare_segments(config, corpus, codes, preprocessor, timer, strict)
    problems += more
    informant = segments[segments["role"] == "informant"]
    docs = [s.split() for s in informant["stems"].fillna("")]
    if not any(docs):
        raise StageError("T445", f"none of the {len(docs)} informant segments has stems "
                         "after preprocessing; check corpus.path and the speaker labels")
    params = cfg.model_dump(exclude={"seeded", "seed_fields", "fit_sample", "num_topics",
                                     "random_state", "coherence_topn"})
    seed_words = (theme_seed_stems(codebook, preprocessor, cfg.seed_fields) if cfg.seeded
                  else None)
    total = len(ks) * n_seeds
    with timer.stage("topic-selection", total=total) as st:
        done = [0]

        def progress(k: int, run: int) -> None:
            done[0] += 1
            reporter.advance(done[0], total)

        table = select_num_topics(docs, ks, n_seeds=n_seeds, seed_words=seed_words,
                                  random_state=cfg.random_state, topn=topn,
                                  min_stability=min_stability, callback=progress, **params)
        chosen = int(table.loc[table["selected"], "k"].item())
        st.summary = f"{total} fits, K = {chosen} chosen"
    path = Path(out) / SELECTION_FILE
    write_csv_atomic(table, path)
    return SelectionResult(table, chosen, path, len(docs), problems)
