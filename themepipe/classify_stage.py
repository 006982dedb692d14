"""Classify stage of a run, and the training run behind ``themepipe train``.

The estimator itself lives in :mod:`themepipe.classify`; model files in
:mod:`themepipe.modelstore`; cross-validation in :mod:`themepipe.evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import NO_THEME
from .config import Config, config_to_dict
from .errors import ConfigError, ModelError, Problem, StageError


def model_dir(config: Config) -> Path:
    """The models folder ``models/<name>`` of the config.

    Raises
    ------
    ConfigError
        ``classifier.model`` is not set (T010).
    """
    if config.classifier.model is None:
        raise ConfigError("T013", "classifier.model is not set; point it at a models folder "
                          "such as ../models/kajigelem-themes")
    return Path(config.classifier.model)


def load_classifier(config: Config):
    """Load the model version the config names: ``(estimator, card)``.

    Raises
    ------
    ConfigError, ModelError
        As :func:`model_dir` and :func:`themepipe.modelstore.load_model`.
    """
    from .modelstore import load_model

    return load_model(model_dir(config), config.classifier.version)


def classify_segments(config: Config, themes: list[str], segments: pd.DataFrame,
                      model=None) -> tuple[pd.DataFrame, dict]:
    """Add ``pred_themes`` and ``p_<theme>`` columns for informant segments.

    Parameters
    ----------
    config : Config
    themes : list of str
        The codebook's theme ids; the model must have been trained on the same list.
    segments : pandas.DataFrame
        With ``role`` and the ``classifier.inputs`` columns; not modified.
    model : tuple, optional
        ``(estimator, card)`` from :func:`load_classifier`; loaded when not given.

    Returns
    -------
    segments : pandas.DataFrame
        A copy with ``pred_themes`` (``;``-joined; ``none`` when no theme is predicted or
        the segment has no stems; empty for interviewer rows) and ``p_<theme>``
        (probabilities; NaN for interviewer rows and segments without stems).
    model_info : dict
        ``name``, ``version``, ``path`` and ``model_sha256`` of the model used.

    Raises
    ------
    ModelError
        No usable model (see :func:`themepipe.modelstore.load_model`), or its themes
        differ from the codebook's (T310).
    """
    from .pipeline import classifier_input

    folder = model_dir(config)
    estimator, card = model if model is not None else load_classifier(config)
    model_themes = list(card.themes)
    if model_themes != list(themes):
        raise ModelError("T310", f"model themes {model_themes} differ from the codebook's "
                         f"{list(themes)}; retrain with `themepipe train CONFIG`",
                         path=folder)
    out = segments.copy(deep=False)  # new columns only: the input's data is shared
    informant = (out["role"] == "informant").to_numpy()
    # A segment with no stems (e.g. "Nggih." or only "[tertawa]") has nothing to classify.
    mask = informant & (out["stems"].fillna("").str.strip() != "").to_numpy()
    inputs = list(config.classifier.inputs)
    X = classifier_input(out.loc[mask, inputs], inputs)
    proba = estimator.predict_proba(X) if X else np.zeros((0, len(themes)))
    if not X:
        predicted = np.zeros((0, len(themes)), dtype=int)
    elif hasattr(estimator, "decide"):  # features extracted once, not twice
        predicted = estimator.decide(proba)
    else:
        predicted = estimator.predict(X)
    pred_themes = np.full(len(out), "", dtype=object)
    pred_themes[informant] = NO_THEME
    if len(predicted):  # one label string per distinct row of themes, not per segment
        rows, which = np.unique(np.asarray(predicted) != 0, axis=0, return_inverse=True)
        labels = np.array([";".join(t for t, hit in zip(themes, row) if hit) or NO_THEME
                           for row in rows], dtype=object)
        pred_themes[mask] = labels[which.ravel()]
    out["pred_themes"] = pred_themes
    for j, theme in enumerate(themes):
        column = np.full(len(out), np.nan)
        column[mask] = proba[:, j]
        out[f"p_{theme}"] = column
    info = {"name": folder.name, "version": card.version, "path": str(card.path),
            "model_sha256": card.model_sha256,
            "training_data_sha256": card.training_data_sha256}
    return out, info


@dataclass
class TrainingSet:
    """The gold-coded informant segments of a corpus, ready for the classifier.

    Attributes
    ----------
    themes : list of str
        Codebook theme ids (column order of ``Y``).
    X : list of str
        Classifier input per coded segment (``classifier.inputs`` joined).
    Y : ndarray of shape (n_coded, n_themes), 0/1
    groups : ndarray of str
        Informant id per coded segment.
    pairs : list of (str, tuple of str)
        (segment text, themes) for the training-data checksum.
    seeds : dict of str to list of str
        Stemmed seed words per theme (keyword baseline).
    segments : pandas.DataFrame
        Every segment, preprocessed, with ``gold_themes``.
    agreement : dict
        Agreement between human coders (:func:`themepipe.coding.coder_agreement`).
    problems : list of Problem
    """

    themes: list[str]
    X: list[str]
    Y: np.ndarray
    groups: np.ndarray
    pairs: list
    seeds: dict
    segments: pd.DataFrame
    agreement: dict
    problems: list


def code_tables(config: Config, codebook, extra_codes: list[Path] | None = None) -> list:
    """Every coder's codes as read, before merging (for inter-coder agreement).

    ``corpus.codes`` (or the themes column of a ``format: table`` corpus) and each
    ``extra_codes`` file, in that order.
    """
    from .ingest import ingest_table, load_codes

    tables = []
    if config.corpus.format == "table":
        tables.append(ingest_table(config.corpus, codebook)[1])
    elif config.corpus.codes is not None:
        tables.append(load_codes(config.corpus.codes, codebook))
    tables += [load_codes(path, codebook) for path in extra_codes or []]
    return tables


def read_segments(config: Config, extra_codes: list[Path] | None, reporter, timer):
    """Ingest, segment and preprocess the corpus with its (merged) gold codes.

    Returns
    -------
    codebook, segments, preprocessor, problems
        ``segments`` has ``gold_themes`` and the preprocessing columns.
    """
    from .codebook import load_codebook
    from .pipeline import load_corpus, prepare_segments
    from .preprocess import Preprocessor

    codebook = load_codebook(config.codebook)
    with timer.stage("ingest") as st:
        corpus, codes, problems = load_corpus(config, codebook, reporter=reporter,
                                              extra_codes=extra_codes)
        st.summary = f"{corpus.turns['transcript'].nunique()} transcripts"
    with timer.stage("load-nlp") as st:
        preprocessor = Preprocessor.from_config(config.preprocess)
        st.summary = "spaCy blank('id') + components"
    segments, more = prepare_segments(config, corpus, codes, preprocessor, timer)
    return codebook, segments, preprocessor, problems + more


def training_set(config: Config, extra_codes: list[Path] | None = None,
                 reporter=None, timer=None) -> TrainingSet:
    """Ingest, segment and preprocess the corpus; return its coded informant segments.

    Raises
    ------
    StageError
        No coded informant segment (T451), a theme without any coded example in
        multilabel mode (T450), coded segments from fewer than 2 informants (T452).
    """
    from .coding import coder_agreement
    from .pipeline import Reporter, _Timer, seed_stems, training_data

    reporter = reporter or Reporter()
    timer = timer or _Timer(reporter, {}, {})
    codebook, segments, preprocessor, problems = read_segments(config, extra_codes,
                                                               reporter, timer)
    themes = codebook.ids
    X, Y, groups, pairs = training_data(segments, themes, config.classifier.inputs)
    if len(X) == 0:
        raise StageError("T451", "no coded informant segment; set corpus.codes (or a themes "
                         "column) and code some turns first")
    empty = [t for t, n in zip(themes, Y.sum(axis=0)) if n == 0]
    if empty and config.classifier.mode == "multilabel":
        source = ", ".join(str(p) for p in [config.corpus.codes if
                                            config.corpus.format != "table" else
                                            config.corpus.path, *(extra_codes or [])]
                           if p is not None)
        raise StageError("T450", f"theme '{empty[0]}' has no coded example among the "
                         f"{len(X)} coded informant segments (codes: {source}); code at "
                         f"least a few segments with '{empty[0]}' or remove it from the "
                         "codebook")
    if len(set(groups)) < 2:
        raise StageError("T452", "coded segments come from fewer than 2 informants; grouped "
                         "cross-validation needs at least 2")
    informant = segments[segments["role"] == "informant"]
    informant_turns = set(zip(informant["transcript"], informant["turn_index"].astype(int)))
    agreement = coder_agreement(code_tables(config, codebook, extra_codes), themes,
                                informant_turns)
    if agreement["overall_alpha"] == 1.0 and agreement["n_turns_shared"] >= 20:
        problems.append(Problem(
            None, None, "T458", f"coders {', '.join(agreement['coders'])} agree on every one "
            f"of {agreement['n_turns_shared']} shared turns (alpha 1.0): the same codes were "
            "probably given twice, e.g. a project exported with export-qdpx and imported "
            "back; give each coder's own file to measure agreement", "warning"))
    return TrainingSet(themes, X, Y, groups, pairs, seed_stems(codebook, preprocessor),
                       segments, agreement, problems)


def cross_validate(config: Config, data: TrainingSet, progress=None) -> dict:
    """Grouped (by informant) cross-validation of the classifier and the keyword baseline.

    Returns
    -------
    dict
        ``{"themepipe": report, "keyword_baseline": report}``, each a
        :func:`themepipe.evaluation.grouped_cross_validate` report on the same folds.

    Raises
    ------
    StageError
        The coded segments cannot be split into ``classifier.cv_folds`` folds (T453).
    """
    from .classify import KeywordBaseline, make_classifier
    from .evaluation import grouped_cross_validate

    cfg = config.classifier
    try:
        cv = grouped_cross_validate(lambda: make_classifier(cfg, data.themes), data.X,
                                    data.Y, data.groups, data.themes, n_splits=cfg.cv_folds,
                                    random_state=cfg.random_state, progress=progress)
        baseline = grouped_cross_validate(lambda: KeywordBaseline(data.seeds), data.X,
                                          data.Y, data.groups, data.themes,
                                          n_splits=cfg.cv_folds,
                                          random_state=cfg.random_state)
    except ValueError as exc:
        raise StageError("T453", f"cross-validation cannot split the coded segments "
                         f"({exc}); code more segments of each theme or lower "
                         "classifier.cv_folds") from None
    return {"themepipe": cv, "keyword_baseline": baseline}


def evaluate(config: Config, extra_codes: list[Path] | None = None,
             reporter=None) -> dict:
    """Grouped cross-validation of the classifier (and keyword baseline); no model written.

    Returns
    -------
    dict
        ``metrics`` (JSON-ready: ``themepipe`` and ``keyword_baseline`` reports without
        per-segment fold assignments, ``coder_agreement``, ``n_segments``,
        ``n_informants``, ``config``), ``table`` (the ``metrics.csv`` rows, see
        :func:`themepipe.evaluation.metrics_table`) and ``problems``.

    Raises
    ------
    StageError
        As :func:`training_set` and :func:`cross_validate`.
    """
    from .evaluation import metrics_table

    _, data, reports = _validated(config, extra_codes, reporter)
    metrics = {name: {k: v for k, v in report.items() if k != "fold_assignment"}
               for name, report in reports.items()}
    metrics.update(coder_agreement=data.agreement, n_segments=len(data.X),
                   n_informants=len(set(data.groups)),
                   config=config_to_dict(config))
    table = pd.concat([metrics_table(report, name) for name, report in reports.items()],
                      ignore_index=True)
    return {"metrics": metrics, "table": table, "problems": data.problems}


def _validated(config: Config, extra_codes: list[Path] | None, reporter):
    """The training set and its cross-validation, as stages: ``(timer, data, reports)``."""
    from .pipeline import Reporter, _Timer

    reporter = reporter or Reporter()
    timer = _Timer(reporter, {}, {})
    data = training_set(config, extra_codes, reporter, timer)
    with timer.stage("cross-validate", total=config.classifier.cv_folds) as st:
        reports = cross_validate(config, data, progress=reporter.advance)
        cv, baseline = reports["themepipe"], reports["keyword_baseline"]
        st.summary = (f"macro-F1 {cv['macro_f1']['mean']:.3f} ± {cv['macro_f1']['sd']:.3f}"
                      f" (keyword baseline {baseline['macro_f1']['mean']:.3f})")
    return timer, data, reports


def train(config: Config, extra_codes: list[Path] | None = None, reporter=None) -> dict:
    """Train a new model version on the gold-coded segments of the config's corpus.

    Runs grouped cross-validation (by informant) of the classifier and of the seed-word
    keyword baseline, fits the classifier on all coded segments and writes a new version
    under ``classifier.model``; the card also stores the agreement between human coders
    (Krippendorff's alpha per theme on turns coded by two or more coders).

    Returns
    -------
    dict
        ``version_dir``, ``card`` (the model card), ``coder_agreement`` and ``problems``.

    Raises
    ------
    StageError
        As :func:`training_set` and :func:`cross_validate`.
    """
    from .classify import make_classifier
    from .modelstore import load_model, save_model

    folder = model_dir(config)
    timer, data, reports = _validated(config, extra_codes, reporter)
    with timer.stage("fit") as st:
        estimator = make_classifier(config.classifier, data.themes).fit(data.X, data.Y)
        version_dir = save_model(estimator, folder, data.pairs, reports,
                                 config_to_dict(config), data.themes,
                                 coder_agreement=data.agreement)
        st.summary = str(version_dir)
    _, card = load_model(folder, Path(version_dir).name)
    return {"version_dir": Path(version_dir), "card": card,
            "coder_agreement": data.agreement, "problems": data.problems}


def write_evaluation(result: dict, out: Path) -> Path:
    """Write ``metrics.json`` and ``metrics.csv`` of :func:`evaluate` at ``out``, atomically.

    ``out`` is a link to a versioned folder replaced in one step (see
    :class:`themepipe.runfolder.RunFolder`): a reader finds the complete earlier
    evaluation or the complete new one.

    Raises
    ------
    OutputError
        ``out`` cannot be written (T501, T502).
    """
    from .runfolder import RunFolder

    with RunFolder(Path(out)) as folder:
        folder.write_json("metrics.json", result["metrics"])
        folder.write_csv("metrics.csv", result["table"])
    return Path(out)
