"""Run configuration: YAML files validated by pydantic models.

The pydantic models below are the registry of config keys.  Unknown keys and wrong
types are errors naming the dotted key; relative paths are resolved against the folder
of the config file; ``--set a.b=value`` overrides any key (the value is read as a YAML
scalar, so ``--set topics.num_topics=8`` gives an integer).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

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

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CorpusConfig(Section):
    """Where the transcripts are and how to read them (``corpus:``)."""

    path: Path
    format: Literal["transcripts", "table"] = "transcripts"
    informants: Path | None = None
    codes: Path | None = None
    include: list[str] = Field(default_factory=lambda: ["*.txt", "*.md", "*.docx"])
    interviewer_labels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INTERVIEWER_LABELS))
    header_keys: list[str] = Field(default_factory=lambda: list(DEFAULT_HEADER_KEYS))
    label_pattern: str | None = None
    encoding: str = "auto"
    max_file_mb: float = Field(200.0, gt=0)
    text_column: str = "text"
    group_column: str = "group"
    informant_column: str = "informant_id"
    themes_column: str = "themes"


class SegmentConfig(Section):
    """How turns become segments (``segment:``).

    ``max_sentences: 0`` keeps one segment per turn; ``N > 0`` splits turns longer than
    N sentences into windows of N sentences.
    """

    unit: Literal["turn"] = "turn"
    max_sentences: int = Field(0, ge=0)


class PreprocessConfig(Section):
    """Normalisation, tokenisation, stop words and stemming (``preprocess:``)."""

    stem: bool = True
    protected_words: Path | None = None


class TopicsConfig(Section):
    """Topic model (``topics:``). ``num_topics`` counts seeded plus residual topics."""

    model: Literal["lda", "nmf"] = "lda"
    num_topics: int = Field(9, ge=1)
    seeded: bool = True
    random_state: int = 0


class ClassifierConfig(Section):
    """Theme classifier (``classifier:``)."""

    model: Path | None = None
    version: str = "latest"
    mode: Literal["multilabel", "multiclass"] = "multilabel"
    cv_folds: int = Field(5, ge=2)
    random_state: int = 0


class CompareConfig(Section):
    """Comparison of themes across informant groups (``compare:``)."""

    by: list[str] = Field(default_factory=lambda: ["group"])
    bootstrap: int = Field(2000, ge=0)
    permutations: int = Field(5000, ge=0)
    random_state: int = 0


class PrivacyConfig(Section):
    """Pseudonymisation of outputs meant for sharing (``privacy:``)."""

    redact: bool = True


class ReportConfig(Section):
    """Which reports ``run`` writes (``report:``)."""

    html: bool = True
    xlsx: bool = True
    qdpx: bool = False


class ExecutorConfig(Section):
    """Where per-partition stages run (``executor:``)."""

    kind: Literal["local"] = "local"
    n_process: int = Field(1, ge=1)
    partition_size: int = Field(20000, ge=1)


class Config(Section):
    """A whole run configuration; see ``configs/kajigelem.yaml`` for an example."""

    corpus: CorpusConfig
    codebook: Path
    groups: list[str] | None = None
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    topics: TopicsConfig = Field(default_factory=TopicsConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    compare: CompareConfig = Field(default_factory=CompareConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
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
    return ".".join(str(part) for part in loc)


def _resolve_paths(model: BaseModel, base: Path) -> None:
    for name, value in list(model):
        if isinstance(value, Path) and not value.is_absolute():
            object.__setattr__(model, name, (base / value).resolve())
        elif isinstance(value, BaseModel):
            _resolve_paths(value, base)


def config_from_dict(data: Any, base_dir: Path, source: str = "<config>") -> Config:
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
        err = exc.errors()[0]
        key = _dotted(err["loc"])
        if err["type"] == "extra_forbidden":
            parent = err["loc"][:-1]
            section: Any = Config
            for part in parent:
                section = section.model_fields[str(part)].annotation
            allowed = ", ".join(sorted(getattr(section, "model_fields", {})))
            msg = f"unknown key '{key}'; allowed here: {allowed}"
        elif err["type"] == "missing":
            msg = f"missing required key '{key}'"
        else:
            msg = f"invalid value for '{key}': {err['msg']} (got {err.get('input')!r})"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (+{more} more)"
        raise ConfigError("T001", msg, path=source) from None
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
        raise ConfigError("T003", "not valid YAML: "
                          f"{str(exc).splitlines()[0]}; fix the syntax",
                          path=path, line=None if line is None else line + 1) from None
    data = apply_overrides(data or {}, overrides or [])
    return config_from_dict(data, path.resolve().parent, source=str(path))


def config_to_dict(config: Config) -> dict:
    """Return the resolved config as plain JSON-ready data (paths as strings)."""
    return config.model_dump(mode="json")
