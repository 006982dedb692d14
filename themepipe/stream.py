"""Streaming runs: a large corpus partition by partition, in bounded memory.

A corpus folder whose transcripts add up to more than one partition
(``executor.partition_size`` segments, estimated from file sizes) is not read into one
table.  :func:`plan_partitions` groups the sorted transcripts into partitions (a
transcript is never split; the plan depends only on the files and the config, so every
executor sees the same partitions).  Then:

1. **prepare** (per partition, in the executor's workers): ingest, segment, attach gold
   codes, preprocess; the partition's segments go to a Parquet file in the run's
   staging folder and its sources to ``sources/``.  Each partition also returns its
   candidates for the topic model's fit sample (:func:`sample_keys`).
2. **topics** (driver): the topic model is fitted on at most ``topics.fit_sample``
   informant segments, the same ones for any partitioning and executor: those whose
   hash of ``(topics.random_state, segment_id)`` is smallest.  A corpus smaller than the
   sample is fitted whole.
3. **classify** (per partition): topic proportions of every informant segment, the
   classifier's themes and probabilities; the finished partition is written as
   ``segments/part-NNNNN.parquet`` and ``segment_topics/part-NNNNN.parquet`` and returns
   only exact integer tallies (:class:`themepipe.compare.Tally`, topic sums per
   informant).
4. **compare and write** (driver): the tallies are merged by integer sums
   (:meth:`themepipe.executor.Executor.merge_sum`, a Dask DataFrame group-by with
   ``kind: dask``), and every per-group table, the report and the manifest are computed
   from them.  With ``executor.tables: csv`` (``auto``: up to
   :data:`CSV_MAX_SEGMENTS` segments) the parts are then streamed into segments.csv and
   segment_topics.csv.

Memory therefore grows with the vocabulary, the fit sample and the number of informants,
not with the corpus text.  Proportions from NMF are computed per partition (the solver's
stopping rule looks at a whole batch), so they can differ in the last digits from an
in-memory run of the same corpus; they are identical for any executor and process count.
"""

from __future__ import annotations

import hashlib
import heapq
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem

#: Bytes of transcript per segment, to plan partitions from file sizes (measured: 168 on
#: the bundled corpus, 177 on bench/make_corpus.py's).
BYTES_PER_SEGMENT = 170
#: ``executor.tables: auto`` writes CSV up to this many segments, Parquet parts above.
CSV_MAX_SEGMENTS = 100_000
WORK_DIR = ".work"


@dataclass(frozen=True)
class Partition:
    """One partition: consecutive transcripts in sorted order.

    Attributes
    ----------
    index : int
        0-based position in the plan (part file ``part-<index:05d>``).
    names : tuple of str
        Transcript names (relative to ``corpus.path``).
    nbytes : int
        Their total file size.
    """

    index: int
    names: tuple[str, ...]
    nbytes: int


def plan_partitions(root: Path, names: list[str], partition_size: int) -> list[Partition]:
    """Group sorted transcripts into partitions of about ``partition_size`` segments.

    A partition closes when its files reach ``partition_size * BYTES_PER_SEGMENT``
    bytes; a transcript is never split.

    Parameters
    ----------
    root : Path
        ``corpus.path``.
    names : list of str
        Transcript names as :func:`themepipe.ingest.discover` lists them (sorted).
    partition_size : int
        ``executor.partition_size`` (segments).

    Returns
    -------
    list of Partition
        At least one; the concatenation of their names is ``names``.
    """
    budget = partition_size * BYTES_PER_SEGMENT
    plan: list[Partition] = []
    current: list[str] = []
    size = 0
    for name in names:
        try:
            nbytes = (Path(root) / name).stat().st_size
        except OSError:
            nbytes = 0  # ingest reports the file
        current.append(name)
        size += nbytes
        if size >= budget:
            plan.append(Partition(len(plan), tuple(current), size))
            current, size = [], 0
    if current or not plan:
        plan.append(Partition(len(plan), tuple(current), size))
    return plan


def sample_keys(segment_ids, random_state: int) -> np.ndarray:
    """Reproducible sampling keys: blake2b (8 bytes) of ``"<random_state>:<segment_id>"``.

    The ``n`` segments with the smallest keys are the topic model's fit sample; a key
    depends only on the segment and the seed, not on partitions or executors.

    Returns
    -------
    ndarray of uint64, shape (n_segments,)
    """
    prefix = f"{random_state}:".encode()
    return np.fromiter((int.from_bytes(hashlib.blake2b(prefix + str(s).encode(),
                                                       digest_size=8).digest(), "big")
                        for s in segment_ids), dtype=np.uint64, count=len(segment_ids))


def sample_mask(segment_ids, fit_sample: int, random_state: int) -> np.ndarray:
    """Boolean mask of the fit sample among ``segment_ids`` (all when ``fit_sample`` is 0
    or not smaller than their number)."""
    n = len(segment_ids)
    if fit_sample <= 0 or n <= fit_sample:
        return np.ones(n, dtype=bool)
    keys = sample_keys(segment_ids, random_state)
    mask = np.zeros(n, dtype=bool)
    mask[np.argsort(keys, kind="stable")[:fit_sample]] = True
    return mask


# -- worker side -------------------------------------------------------------------------

_WORKER: dict = {}


def worker_preprocessor(config):
    """The process's Preprocessor for ``config.preprocess`` (built once per process)."""
    import json

    from .cache import section_digest

    key = ("pre", json.dumps(section_digest(config.preprocess), sort_keys=True, default=str))
    if key not in _WORKER:
        from .preprocess import Preprocessor

        _WORKER[key] = Preprocessor.from_config(config.preprocess)
    return _WORKER[key]


def worker_classifier(config):
    """The process's classifier ``(estimator, card)`` (loaded once per process)."""
    key = ("model", str(Path(config.classifier.model).resolve()), config.classifier.version)
    if key not in _WORKER:
        from .classify_stage import load_classifier

        _WORKER[key] = load_classifier(config)
    return _WORKER[key]


@dataclass
class PrepareContext:
    """What every partition of the prepare pass needs (sent once per worker)."""

    config: object
    informants: pd.DataFrame
    codes: pd.DataFrame | None
    strict: bool
    staging: str


@dataclass
class Prepared:
    """What a prepared partition returns to the driver (small)."""

    index: int
    n_turns: int = 0
    n_segments: int = 0
    n_informant: int = 0
    n_coded: int = 0
    n_stems: int = 0
    transcripts: list[str] = field(default_factory=list)
    informant_ids: set = field(default_factory=set)
    groups: set = field(default_factory=set)
    checksums: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    sample: list = field(default_factory=list)  # (key, position, stems)
    seconds: float = 0.0


def _work_file(staging: str, index: int) -> Path:
    return Path(staging) / WORK_DIR / f"prepared-{index:05d}.parquet"


def prepare_partition(ctx: PrepareContext, part: Partition) -> Prepared:
    """Ingest, segment, code and preprocess one partition; write it to the staging folder.

    Returns
    -------
    Prepared
    """
    from .cache import sha256_file
    from .ingest import ingest_transcripts
    from .segment import attach_codes, segment_turns

    started = time.process_time()
    config = ctx.config
    pre = worker_preprocessor(config)
    corpus = ingest_transcripts(config.corpus, ctx.strict, names=list(part.names),
                                informants=ctx.informants, allow_empty=True)
    result = Prepared(part.index, problems=list(corpus.problems))
    staging = Path(ctx.staging)
    for name, text in corpus.sources.items():
        target = staging / "sources" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    result.checksums = {name: sha256_file(path) for name, path in corpus.files.items()}
    result.transcripts = sorted(corpus.sources)
    codes = ctx.codes
    if codes is not None:
        codes = codes[codes["transcript"].isin(set(part.names))]
    target = _work_file(ctx.staging, part.index)
    target.parent.mkdir(parents=True, exist_ok=True)
    if corpus.turns.empty:  # every file of the partition was skipped (listed in problems)
        result.seconds = time.process_time() - started
        return result
    segments = segment_turns(corpus.turns, config.segment.max_sentences, pre.sentences)
    segments, problems = attach_codes(segments, codes, str(config.corpus.codes or
                                                           config.corpus.path), ctx.strict)
    result.problems += problems
    segments = pre.transform(segments)
    informant = (segments["role"] == "informant").to_numpy()
    result.n_turns = len(corpus.turns)
    result.n_segments = len(segments)
    result.n_informant = int(informant.sum())
    result.n_coded = int((segments["gold_themes"] != "").sum())
    result.n_stems = int(segments["stems"].str.split().str.len().fillna(0).sum())
    result.informant_ids = set(segments.loc[informant, "informant_id"])
    result.groups = set(segments.loc[informant, "group"])
    if result.n_informant:  # the partition's own smallest keys: the only ones that can win
        ids = segments.loc[informant, "segment_id"].to_numpy()
        stems = segments.loc[informant, "stems"].to_numpy()
        keys = sample_keys(ids, config.topics.random_state)
        fit_sample = config.topics.fit_sample
        keep = (np.argsort(keys, kind="stable")[:fit_sample] if fit_sample > 0
                else np.arange(len(ids)))
        result.sample = [(int(keys[i]), (part.index << 32) + int(i), str(stems[i]))
                         for i in sorted(keep)]
    segments.to_parquet(target, index=False)
    result.seconds = time.process_time() - started
    return result


@dataclass
class ClassifyContext:
    """What every partition of the classify pass needs (sent once per worker)."""

    config: object
    themes: list
    topic_model: object
    staging: str
    columns: list


@dataclass
class Classified:
    """What a classified partition returns to the driver: exact tallies and counts."""

    index: int
    tally: object = None
    topic_tally: pd.DataFrame | None = None
    n_segments: int = 0
    n_predicted: int = 0
    model_info: dict | None = None
    seconds: float = 0.0


def classify_partition(ctx: ClassifyContext, part: Partition) -> Classified:
    """Topic proportions, classifier themes and tallies of one prepared partition."""
    from .classify_stage import classify_segments
    from .compare import tally_segments
    from .pipeline import add_topic_columns
    from .topics.prevalence import topic_tally

    started = time.process_time()
    config = ctx.config
    source = _work_file(ctx.staging, part.index)
    staging = Path(ctx.staging)
    k = ctx.topic_model.num_topics
    if not source.is_file():  # a partition whose files were all skipped: empty parts
        _write_parts(staging, part.index, pd.DataFrame(columns=ctx.columns),
                     pd.DataFrame(columns=["segment_id", *(f"topic_{j}" for j in range(k))]))
        return Classified(part.index, seconds=time.process_time() - started)
    segments = pd.read_parquet(source)
    mask = (segments["role"] == "informant").to_numpy()
    docs = [s.split() for s in segments.loc[mask, "stems"]]
    doc_topic = ctx.topic_model.transform(docs) if docs else np.zeros((0, k))
    topics = add_topic_columns(segments, mask, doc_topic)
    segments, info = classify_segments(config, ctx.themes, segments,
                                       worker_classifier(config))
    result = Classified(part.index, n_segments=len(segments), model_info=info)
    result.n_predicted = int((~segments["pred_themes"].isin(["", "none"])).sum())
    result.tally = tally_segments(segments, ctx.themes, "group",
                                  position_offset=part.index << 32)
    result.topic_tally = topic_tally(doc_topic, segments.loc[mask, "informant_id"].to_numpy(),
                                     segments.loc[mask, "group"].to_numpy())
    table = segments[ctx.columns].copy()
    for column in [c for c in ctx.columns if c.startswith("p_")]:
        table[column] = table[column].round(6)
    _write_parts(staging, part.index, table, topics)
    source.unlink()
    result.seconds = time.process_time() - started
    return result


def _write_parts(staging: Path, index: int, segments: pd.DataFrame,
                 topics: pd.DataFrame) -> None:
    for folder, frame in (("segments", segments), ("segment_topics", topics)):
        target = staging / folder / f"part-{index:05d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(target, index=False)


# -- driver side -------------------------------------------------------------------------

def keep_sample(candidates: list[tuple], fit_sample: int) -> list[tuple]:
    """The ``fit_sample`` candidates ``(key, position, stems)`` with the smallest keys
    (all when ``fit_sample`` is 0); merging partitions one at a time keeps memory bounded."""
    if fit_sample > 0 and len(candidates) > fit_sample:
        return heapq.nsmallest(fit_sample, candidates, key=lambda c: (c[0], c[1]))
    return candidates


def sample_docs(candidates: list[tuple]) -> list[list[str]]:
    """Stems of the sample's segments, in corpus order."""
    return [c[2].split() for c in sorted(candidates, key=lambda c: c[1])]


def fit_sample_docs(prepared: list[Prepared], fit_sample: int) -> list[list[str]]:
    """The topic model's fit sample from the partitions' candidates, in corpus order."""
    candidates: list[tuple] = []
    for p in prepared:
        candidates = keep_sample(candidates + p.sample, fit_sample)
    return sample_docs(candidates)


def check_prepared(config, prepared: list[Prepared], names: list[str],
                   codes: pd.DataFrame | None) -> list[Problem]:
    """Checks over the whole corpus after the prepare pass.

    Returns
    -------
    list of Problem
        Codes for transcripts that are not in the corpus (T216).

    Raises
    ------
    InputError
        No transcript could be read (T142).
    InformantError
        A group not declared in ``groups:`` (T208).
    """
    from .ingest import nothing_read
    from .pipeline import check_declared_groups
    from .segment import codes_not_ingested

    if not any(p.n_segments for p in prepared):
        raise nothing_read(len(names), [q for p in prepared for q in p.problems],
                           config.corpus.path)
    check_declared_groups(set().union(*(p.groups for p in prepared)), config)
    if codes is None:
        return []
    where = str(config.corpus.codes or config.corpus.path)
    return [codes_not_ingested(row, where)
            for row in codes[~codes["transcript"].isin(set(names))].itertuples(index=False)]


def write_segment_csv(folder: Path, name: str, n_parts: int) -> None:
    """Stream ``<name>/part-*.parquet`` into ``<name>.csv`` and remove the parts."""
    from .runfolder import write_csv

    parts = [folder / name / f"part-{i:05d}.parquet" for i in range(n_parts)]
    target = folder / f"{name}.csv"
    with open(target, "w", encoding="utf-8", newline="") as handle:
        for i, part in enumerate(parts):
            write_csv(pd.read_parquet(part), handle, header=(i == 0))
    for part in parts:
        part.unlink()
    (folder / name).rmdir()


def clean_work(staging: Path) -> None:
    """Remove the prepare pass's intermediate files."""
    work = Path(staging) / WORK_DIR
    if work.is_dir():
        for path in work.iterdir():
            path.unlink()
        work.rmdir()


def run_stream(config, out: Path, config_path: Path | None, strict: bool, reporter,
               codebook, names: list[str], plan: list[Partition]):
    """:func:`themepipe.pipeline.run` for a corpus of several partitions (see the module
    docstring); the same outputs, tables as :data:`CSV_MAX_SEGMENTS` and
    ``executor.tables`` say.

    Returns
    -------
    themepipe.pipeline.RunResult

    Raises
    ------
    ThemepipeError
        As :func:`themepipe.pipeline.run`; nothing is written then.
    """
    from datetime import datetime, timezone

    from .coding import merge_codes
    from .compare import compare_run_tally, informant_themes_from_tally, merge_tallies
    from .executor import make_executor
    from .ingest import load_codes, load_informants, missing_transcripts
    from .pipeline import (
        SEGMENT_COLUMNS,
        RunResult,
        _Timer,
        build_manifest,
        input_checksums,
        topic_model,
        unseeded_problems,
        write_extras,
    )
    from .runfolder import RunFolder
    from .topics.prevalence import prevalence_from_tally

    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    timer = _Timer(reporter, timings, counts)
    segments_done = getattr(reporter, "segments_done", lambda segments: None)
    started = datetime.now(timezone.utc)
    themes = codebook.ids
    columns = SEGMENT_COLUMNS + [f"p_{t}" for t in themes]
    cfg = config.executor
    informants = load_informants(config.corpus.informants)
    problems: list[Problem] = missing_transcripts(config.corpus, informants, names, strict)
    codes = None
    if config.corpus.codes is not None:
        codes = merge_codes([load_codes(config.corpus.codes, codebook)], codebook.ids)
    with timer.stage("load-nlp") as st:  # loaded before the workers start: they inherit it
        pre = worker_preprocessor(config)
        model = worker_classifier(config)
        st.summary = f"spaCy blank('id') + components; model {model[1].version}"

    with RunFolder(out) as folder, make_executor(cfg) as executor:
        staging = str(folder.path)
        with timer.stage("prepare", total=len(plan)) as st:
            ctx = PrepareContext(config, informants, codes, strict, staging)
            prepared, done, candidates = [], 0, []
            for result in executor.map(prepare_partition, plan, ctx):
                candidates = keep_sample(candidates + result.sample, config.topics.fit_sample)
                result.sample = []
                prepared.append(result)
                done += result.n_segments
                segments_done(done)
                reporter.advance(len(prepared), len(plan))
            problems += [q for p in prepared for q in p.problems]
            problems += check_prepared(config, prepared, names, codes)
            counts.update(
                partitions=len(plan),
                transcripts=sum(len(p.transcripts) for p in prepared),
                turns=sum(p.n_turns for p in prepared), segments=done,
                informants=len(set().union(*(p.informant_ids for p in prepared))),
                informant_segments=sum(p.n_informant for p in prepared),
                coded_segments=sum(p.n_coded for p in prepared),
                stems=sum(p.n_stems for p in prepared))
            st.summary = (f"{len(plan)} partitions, {counts['transcripts']} transcripts, "
                          f"{done} segments, {counts['informants']} informants"
                          + (f", {len(problems)} problem(s)" if problems else ""))

        with timer.stage("topics") as st:
            docs = sample_docs(candidates)
            del candidates
            model_t = topic_model(config, codebook, pre)
            model_t.fit(docs)
            problems += unseeded_problems(config, model_t)
            topics_table = model_t.topics_table(topn=10)
            st.summary = f"{model_t.num_topics} topics fitted on {len(docs)} segments"

        with timer.stage("classify", total=len(plan)) as st:
            ctx2 = ClassifyContext(config, themes, model_t, staging, columns)
            classified, done = [], 0
            for result in executor.map(classify_partition, plan, ctx2):
                classified.append(result)
                done += result.n_segments
                segments_done(done)
                reporter.advance(len(classified), len(plan))
            classified = [c for c in classified if c.tally is not None]  # skip empty ones
            model_info = classified[0].model_info
            n_pred = sum(c.n_predicted for c in classified)
            st.summary = f"model {model_info['version']}, {n_pred} segments with a theme"
        clean_work(folder.path)

        with timer.stage("compare") as st:
            tally = merge_tallies([c.tally for c in classified], merge_sum=executor.merge_sum)
            comparison = compare_run_tally(config, tally, informants)
            problems += comparison.problems
            per_informant = informant_themes_from_tally(tally)
            topic_sums = executor.merge_sum([c.topic_tally for c in classified],
                                            ["group", "informant_id"])
            prevalence = prevalence_from_tally(
                topic_sums, n_boot=config.compare.bootstrap,
                random_state=config.compare.random_state,
                anchored_themes=model_t.anchored_themes_, group_order=config.groups)
            st.summary = f"{len(comparison.tables['theme_distribution.csv'])} group x theme rows"

        with timer.stage("write") as st:
            use_csv = cfg.tables == "csv" or (cfg.tables == "auto"
                                              and counts["segments"] <= CSV_MAX_SEGMENTS)
            if use_csv:
                write_segment_csv(folder.path, "segments", len(plan))
                write_segment_csv(folder.path, "segment_topics", len(plan))
            folder.write_csv("topics.csv", topics_table)
            folder.write_csv("topic_prevalence.csv", prevalence)
            for name, table in comparison.tables.items():
                folder.write_csv(name, table)
            folder.write_csv("informant_themes.csv", per_informant)
            folder.write_csv("informants.csv", informants)
            inputs = input_checksums(config, transcripts={
                name: digest for p in prepared for name, digest in p.checksums.items()})
            stream_info = {"partitions": len(plan), "executor": cfg.kind,
                           "n_process": cfg.n_process, "tables": "csv" if use_csv else "parquet",
                           "topic_fit_segments": len(docs),
                           "cpu_s": {"prepare": round(sum(p.seconds for p in prepared), 3),
                                     "classify": round(sum(c.seconds for c in classified), 3)}}
            manifest = build_manifest(config, config_path, started, inputs,
                                      model_info, counts, timings, problems, strict, [], None,
                                      streaming=stream_info)
            folder.write_json("manifest.json", manifest)
            write_extras(folder, config, codebook, informants, model[1].to_dict())
            st.summary = str(out)
    return RunResult(out, manifest, problems)
