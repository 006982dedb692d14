"""Classify stage of a run, and the training run behind ``themepipe train``.

The estimator itself lives in :mod:`themepipe.classify`; model files in
:mod:`themepipe.modelstore`; cross-validation in :mod:`themepipe.evaluation`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import NO_THEME
from .config import Config, config_to_dict
from .errors import ConfigError, ModelError, StageError


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
    out = segments.copy()
    informant = (out["role"] == "informant").to_numpy()
    # A segment with no stems (e.g. "Nggih." or only "[tertawa]") has nothing to classify.
    mask = informant & (out["stems"].fillna("").str.strip() != "").to_numpy()
    X = classifier_input(out.loc[mask], config.classifier.inputs)
    proba = estimator.predict_proba(X) if X else np.zeros((0, len(themes)))
    predicted = estimator.predict(X) if X else np.zeros((0, len(themes)), dtype=int)
    out["pred_themes"] = ""
    out.loc[informant, "pred_themes"] = NO_THEME
    out.loc[mask, "pred_themes"] = [";".join(t for t, hit in zip(themes, row) if hit)
                                    or NO_THEME for row in predicted]
    for j, theme in enumerate(themes):
        out[f"p_{theme}"] = np.nan
        out.loc[mask, f"p_{theme}"] = proba[:, j]
    info = {"name": folder.name, "version": card.version, "path": str(card.path),
            "model_sha256": card.model_sha256,
            "training_data_sha256": card.training_data_sha256}
    return out, info


def train(config: Config, extra_codes: list[Path] | None = None, reporter=None) -> dict:
    """Train a new model version on the gold-coded segments of the config's corpus.

    Runs grouped cross-validation (by informant) of the classifier and of the seed-word
    keyword baseline, fits the classifier on all coded segments and writes a new version
    under ``classifier.model``.

    Returns
    -------
    dict
        ``version_dir``, ``card`` (the model card) and ``problems``.

    Raises
    ------
    StageError
        Fewer than 2 coded informants, or a theme without any positive example (T420).
    """
    from .codebook import load_codebook
    from .classify import KeywordBaseline, make_classifier
    from .evaluation import grouped_cross_validate
    from .modelstore import save_model
    from .pipeline import (Reporter, _Timer, load_corpus, prepare_segments, seed_stems,
                           training_data)
    from .preprocess import Preprocessor

    reporter = reporter or Reporter()
    timer = _Timer(reporter, {}, {})
    codebook = load_codebook(config.codebook)
    themes = codebook.ids
    folder = model_dir(config)
    with timer.stage("ingest") as st:
        corpus, codes, problems = load_corpus(config, codebook, reporter=reporter,
                                              extra_codes=extra_codes)
        st.summary = f"{corpus.turns['transcript'].nunique()} transcripts"
    with timer.stage("load-nlp") as st:
        preprocessor = Preprocessor.from_config(config.preprocess)
        st.summary = "spaCy blank('id') + components"
    segments, more = prepare_segments(config, corpus, codes, preprocessor, timer)
    problems += more
    X, Y, groups, pairs = training_data(segments, themes, config.classifier.inputs)
    if len(X) == 0:
        raise StageError("T451", "no coded informant segment; set corpus.codes (or a themes "
                         "column) and code some turns first")
    empty = [t for t, n in zip(themes, Y.sum(axis=0)) if n == 0]
    if empty and config.classifier.mode == "multilabel":
        raise StageError("T450", f"theme '{empty[0]}' has no coded example; code at least a "
                         "few segments with it or remove it from the codebook")
    if len(set(groups)) < 2:
        raise StageError("T452", "coded segments come from fewer than 2 informants; grouped "
                         "cross-validation needs at least 2")
    seeds = seed_stems(codebook, preprocessor)
    with timer.stage("cross-validate", total=config.classifier.cv_folds) as st:
        try:
            cv = grouped_cross_validate(lambda: make_classifier(config.classifier, themes),
                                        X, Y, groups, themes,
                                        n_splits=config.classifier.cv_folds,
                                        random_state=config.classifier.random_state)
            baseline = grouped_cross_validate(lambda: KeywordBaseline(seeds), X, Y, groups,
                                              themes, n_splits=config.classifier.cv_folds,
                                              random_state=config.classifier.random_state)
        except ValueError as exc:
            raise StageError("T453", f"cross-validation cannot split the coded segments "
                             f"({exc}); code more segments of each theme or lower "
                             "classifier.cv_folds") from None
        st.summary = (f"macro-F1 {cv['macro_f1']['mean']:.3f} ± {cv['macro_f1']['sd']:.3f} "
                      f"(keyword baseline {baseline['macro_f1']['mean']:.3f})")
    with timer.stage("fit") as st:
        estimator = make_classifier(config.classifier, themes).fit(X, Y)
        version_dir = save_model(estimator, folder, pairs,
                                 {"themepipe": cv, "keyword_baseline": baseline},
                                 config_to_dict(config), themes)
        st.summary = str(version_dir)
    from .modelstore import load_model
    _, card = load_model(folder, Path(version_dir).name)
    return {"version_dir": Path(version_dir), "card": card, "problems": problems}
