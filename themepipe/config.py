"""Run configuration: YAML files validated by pydantic models.

The pydantic models below are the registry of config keys.  Unknown keys and wrong
types are errors naming the dotted key; relative paths are resolved against the folder
of the config file; ``--set a.b=value`` overrides any key (the value is read as a YAML
scalar, so ``--set topics.num_topics=8`` gives an integer).
"""

from __future__ import annotations

import codecs
import copy
import difflib
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

DEFAULT_INTERVIEWER_LABELS = [
    "P", "T", "Peneliti", "Pewawancara", "Penanya", "Tanya", "Interviewer", "Moderator",
    "Fasilitator",
]
DEFAULT_HEADER_KEYS = ["Informan", "Kelompok", "Tanggal", "Lokasi"]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              use_attribute_docstrings=True)


class CorpusConfig(Section):
    """Where the transcripts are and how to read them (``corpus:``)."""

    path: Path
    """Folder of transcripts (searched recursively), or a segment table file."""
    format: Literal["transcripts", "table"] = "transcripts"
    """``transcripts`` (a folder) or ``table`` (CSV/TSV/JSONL/XLSX/Parquet, one row per segment)."""
    informants: Path | None = None
    """informants.csv: transcript, speaker_label, informant_id, name, group, attributes..."""
    codes: Path | None = None
    """Gold codes: transcript, turn_index, themes (``;``-separated, or ``none``), optional coder."""
    include: list[str] = Field(default_factory=lambda: ["*.txt", "*.md", "*.docx"])
    """File-name patterns of transcripts."""
    interviewer_labels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INTERVIEWER_LABELS))
    """Speaker labels of interviewers (case-insensitive); their turns are not coded."""
    header_keys: list[str] = Field(default_factory=lambda: list(DEFAULT_HEADER_KEYS))
    """``Key: value`` lines at the top of a file with these keys are metadata, not turns."""
    label_pattern: str | None = None
    """Regex replacing the built-in label recognition, matched at each line start; needs a
    named group ``label`` (the speaker label), optional group ``speech`` (where the speech
    starts; default: the end of the match), e.g. ``'(?P<label>[A-Z]\\w*)\\s*>\\s*'``."""
    encoding: str = "auto"
    """``auto`` (BOM, then UTF-8, then Windows-1252 with a warning) or a codec name."""

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value != "auto":
            try:
                info = codecs.lookup(value)
            except LookupError:
                raise ValueError("not a known text encoding; use auto, utf-8, cp1252, "
                                 "utf-16 ...") from None
            if not info._is_text_encoding:
                raise ValueError("not a text encoding; use auto, utf-8, cp1252, ...")
        return value
    max_file_mb: float = Field(200.0, gt=0)
    """Larger input files are refused."""
    text_column: str = "text"
    """Table format: column with the segment text."""
    group_column: str = "group"
    """Table format: column with the informant group."""
    informant_column: str = "informant_id"
    """Table format: column with the informant id."""
    themes_column: str = "themes"
    """Table format: gold themes (``;``-separated; ``none`` = coded, no theme; empty = uncoded)."""

    @field_validator("label_pattern")
    @classmethod
    def _label_pattern_has_label_group(cls, value: str | None) -> str | None:
        import re

        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
            if "label" not in compiled.groupindex:
                raise ValueError("needs a named group 'label', e.g. '(?P<label>[A-Z]\\w*):'")
        return value


class SegmentConfig(Section):
    """How turns become segments (``segment:``).

    ``max_sentences: 0`` keeps one segment per turn; ``N > 0`` splits turns longer than
    N sentences into windows of N sentences.
    """

    unit: Literal["turn"] = "turn"
    """Unit of segmentation (speaker turns)."""
    max_sentences: int = Field(0, ge=0)
    """0: one segment per turn; N: windows of N sentences for longer informant turns."""


class PreprocessConfig(Section):
    """Normalisation, tokenisation, stop words and stemming (``preprocess:``).

    File formats are described in ``configs/README.md``; a path left unset means the
    resource is not used (or the built-in default list is, where one is named).
    """

    stem: bool = True
    """Stem with PySastrawi; false makes every stem equal its norm."""
    lexicon: Path | None = None
    """TSV of colloquial/Javanese form -> standard form (one word each)."""
    lexicon_extra: Path | None = None
    """A second lexicon TSV, e.g. the study's own; its entries override ``lexicon``."""
    lookups_norm: bool = False
    """Layer spacy-lookups-data's ``id_lexeme_norm`` table under the lexicons."""
    protected_words: Path | None = None
    """Word list: names and domain words that are never re-analysed nor stemmed."""
    stem_overrides: Path | None = None
    """TSV of word -> stem that replaces the stemmer's answer for known wrong stems."""
    stop_words: Path | None = None
    """Word list added to spaCy's Indonesian stop words; ``!word`` lines remove one."""
    keep_words: list[str] = Field(
        default_factory=lambda: ["tidak", "tak", "bukan", "belum", "jangan"])
    """Words never treated as stop words (negations carry meaning for themes)."""
    stop_numbers: bool = True
    """Numbers (``2007``, ``10.000``) are tokens but are left out of ``stems``."""
    fillers: list[str] | None = None
    """Hesitation words that produce no token; unset = built-in list (ee, eh, hmm, anu...)."""
    note_patterns: Path | None = None
    """Transcriber-note patterns, one a line; unset = built-in ([...], timestamps, ...)."""
    abbreviations: list[str] | None = None
    """Abbreviations kept as one token that never end a sentence; unset = built-in list."""


class TopicsConfig(Section):
    """Topic model (``topics:``). ``num_topics`` counts seeded plus residual topics.

    Every key but ``seeded`` and ``seed_fields`` (see
    :func:`themepipe.topics.theme_seed_stems`) is a parameter of
    :class:`themepipe.topics.SeededTopicModel`; see its docstring for the details.
    """

    model: Literal["lda", "nmf"] = "nmf"
    """nmf (scikit-learn NMF on TF-IDF; the default, chosen by bench/topics.py) or lda (gensim LdaModel)."""
    num_topics: int = Field(9, ge=1)
    """Number of topics: one per codebook theme when seeded, plus residual topics."""
    seeded: bool = True
    """Anchor topic k to codebook theme k through the themes' seed words."""
    random_state: int = Field(0, ge=0, lt=2**32)
    """Seed of every random draw of the topic model."""
    passes: int = Field(5, ge=1)
    """LDA: passes over the segments."""
    iterations: int = Field(50, ge=1)
    """LDA: maximum variational iterations per segment."""
    max_iter: int = Field(400, ge=1)
    """NMF: maximum solver iterations."""
    no_below: int = Field(3, ge=1)
    """Keep terms found in at least this many segments (seed words are always kept)."""
    no_above: float = Field(0.2, gt=0, le=1)
    """Keep terms found in at most this share of segments (seed words are always kept)."""
    keep_n: int | None = Field(100000, ge=1)
    """Keep at most this many terms, most frequent first (null: no limit)."""
    bigrams: bool = False
    """Merge frequent word pairs into one term (gensim Phrases), e.g. tindak_lanjut."""
    bigram_min_count: int = Field(5, ge=1)
    """Phrases: minimum count of a word pair."""
    bigram_threshold: float = Field(10.0, gt=0)
    """Phrases: score threshold of a word pair (higher: fewer pairs)."""
    seed_weight: float = Field(0.5, gt=0)
    """Seeding strength: LDA pseudo-counts per seed word as a share of its frequency; NMF extra weight of the seed words' TF-IDF columns."""
    alpha: Literal["symmetric", "asymmetric", "auto"] | Annotated[float, Field(gt=0)] = \
        "symmetric"
    """LDA document-topic prior: symmetric, asymmetric, auto or a positive number."""
    eta: float | None = Field(None, gt=0)
    """LDA topic-term prior before seeding (null: 1 / num_topics)."""
    coherence_topn: int = Field(10, ge=2)
    """Top terms per topic scored by NPMI (topics.csv) and UMass."""
    anchor_weight: float = Field(3.0, ge=0)
    """NMF: weight of the seed pseudo-segments that keep each seeded topic tied to its seed words during the fit (0: seeded start only); 3 chosen on IndoNLU CASA/HoASA by bench/seeded_dev.py."""
    expand_terms: int = Field(10, ge=0)
    """Add to each theme's seed words up to this many terms of the segments that co-occur with them (highest NPMI with the theme's seed set, not closer to another theme; pseudo-relevance feedback, Xu & Croft 1996); 0: none; 10 chosen on IndoNLU CASA/HoASA by bench/seeded_dev.py."""
    expand_weight: float = Field(0.5, gt=0, le=1)
    """Weight of an added term relative to a seed word (1) in the seeding."""
    expand_max_df: float = Field(0.1, gt=0, le=1)
    """Added terms occur in at most this share of the segments."""
    expand_min_count: int = Field(3, ge=1)
    """Added terms occur in at least this many segments, alone and together with the theme's seed words."""
    seed_max_df: float | None = Field(None, gt=0, le=1)
    """Seed words found in more than this share of the segments are not used as seeds (null: all are; a cap hurt on the dev data)."""
    seed_idf: bool = False
    """Weight each theme's seed words by inverse document frequency so common ones count less (no better on the dev data)."""
    seed_fields: list[Literal["label", "short_definition", "full_definition", "when_to_use",
                              "example"]] = Field(default_factory=lambda: ["label", "example"])
    """Codebook fields whose content words (stemmed, one theme only) are added to a theme's seed words; [] for the seed words alone."""
    fit_sample: int = Field(50000, ge=0)
    """Fit the topic model on at most this many informant segments, chosen reproducibly (by a hash of random_state and segment_id), then compute proportions for every segment; 0 fits on all."""


class ClassifierConfig(Section):
    """Theme classifier (``classifier:``).

    The feature and model keys are the hyperparameters of
    ``themepipe.classify.ThemeClassifier`` (NB-weighted logistic regression on binary
    word and character n-grams); their defaults were fixed on data other than the
    benchmark's (see ``bench/classify.py``).
    """

    model: Path | None = None
    """Models folder ``models/<name>``; ``train`` writes versions into it, ``run`` reads one."""
    version: str = "latest"
    """``latest`` (last version name in sort order) or a pinned version name."""
    mode: Literal["multilabel", "multiclass"] = "multilabel"
    """``multilabel``: any number of themes per segment; ``multiclass``: exactly one."""
    inputs: list[Literal["tokens", "stems", "text"]] = Field(
        default_factory=lambda: ["tokens", "stems"], min_length=1)
    """Segment columns joined as the classifier's input text (normalised tokens and stems)."""
    cv_folds: int = Field(5, ge=2)
    """Folds of the cross-validation grouped by informant (``train``, ``evaluate``)."""
    random_state: int = Field(0, ge=0, lt=2**32)
    """Seed of the folds and of the classifier."""
    word_ngrams: tuple[int, int] | None = (1, 2)
    """Word n-gram range [min_n, max_n]; null drops word features."""
    char_ngrams: tuple[int, int] | None = (2, 5)
    """Character n-gram range [min_n, max_n] within word boundaries; null drops them."""
    min_df: int = Field(1, ge=1)
    """Minimum number of training segments a word n-gram must occur in."""
    char_min_df: int = Field(2, ge=1)
    """Minimum number of training segments a character n-gram must occur in."""
    max_features: int | None = Field(200000, ge=1)
    """Keep at most this many most frequent n-grams per featuriser (null: all)."""
    nb_alpha: float = Field(1.0, gt=0)
    """Additive smoothing of the naive-Bayes feature weights."""
    C: float = Field(4.0, gt=0)
    """Inverse L2 regularisation strength of each theme's logistic regression."""
    class_weight: Literal["balanced"] | None = "balanced"
    """Class weighting of each theme's logistic regression (balanced or null)."""
    inner_folds: int = Field(5, ge=2)
    """Folds of the internal CV (inside training data) for calibration and thresholds."""
    norm: Literal["l2"] | None = "l2"
    """Row normalisation of the n-gram features (l2 or null)."""
    members: list[Literal["nb", "tfidf"]] = Field(
        default_factory=lambda: ["nb"], min_length=1)
    """Models whose scores are summed per theme: nb (NB-weighted logistic regression on
    binary n-grams) and/or tfidf (logistic regression on sublinear TF-IDF; doubles the
    fitting time)."""
    interpolation: float = Field(1.0, gt=0, le=1)
    """nb member: Wang & Manning's interpolation beta between NB (0) and LR weights (1)."""
    tfidf_C: float = Field(10.0, gt=0)
    """Inverse L2 regularisation strength of the tfidf member's logistic regressions."""
    multiclass_members: list[Literal["nb", "tfidf"]] | None = Field(
        default_factory=lambda: ["nb", "tfidf"])
    """multiclass mode: members used there instead of `members`, each member's theme
    scores a separate input of the stacked calibration (null: `members`, summed)."""

    @field_validator("word_ngrams", "char_ngrams")
    @classmethod
    def _ngram_range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 1 <= value[0] <= value[1]:
            raise ValueError("must be [min_n, max_n] with 1 <= min_n <= max_n")
        return value


class CompareConfig(Section):
    """Comparison of themes across informant groups (``compare:``)."""

    by: list[str] = Field(default_factory=lambda: ["group"])
    """Informant attributes ``themepipe compare RUN_DIR`` compares by when ``--by`` is not given (``run`` itself compares by ``group``)."""
    bootstrap: int = Field(2000, ge=0)
    """Bootstrap resamples of informants within a group for the 95% (expanded percentile) intervals of ``share_segments`` (0: no intervals)."""
    permutations: int = Field(5000, ge=0)
    """Random permutations of group labels across informants for each test (0: no tests)."""
    random_state: int = Field(0, ge=0, lt=2**32)
    """Seed of the bootstrap and permutations (recorded in the manifest)."""


class PrivacyConfig(Section):
    """Pseudonymisation of outputs meant for sharing (``privacy:``)."""

    redact: bool = True
    """Pseudonymise names in outputs meant for sharing (quotes.csv, report.html,
    report.xlsx, .qdpx): every word of an informant's ``name`` and the short forms in
    honorific speaker labels become ``[<informant_id>]``; other honorific-plus-name
    mentions (``Pak Karto``) become ``Pak [N-ddddd]`` (see themepipe.privacy)."""


class ReportConfig(Section):
    """Which reports ``run`` writes (``report:``)."""

    html: bool = True
    """Write report.html: one self-contained page (no network, no JavaScript) with the run
    summary, heatmap, bar charts with intervals, tests, topics, quotes and methods."""
    xlsx: bool = True
    """Write report.xlsx: a summary sheet, then one sheet per table of the run folder."""
    qdpx: bool = False
    """Write a REFI-QDA project, project.qdpx, into the run folder (as ``themepipe
    export-qdpx`` does; pseudonymised when privacy.redact is on)."""


class QdpxConfig(Section):
    """Reading REFI-QDA projects with ``themepipe import-qdpx`` (``qdpx:``)."""

    code_map: dict[str, str] = Field(default_factory=dict)
    """QDA code name (case-insensitive) -> theme id, ``none``, or ``''`` to ignore the
    code; names equal to a theme id or label need no entry; nested codes inherit their
    parent's theme."""
    max_total_mb: float = Field(512.0, gt=0)
    """Refuse a .qdpx that would unpack to more than this, before extracting."""
    max_compression_ratio: float = Field(200.0, gt=1)
    """Refuse a .qdpx compressed more than this many times (a zip bomb), before extracting."""


class ExecutorConfig(Section):
    """Where per-partition stages run (``executor:``)."""

    kind: Literal["local", "dask"] = "local"
    """``local``: processes on this machine; ``dask``: a dask.distributed cluster (``pip install -e .[dask]``); a dask run always streams, even a corpus of one partition."""
    address: str | None = None
    """Dask scheduler address such as tcp://10.0.0.5:8786; null with kind: dask starts a LocalCluster of n_process workers."""
    n_process: int = Field(1, ge=1)
    """Processes (or LocalCluster workers) for the per-partition stages; output is identical for any N."""
    partition_size: int = Field(20000, ge=1)
    """About this many segments per partition (estimated from file sizes; a transcript is never split). A corpus of one partition runs in memory with the stage cache; larger ones stream partition by partition."""
    tables: Literal["auto", "csv", "parquet"] = "auto"
    """Format of segments and segment_topics: csv (segments.csv), parquet (segments/part-*.parquet), auto (csv up to 100,000 segments, else parquet)."""


class Config(Section):
    """A whole run configuration; see ``configs/kajigelem.yaml`` for an example."""

    corpus: CorpusConfig
    codebook: Path
    """Codebook YAML (themes with id, label, definitions, example, seed_words)."""
    groups: list[str] | None = None
    """Expected informant groups; a group in the data that is not listed is an error."""
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    topics: TopicsConfig = Field(default_factory=TopicsConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    compare: CompareConfig = Field(default_factory=CompareConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    qdpx: QdpxConfig = Field(default_factory=QdpxConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)

    @field_validator("groups")
    @classmethod
    def _unique_groups(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("group ids must be unique")
        return value


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError("T002", f"override '{item}' is not KEY=VALUE; "
                          "write e.g. --set topics.num_topics=8")
    key, _, raw = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError("T002", f"override '{item}' has an empty key; "
                          "write e.g. --set topics.num_topics=8")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Return a copy of ``data`` with dotted ``KEY=VALUE`` overrides applied.

    Raises
    ------
    ConfigError
        An override is not ``KEY=VALUE`` or descends into a key that is not a mapping.
    """
    data = copy.deepcopy(data)
    for item in overrides:
        parts, value = _parse_override(item)
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                dotted = ".".join(parts[: depth + 1])
                raise ConfigError("T002", f"cannot set '{'.'.join(parts)}': "
                                  f"'{dotted}' is not a section")
            node = child
        node[parts[-1]] = value
    return data


def _dotted(loc: tuple) -> str:
    # pydantic adds union branches such as "literal['a','b']" or "float" to the path
    return ".".join(str(part) for part in loc
                    if isinstance(part, int) or str(part).isidentifier()
                    and part not in ("float", "int", "str", "bool", "list", "tuple"))


def _resolve_paths(model: BaseModel, base: Path) -> None:
    for name, value in list(model):
        if isinstance(value, Path) and not value.is_absolute():
            object.__setattr__(model, name, (base / value).resolve())
        elif isinstance(value, BaseModel):
            _resolve_paths(value, base)


def config_from_dict(data: Any, base_dir: Path, source: str = "<config>",
                     overridden: frozenset[str] = frozenset()) -> Config:
    """Validate a config mapping and resolve its relative paths against ``base_dir``.

    Raises
    ------
    ConfigError
        The first validation error, naming the dotted key and what is allowed.
    """
    if not isinstance(data, dict):
        raise ConfigError("T003", "the config must be a YAML mapping of sections "
                          "(corpus:, codebook:, ...)", path=source)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        key = _dotted(err["loc"])
        if err["type"] == "extra_forbidden":
            section: Any = Config
            for part in err["loc"][:-1]:
                section = section.model_fields[str(part)].annotation
            names = sorted(getattr(section, "model_fields", {}))
            close = difflib.get_close_matches(str(err["loc"][-1]), names, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            msg = f"unknown key '{key}'; {hint}allowed here: {', '.join(names)}"
        elif err["type"] == "missing":
            missing = [_dotted(e["loc"]) for e in errors if e["type"] == "missing"]
            msg = f"missing required key(s) {', '.join(repr(m) for m in missing)}"
        else:
            got = repr(err.get("input"))
            got = got if len(got) <= 80 else got[:77] + "..."
            msg = f"invalid value for '{key}': {err['msg']} (got {got})"
        where = f"--set {key}" if key in overridden else source
        raise ConfigError("T001", msg, path=where) from None
    _resolve_paths(config, base_dir)
    return config


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a YAML run config.

    Parameters
    ----------
    path : str or Path
        The YAML file.  Relative paths inside it are relative to its folder.
    overrides : list of str, optional
        Dotted ``KEY=VALUE`` items applied before validation.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or does not validate (T001-T004).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("T004", "config file not found; check the path "
                          "(e.g. configs/kajigelem.yaml)", path=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in str(exc):
            # safe_load builds plain data only: a !!python/... tag is refused, never run
            tag = str(exc.problem).partition("tag '")[2].rstrip("'")
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            raise ConfigError("T003", f"YAML tag '{tag}' is not allowed: a config holds "
                              "plain data only (nothing in it is imported or run); remove "
                              "the tag", path=path,
                              line=None if line is None else line + 1) from None
        raise ConfigError("T003", "not valid YAML: "
                          f"{str(exc).splitlines()[0]}; fix the syntax",
                          path=path, line=None if line is None else line + 1) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError("T003", "the config must be a YAML mapping of sections "
                          "(corpus:, codebook:, ...)", path=path)
    data = apply_overrides(data or {}, overrides or [])
    overridden = frozenset(item.partition("=")[0].strip() for item in overrides or [])
    return config_from_dict(data, path.resolve().parent, source=str(path),
                            overridden=overridden)


def config_to_dict(config: Config) -> dict:
    """Return the resolved config as plain JSON-ready data (paths as strings)."""
    return config.model_dump(mode="json")


def _type_name(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Literal:
        return " / ".join(f"`{a}`" for a in args)
    if args and typing.get_origin(annotation) in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in args)
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(args[0])
    if args:
        return f"{annotation.__name__}[{', '.join(_type_name(a) for a in args)}]"
    return "None" if annotation is type(None) else getattr(annotation, "__name__",
                                                           str(annotation))


def config_reference() -> str:
    """Markdown reference of every config key, generated from the pydantic models.

    Returns
    -------
    str
        One table per section: key, type, default, description.
    """
    lines = []
    top = Config.model_fields
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    for name, field in top.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Section):
            continue
        default = "required" if field.is_required() else repr(field.get_default(
            call_default_factory=True))
        desc = " ".join((field.description or "").split())
        lines.append(f"| `{name}` | {_type_name(annotation)} | {default} | {desc} |")
    for name, field in top.items():
        section = field.annotation
        if not (isinstance(section, type) and issubclass(section, Section)):
            continue
        doc = " ".join((section.__doc__ or "").split())
        lines += ["", f"**`{name}:`** — {doc}", "",
                  "| key | type | default | description |", "|---|---|---|---|"]
        for key, sub in section.model_fields.items():
            default = "required" if sub.is_required() else repr(
                sub.get_default(call_default_factory=True))
            default = default.replace("|", "\\|")
            desc = " ".join((sub.description or "").split()).replace("|", "\\|")
            lines.append(f"| `{name}.{key}` | {_type_name(sub.annotation)}"
                         f" | `{default}` | {desc} |")
    return "\n".join(lines) + "\n"


def _update_readme(readme: Path) -> None:
    """Rewrite the config reference between the README's markers."""
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    readme.write_text(head + start + config_reference() + end + tail, encoding="utf-8")


if __name__ == "__main__":  # python -m themepipe.config --readme  (run from the repo root)
    import sys

    if sys.argv[1:] == ["--readme"]:
        _update_readme(Path("README.md"))
    else:
        print(config_reference(), end="")
