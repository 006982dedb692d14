"""The whole run: ingest -> segment -> preprocess -> topics -> classify -> compare -> write.

:func:`run` is what ``themepipe run`` calls.  It returns a :class:`RunResult`; it never
prints.  Progress goes to an optional :class:`Reporter` (the CLI passes one that draws a
rich progress display).
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .cache import (
    Entry,
    Lazy,
    StageCache,
    cache_dir,
    corpus_entry,
    corpus_from_entry,
    input_digest,
    model_identity,
    problems_data,
    problems_from,
    section_digest,
    sha256_file,
    stage_key,
)
from .codebook import Codebook, load_codebook, theme_matrix
from .compare import compare_run_segments, informant_themes
from .config import Config, config_to_dict
from .errors import InformantError, Problem, StageError
from .ingest import Corpus, ingest_table, ingest_transcripts, load_codes
from .runfolder import RunFolder, check_out
from .segment import attach_codes, segment_turns

SEGMENT_COLUMNS = ["segment_id", "transcript", "informant_id", "group", "speaker", "role",
                   "turn_index", "start_char", "end_char", "text", "tokens", "stems",
                   "dominant_topic", "gold_themes", "pred_themes"]
LIBRARIES = ["themepipe", "spacy", "PySastrawi", "gensim", "scikit-learn", "numpy",
             "scipy", "pandas", "pyarrow", "pydantic", "skops"]


class Reporter:
    """Receives progress from a run; the default does nothing.

    Methods are called in order ``stage_start`` -> ``advance``* -> ``stage_end`` for each
    stage.
    """

    def stage_start(self, stage: str, total: int | None = None) -> None:
        """A stage begins; ``total`` units of work (files, segments) if known."""

    def advance(self, done: int, total: int | None = None) -> None:
        """``done`` units of the current stage are finished."""

    def segments_done(self, segments: int) -> None:
        """``segments`` segments of the current stage are finished (streaming runs call
        this after each partition, before :meth:`advance`, for a rate and an ETA)."""

    def stage_end(self, stage: str, summary: str, seconds: float) -> None:
        """A stage ended; ``summary`` is a short count line."""


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    out : Path
        The run folder link.
    manifest : dict
        The manifest written to ``manifest.json``.
    problems : list of Problem
        Inputs skipped or warned about (exit code 1 when non-empty).
    """

    out: Path
    manifest: dict
    problems: list[Problem] = field(default_factory=list)


def library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of Python and of the libraries a run depends on (plus ``extra`` ones)."""
    versions = {"python": platform.python_version()}
    for name in [*LIBRARIES, *extra]:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["themepipe"] = __version__
    return versions


class _Timer:
    def __init__(self, reporter: Reporter, timings: dict, counts: dict) -> None:
        self.reporter, self.timings, self.counts = reporter, timings, counts

    def stage(self, name: str, total: int | None = None) -> _Stage:
        return _Stage(self, name, total)


class _Stage:
    def __init__(self, timer: _Timer, name: str, total: int | None) -> None:
        self.timer, self.name, self.total, self.summary = timer, name, total, ""

    def __enter__(self) -> _Stage:
        self.start = time.perf_counter()
        self.timer.reporter.stage_start(self.name, self.total)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            seconds = time.perf_counter() - self.start
            self.timer.timings[self.name] = round(seconds, 3)
            self.timer.reporter.stage_end(self.name, self.summary, seconds)
        return False


def load_corpus(config: Config, codebook: Codebook, strict: bool = False,
                reporter: Reporter | None = None, extra_codes: list[Path] | None = None,
                ) -> tuple[Corpus, pd.DataFrame | None, list[Problem]]:
    """Ingest the corpus and read its gold codes.

    Returns
    -------
    corpus : Corpus
    codes : pandas.DataFrame or None
        Merged codes (see :func:`themepipe.coding.merge_codes`), one row per turn.
    problems : list of Problem
    """
    reporter = reporter or Reporter()
    if config.corpus.format == "table":
        corpus, codes = ingest_table(config.corpus, codebook)
        code_tables = [codes] if not codes.empty else []
    else:
        corpus = ingest_transcripts(config.corpus, strict=strict,
                                    progress=reporter.advance)
        code_tables = []
        if config.corpus.codes is not None:
            code_tables.append(load_codes(config.corpus.codes, codebook))
    for path in extra_codes or []:
        code_tables.append(load_codes(path, codebook))
    check_groups(corpus, config)
    from .coding import merge_codes
    codes = merge_codes(code_tables, codebook.ids) if code_tables else None
    return corpus, codes, list(corpus.problems)


def check_groups(corpus: Corpus, config: Config) -> None:
    """Refuse informant groups that the config does not declare (when it declares any).

    Raises
    ------
    InformantError
        A group in the data is not in ``groups:`` (T208).
    """
    check_declared_groups(set(corpus.turns.loc[corpus.turns["role"] == "informant",
                                               "group"]), config)


def check_declared_groups(found: set[str], config: Config) -> None:
    """Refuse groups ``found`` in the data that ``groups:`` does not declare (when it
    declares any).

    Raises
    ------
    InformantError
        T208, naming the first undeclared group in sorted order.
    """
    if config.groups is None:
        return
    unknown = [g for g in sorted(found) if g not in config.groups]
    if unknown:
        raise InformantError("T208", f"group '{unknown[0]}' is not declared in the config's "
                             f"groups ({', '.join(config.groups)}); add it to groups: or fix "
                             "the informants table", path=config.corpus.informants
                             or config.corpus.path)


def prepare_segments(config: Config, corpus: Corpus, codes: pd.DataFrame | None,
                     preprocessor, timer: _Timer, strict: bool = False,
                     ) -> tuple[pd.DataFrame, list[Problem]]:
    """Segment, attach gold codes and preprocess; returns the segments table."""
    with timer.stage("segment") as st:
        segments = segment_turns(corpus.turns, config.segment.max_sentences,
                                 preprocessor.sentences)
        segments, problems = attach_codes(segments, codes, str(config.corpus.codes or
                                                               config.corpus.path), strict)
        n_inf = int((segments["role"] == "informant").sum())
        n_coded = int((segments["gold_themes"] != "").sum())
        timer.counts.update(segments=len(segments), informant_segments=n_inf,
                            coded_segments=n_coded)
        st.summary = f"{len(segments)} segments, {n_inf} informant, {n_coded} coded"
    with timer.stage("preprocess", total=len(segments)) as st:
        segments = preprocessor.transform(segments, n_process=config.executor.n_process)
        n_tokens = int(segments["stems"].str.split().str.len().fillna(0).sum())
        timer.counts["stems"] = n_tokens
        st.summary = f"{n_tokens} stems"
    return segments, problems


def seed_stems(codebook: Codebook, preprocessor) -> dict[str, list[str]]:
    """Normalise and stem the codebook's seed words, dropping duplicates."""
    seeds = {}
    for theme, words in codebook.seed_words().items():
        stems = [preprocessor.stem_word(w) for w in words]
        seeds[theme] = list(dict.fromkeys(s for s in stems if s))
    return seeds


def check_num_topics(config: Config, codebook: Codebook) -> None:
    """Refuse fewer topics than seeded themes, before any work is done.

    Raises
    ------
    StageError
        ``topics.num_topics`` is below the number of seeded themes (T401).
    """
    n_seeded = len(codebook.ids) if config.topics.seeded else 0
    if config.topics.num_topics < n_seeded:
        raise StageError("T401", f"topics.num_topics is {config.topics.num_topics} but the "
                         f"codebook seeds {n_seeded} topics; set topics.num_topics >= "
                         f"{n_seeded} or topics.seeded: false")


def check_model(config: Config) -> None:
    """Refuse early, without loading it, a classifier model that cannot be found.

    The model itself (~18 MB, several seconds) is loaded just before the classify stage;
    its integrity checks fail there, still before anything is written.

    Raises
    ------
    ConfigError, ModelError
        ``classifier.model`` unset (T013), or the directory, its versions or the named
        version missing (T301-T303).
    """
    from .classify_stage import model_dir

    folder = model_dir(config)
    version = config.classifier.version
    found = (folder / version).is_dir() if version != "latest" else (
        folder.is_dir() and any(folder.glob("*/card.json")))
    if not found:  # the model store says precisely what is missing (skops loads slowly)
        from .modelstore import list_versions, load_model

        versions = list_versions(folder)
        if not versions or version not in [*versions, "latest"]:
            load_model(folder, version)  # raises T301-T303 before loading anything


def topic_model(config: Config, codebook: Codebook, preprocessor):
    """An unfitted :class:`themepipe.topics.SeededTopicModel` as the config gives it.

    Seeds: the codebook's seed words plus the words of ``topics.seed_fields``
    (:func:`themepipe.topics.theme_seed_stems`).
    """
    from .topics import SeededTopicModel, theme_seed_stems

    cfg = config.topics
    check_num_topics(config, codebook)
    params = cfg.model_dump(exclude={"seeded", "seed_fields", "fit_sample"})
    return SeededTopicModel(seed_words=theme_seed_stems(codebook, preprocessor,
                                                        cfg.seed_fields)
                            if cfg.seeded else None, **params)


def fit_topics(config: Config, codebook: Codebook, segments: pd.DataFrame, preprocessor):
    """Fit the topic model on informant segments; return (model, doc_topic, mask).

    The fit uses at most ``topics.fit_sample`` informant segments
    (:func:`themepipe.stream.sample_mask`); proportions are computed for all of them.
    """
    from .stream import sample_mask

    mask = (segments["role"] == "informant").to_numpy()
    docs = [s.split() for s in segments.loc[mask, "stems"]]
    chosen = sample_mask(segments.loc[mask, "segment_id"].to_numpy(),
                         config.topics.fit_sample, config.topics.random_state)
    model = topic_model(config, codebook, preprocessor)
    model.fit([d for d, keep in zip(docs, chosen) if keep])
    return model, model.transform(docs), mask


def unseeded_problems(config: Config, model) -> list[Problem]:
    """A warning per theme whose seed words are absent from the segments (T431)."""
    return [Problem(str(config.codebook), None, "T431", f"theme '{theme}' has none of its "
                    "seed words in the segments; its topic is not seeded. Add seed words "
                    "that occur in the transcripts", "warning")
            for theme in getattr(model, "unseeded_themes_", [])]


def run(config: Config, out: Path, config_path: Path | None = None, strict: bool = False,
        reporter: Reporter | None = None, use_cache: bool = True) -> RunResult:
    """Run the whole pipeline and publish the run folder at ``out`` atomically.

    Parameters
    ----------
    config : Config
        Validated config (see :func:`themepipe.config.load_config`).
    out : Path
        Run folder link (see :mod:`themepipe.runfolder`).
    config_path : Path, optional
        The config file, recorded with its sha256 in the manifest.
    strict : bool
        Stop at the first bad input file instead of skipping it.
    reporter : Reporter, optional
        Progress receiver.
    use_cache : bool
        Reuse the results of stages whose inputs and config section are unchanged
        (:mod:`themepipe.cache`, stored beside ``out``) and store new ones.

    Returns
    -------
    RunResult

    Raises
    ------
    ThemepipeError
        Any user-caused problem that stops the run; nothing is written then.
    """
    from .classify_stage import classify_segments, load_classifier

    reporter = reporter or Reporter()
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    timer = _Timer(reporter, timings, counts)
    started = datetime.now(timezone.utc)
    codebook = load_codebook(config.codebook)
    themes = codebook.ids
    check_num_topics(config, codebook)
    check_out(out)
    check_model(config)
    if config.corpus.format == "transcripts":  # several partitions: stream them
        from .ingest import discover
        from .stream import plan_partitions, run_stream

        names = discover(config.corpus)
        plan = plan_partitions(Path(config.corpus.path), names,
                               config.executor.partition_size)
        if len(plan) > 1 or config.executor.kind == "dask" or \
                config.executor.tables == "parquet":
            return run_stream(config, out, config_path, strict, reporter, codebook, names,
                              plan)
    cache = StageCache(cache_dir(out) if use_cache else None, deferred=True)

    with timer.stage("ingest") as st:
        digest = input_digest(config) if cache.enabled else None
        key = None if digest is None else stage_key(
            "ingest", digest, strict, section_digest(config.corpus), config.groups)
        hit = cache.load("ingest", key)
        if hit is None:
            corpus, codes, problems = load_corpus(config, codebook, strict, reporter)
            cache.save("ingest", key, corpus_entry(corpus, codes, problems))
        else:
            corpus, codes, problems = corpus_from_entry(hit)
        if config.corpus.format == "table" and (config.executor.kind == "dask"
                                                or config.executor.tables == "parquet"):
            problems = [*problems, Problem(
                str(config.corpus.path), None, "T526", "a segment table is read whole and run "
                "in this process: executor.kind dask and executor.tables parquet apply to "
                "transcript folders only; split a very large table into transcript files",
                "warning")]
        if config.privacy.redact:  # ids are shown as they are in shared outputs
            from .privacy import informant_id_problems

            problems += informant_id_problems(corpus.informants,
                                              str(config.corpus.informants or "informants"))
        counts.update(transcripts=len(corpus.turns["transcript"].unique()),
                      turns=len(corpus.turns),
                      informants=int(corpus.turns.loc[corpus.turns["role"] == "informant",
                                                      "informant_id"].nunique()))
        st.summary = (f"{counts['transcripts']} transcripts, {counts['turns']} turns, "
                      f"{counts['informants']} informants"
                      + (f", {len(problems)} problem(s)" if problems else ""))
    def load_nlp():
        from .preprocess import Preprocessor

        with timer.stage("load-nlp") as st:
            st.summary = "spaCy blank('id') + components"
            return Preprocessor.from_config(config.preprocess)

    preprocessor = Lazy(load_nlp)  # built only if a stage below is not reused
    key = None if key is None else stage_key(
        "preprocess", key, section_digest(config.segment), section_digest(config.preprocess))
    hit = cache.load("preprocess", key, covers=("segment", "preprocess"))
    if hit is None:
        segments, more = prepare_segments(config, corpus, codes, preprocessor, timer, strict)
        cache.save("preprocess", key, Entry({"segments": segments}, {
            "problems": problems_data(more),
            "counts": {k: counts[k] for k in ("segments", "informant_segments",
                                              "coded_segments", "stems")}}))
    else:
        with timer.stage("preprocess") as st:
            segments, more = hit.frames["segments"], problems_from(hit.data["problems"])
            counts.update(hit.data["counts"])
            st.summary = f"{counts['stems']} stems (segment, preprocess reused)"
    problems += more

    # the codebook's seeds: its sha256 is in the ingest key (input_digest), chained here
    key = None if key is None else stage_key(
        "topics", key, section_digest(config.topics), config.groups,
        config.compare.bootstrap, config.compare.random_state)  # the prevalence intervals
    hit = cache.load("topics", key)
    if hit is None:
        n_problems = len(problems)
        with timer.stage("topics") as st:
            from .topics import topic_prevalence

            topic_model, doc_topic, mask = fit_topics(config, codebook, segments, preprocessor)
            problems += unseeded_problems(config, topic_model)
            topics_table = topic_model.topics_table(topn=10)
            segment_topics = add_topic_columns(segments, mask, doc_topic)
            prevalence = topic_prevalence(
                doc_topic, segments.loc[mask, "informant_id"].to_numpy(),
                segments.loc[mask, "group"].to_numpy(), n_boot=config.compare.bootstrap,
                random_state=config.compare.random_state,
                anchored_themes=topic_model.anchored_themes_, group_order=config.groups)
            st.summary = f"{doc_topic.shape[1]} topics on {int(mask.sum())} segments"
        cache.save("topics", key, Entry(
            {"segments": segments, "segment_topics": segment_topics,
             "topics_table": topics_table, "prevalence": prevalence},
            {"problems": problems_data(problems[n_problems:])}))
    else:
        with timer.stage("topics") as st:
            segments, segment_topics, topics_table, prevalence = (hit.frames[name] for name in (
                "segments", "segment_topics", "topics_table", "prevalence"))
            problems += problems_from(hit.data["problems"])
            st.summary = f"{len(topics_table)} topics (reused)"

    identity = model_identity(config) if key is not None else None
    key = None if identity is None else stage_key(
        "classify", key, section_digest(config.classifier), identity, themes)
    hit = cache.load("classify", key)
    if hit is None:
        with timer.stage("load-model") as st:
            model = load_classifier(config)
            st.summary = f"{Path(config.classifier.model).name} {model[1].version}"
        with timer.stage("classify") as st:
            segments, model_info = classify_segments(config, themes, segments, model)
            n_pred = int((~segments["pred_themes"].isin(["", "none"])).sum())
            st.summary = f"model {model_info['version']}, {n_pred} segments with a theme"
        model_card = model[1].to_dict()
        cache.save("classify", key, Entry({"segments": segments},
                                          {"model_info": model_info, "card": model_card}))
    else:
        with timer.stage("classify") as st:
            segments, model_info = hit.frames["segments"], hit.data["model_info"]
            model_card = hit.data["card"]
            st.summary = f"model {model_info['version']} (reused)"

    with timer.stage("compare") as st:
        from .compare import Comparison
        from .privacy import RULES_VERSION  # quotes.csv is redacted in this stage

        key = None if key is None else stage_key("compare", key, section_digest(config.compare),
                                                 config.groups, section_digest(config.privacy),
                                                 RULES_VERSION)
        hit = cache.load("compare", key)
        if hit is None:
            comparison = compare_run_segments(config, segments, themes, corpus.informants)
            cache.save("compare", key, Entry(dict(comparison.tables), {
                "by": comparison.by, "problems": problems_data(comparison.problems)}))
        else:
            comparison = Comparison(hit.data["by"], hit.frames,
                                    problems_from(hit.data["problems"]))
        problems += comparison.problems
        distribution = comparison.tables["theme_distribution.csv"]
        per_informant = informant_themes(segments, themes)
        st.summary = f"{distribution['group'].nunique()} groups x {len(themes)} themes"

    columns = SEGMENT_COLUMNS + [f"p_{t}" for t in themes]
    manifest = build_manifest(config, config_path, started, input_checksums(config, corpus),
                              model_info, counts, timings, problems, strict,
                              list(cache.reused),
                              None if cache.folder is None else str(cache.folder))
    with timer.stage("write") as st:
        with RunFolder(out) as folder:
            folder.write_csv("segments.csv", segments[columns])
            folder.write_csv("segment_topics.csv", segment_topics)
            folder.write_csv("topics.csv", topics_table)
            folder.write_csv("topic_prevalence.csv", prevalence)
            for name, table in comparison.tables.items():  # theme_distribution.csv ...
                folder.write_csv(name, table)
            folder.write_csv("informant_themes.csv", per_informant)
            folder.write_csv("informants.csv", corpus.informants)
            for name, text in corpus.sources.items():
                folder.write_text(f"sources/{name}", text)
            folder.write_json("manifest.json", manifest)
            write_extras(folder, config, codebook, corpus.informants, model_card)
        st.summary = str(out)
    cache.flush()  # only a published run fills the cache
    return RunResult(out, manifest, problems)


def build_manifest(config: Config, config_path: Path | None, started: datetime,
                   inputs: dict[str, str], model_info: dict, counts: dict, timings: dict,
                   problems: list[Problem], strict: bool, reused: list[str],
                   cache: str | None, **extra) -> dict:
    """The content of ``manifest.json`` (``extra`` keys are added, e.g. ``streaming``)."""
    return {
        "themepipe_version": __version__,
        "started": started.isoformat(timespec="seconds"),
        "config": config_to_dict(config),
        "config_file": None if config_path is None else {
            "path": str(config_path), "sha256": sha256_file(config_path)},
        "inputs": inputs,
        "libraries": library_versions(("dask", "distributed")
                                      if config.executor.kind == "dask" else ()),
        "seeds": {"topics": config.topics.random_state,
                  "classifier": config.classifier.random_state,
                  "compare": config.compare.random_state},
        "model": model_info,
        "counts": counts,
        "timings_s": timings,
        "problems": [p.__dict__ for p in problems],
        "strict": strict,
        "reused_stages": reused,
        "cache": cache,
        **extra,
    }


def write_extras(folder: RunFolder, config: Config, codebook: Codebook,
                 informants: pd.DataFrame, card: dict) -> None:
    """The .qdpx project and the reports, built from the tables already staged in
    ``folder`` and pseudonymised as ``privacy.redact`` says."""
    if config.report.qdpx:
        from .qdpx import export_qdpx
        export_qdpx(folder.path, folder.file("project.qdpx"))
    if config.report.html or config.report.xlsx:
        from .report import write_reports
        redact = None
        if config.privacy.redact:
            from .privacy import Pseudonymiser
            redact = Pseudonymiser.from_informants(informants).redact
        write_reports(folder.path, html=config.report.html, xlsx=config.report.xlsx,
                      redact=redact, card=card,
                      theme_labels={t.id: t.label for t in codebook.themes})


def input_checksums(config: Config, corpus: Corpus | None = None,
                    transcripts: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every input file: codebook, informants, codes, transcripts or table.

    The corpus files are hashed from ``corpus.files``, or taken as already hashed from
    ``transcripts`` (name -> sha256; a streaming run's workers hash their partitions).
    """
    sums = {"codebook": sha256_file(config.codebook)}
    for key in ("informants", "codes"):
        path = getattr(config.corpus, key)
        if path is not None and Path(path).is_file():
            sums[key] = sha256_file(path)
    if corpus is not None:
        for name, path in sorted(corpus.files.items()):
            sums[f"corpus/{name}"] = sha256_file(path)
    for name, digest in sorted((transcripts or {}).items()):
        sums[f"corpus/{name}"] = digest
    return sums


def add_topic_columns(segments: pd.DataFrame, mask: np.ndarray,
                      doc_topic: np.ndarray) -> pd.DataFrame:
    """Set ``dominant_topic`` of the rows ``mask`` (in place; empty for segments without
    stems and for the other rows) and return the ``segment_topics`` table.

    Parameters
    ----------
    segments : pandas.DataFrame
        With ``segment_id`` and ``stems``.
    mask : ndarray of bool, shape (n_segments,)
        The informant rows, in the order of ``doc_topic``'s rows.
    doc_topic : ndarray of shape (mask.sum(), n_topics)

    Returns
    -------
    pandas.DataFrame
        ``segment_id`` and ``topic_<k>`` per topic, one row per masked segment.
    """
    has_stems = (segments.loc[mask, "stems"].fillna("").str.strip() != "").to_numpy()
    segments["dominant_topic"] = ""
    segments.loc[mask, "dominant_topic"] = [str(k) if ok else "" for k, ok in
                                            zip(doc_topic.argmax(axis=1), has_stems)]
    table = pd.DataFrame(doc_topic, columns=[f"topic_{k}" for k in range(doc_topic.shape[1])])
    table.insert(0, "segment_id", segments.loc[mask, "segment_id"].to_numpy())
    return table


def classifier_input(segments: pd.DataFrame, columns: list[str]) -> list[str]:
    """Join the configured columns (``classifier.inputs``) into one input text per row."""
    joined = segments[columns[0]].fillna("").astype(str)
    for column in columns[1:]:
        joined = joined + " " + segments[column].fillna("").astype(str)
    return list(joined)


def training_data(segments: pd.DataFrame, themes: list[str],
                  inputs: list[str] | None = None):
    """Gold-coded informant segments as classifier input.

    Returns
    -------
    X : list of str
        Classifier input per coded segment: the ``inputs`` columns joined by spaces
        (default ``["stems"]``).
    Y : ndarray of shape (n_coded, n_themes), 0/1
    groups : ndarray of str
        Informant id per coded segment (for grouped cross-validation).
    pairs : list of (str, tuple of str)
        (segment text, themes) for the training-data checksum.
    """
    coded = segments[(segments["role"] == "informant") & (segments["gold_themes"] != "")]
    Y = theme_matrix(list(coded["gold_themes"]), themes)
    pairs = [(text, tuple(t for t in cell.split(";") if t and t != "none"))
             for text, cell in zip(coded["text"], coded["gold_themes"])]
    X = classifier_input(coded, inputs or ["stems"])
    return X, Y, coded["informant_id"].to_numpy(), pairs

