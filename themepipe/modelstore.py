"""Saving and loading theme classifiers as versioned, verifiable model directories.

Layout (DESIGN.md, "Models")::

    models/<name>/<version>/model.skops   the estimator, skops format (never pickle)
    models/<name>/<version>/card.json     the model card

A version is named ``YYYYMMDD-HHMMSS-<first 8 hex of the training data's sha256>`` in
UTC, with ``-2``, ``-3`` ... appended when that name exists.  ``latest`` is the last
version in sort order, where a numeric suffix is compared as a number (``-10`` after
``-9``).  A version is written into a hidden temporary directory and renamed into place
in one step, and an existing version is never overwritten.

Loading never executes code from the file.  Before skops reads ``model.skops``:

1. the file's sha256 must equal ``model_sha256`` in the card;
2. the file must be a skops archive whose schema names only the types in
   :data:`TRUSTED_TYPES` (checked here, independently of skops's own defaults, which
   trust every scikit-learn estimator) and only plain skops node kinds;

and then ``skops.io.load`` runs with that explicit trusted list.  A pickle planted as
``model.skops`` fails check 1 (or, if its card was edited too, check 2) without being
unpickled.

Training-data fingerprint
-------------------------
``training_data_sha256`` is the sha256 of this canonical serialisation of the training
pairs: each pair becomes ``[text, themes]`` with ``themes`` sorted and de-duplicated
(``[]`` for a segment coded with no theme); the pairs are sorted (by text, then themes);
each is written as compact JSON (``ensure_ascii=False``, separators ``,`` and ``:``)
followed by ``\\n``; the whole is encoded as UTF-8.  Duplicate pairs are kept.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

from .cache import sha256_file
from .errors import ModelError

#: Version of the card format this module writes and the only one it reads.  Format 2
#: stores n-gram vocabularies as byte arrays (format 1 stored scikit-learn
#: ``CountVectorizer`` objects, one skops node per n-gram: 19 MB, seconds to load).
FORMAT_VERSION = 2
MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
RETRAIN = "retrain with `themepipe train CONFIG`"

#: The only types a model file may contain (module.qualname as skops names them).
TRUSTED_TYPES: tuple[str, ...] = (
    "themepipe.classify.ThemeClassifier",
    "themepipe.classify.KeywordBaseline",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.NoneType",
)
#: skops node kinds that rebuild plain data or trusted objects (no functions, methods,
#: partials, operators or pickled blobs).
_SAFE_LOADERS = frozenset({"DictNode", "ListNode", "TupleNode", "JsonNode", "ObjectNode",
                           "NdArrayNode", "TypeNode"})

_VERSION_RE = re.compile(r"^(\d{8}-\d{6}-[0-9a-f]{8})(?:-(\d+))?$")
_REQUIRED_CARD_KEYS = ("format_version", "version", "created", "model_sha256",
                       "training_data_sha256", "themes", "mode")
_LIBRARIES = ("themepipe", "scikit-learn", "numpy", "scipy", "skops")


@dataclass(frozen=True)
class ModelCard:
    """The card of one saved model version (the parsed ``card.json``).

    Attributes
    ----------
    path : Path
        The version directory.
    version, created : str
        Version name and creation time (UTC, ISO 8601).
    format_version : int
    model_sha256, training_data_sha256 : str
    n_segments : int
        Training segments.
    theme_counts : dict of str to int
        Training segments per theme, plus ``none`` for segments coded with no theme.
    cv_metrics : dict
        Cross-validation metrics as given to :func:`save_model` (e.g. ``themepipe`` and
        ``keyword_baseline`` reports).
    config : dict
        The resolved run config.
    library_versions : dict of str to str
    themes : list of str
    mode : str
    extra : dict
    data : dict
        The whole card as read.
    """

    path: Path
    version: str
    created: str
    format_version: int
    model_sha256: str
    training_data_sha256: str
    n_segments: int
    theme_counts: dict[str, int]
    cv_metrics: dict[str, Any]
    config: dict[str, Any]
    library_versions: dict[str, str]
    themes: list[str]
    mode: str
    extra: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (as stored in ``card.json``)."""
        return dict(self.data)


# -- fingerprints -------------------------------------------------------------------

def canonical_training_data(pairs: Iterable[tuple[str, Sequence[str]]]) -> bytes:
    """Canonical UTF-8 serialisation of (segment text, themes) pairs (see module doc)."""
    rows = sorted((str(text), sorted({str(t) for t in themes})) for text, themes in pairs)
    return "".join(json.dumps([text, themes], ensure_ascii=False, separators=(",", ":"))
                   + "\n" for text, themes in rows).encode("utf-8")


def training_data_sha256(pairs: Iterable[tuple[str, Sequence[str]]]) -> str:
    """sha256 (hex) of :func:`canonical_training_data` of ``pairs``."""
    return hashlib.sha256(canonical_training_data(pairs)).hexdigest()


# -- versions -------------------------------------------------------------------------

def _version_key(name: str) -> tuple[str, int]:
    match = _VERSION_RE.match(name)
    assert match is not None
    return match.group(1), int(match.group(2) or 1)


def list_versions(models_dir: str | Path) -> list[str]:
    """Version directory names under ``models_dir``, oldest first (``latest`` is last).

    Entries that are not version directories (hidden temporary folders, other files)
    are ignored; a missing ``models_dir`` gives an empty list.
    """
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    names = [p.name for p in models_dir.iterdir()
             if p.is_dir() and _VERSION_RE.match(p.name)]
    return sorted(names, key=_version_key)


# -- schema check ---------------------------------------------------------------------

def _schema_types(schema: Any) -> tuple[set[str], set[str]]:
    """All ``module.class`` names and node kinds named anywhere in a skops schema."""
    types: set[str] = set()
    loaders: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node or "__module__" in node:
                types.add(f"{node.get('__module__')}.{node.get('__class__')}")
            if "__loader__" in node:
                loaders.add(str(node["__loader__"]))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return types, loaders


def _skops_types(path: Path) -> tuple[set[str], set[str]]:
    """Read the schema of a skops file without loading any object.

    Raises
    ------
    ModelError
        T308 when the file is not a skops archive (a pickle, a truncated file, ...).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json").decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise ModelError("T308", f"not a valid skops model file ({type(exc).__name__}); "
                         f"refusing to load it; {RETRAIN}", path=path) from None
    return _schema_types(schema)


def _check_types(types: set[str], loaders: set[str], path: Path) -> None:
    untrusted = sorted(types - set(TRUSTED_TYPES))
    unsafe = sorted(loaders - _SAFE_LOADERS)
    if untrusted or unsafe:
        found = ", ".join(untrusted + unsafe)
        raise ModelError("T309", f"model file contains types that are not trusted "
                         f"({found}); refusing to load it; {RETRAIN}", path=path)


# -- save -----------------------------------------------------------------------------

def _json_ready(value: Any) -> Any:
    """Plain JSON data: numpy scalars/arrays to Python, NaN/inf to None, paths to str."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def save_model(estimator: Any, models_dir: str | Path,
               training_pairs: Sequence[tuple[str, Sequence[str]]],
               cv_metrics: dict[str, Any], config_dict: dict[str, Any],
               themes: Sequence[str], extra: dict[str, Any] | None = None, *,
               coder_agreement: dict[str, Any] | None = None,
               now: datetime | None = None) -> Path:
    """Write a fitted estimator and its card as a new model version.

    Parameters
    ----------
    estimator : ThemeClassifier or KeywordBaseline, fitted
    models_dir : str or Path
        ``models/<name>``; created if missing.
    training_pairs : sequence of (str, sequence of str)
        (segment text, themes) of every training segment; fingerprinted as the module
        docstring says and counted per theme.
    cv_metrics : dict
        Cross-validation metrics to store, e.g. ``{"themepipe": report,
        "keyword_baseline": report}``; NaN becomes ``null``.
    config_dict : dict
        The resolved run config.
    themes : sequence of str
        Theme ids in the estimator's column order.
    extra : dict, optional
        Further JSON-ready facts stored under ``extra``.
    coder_agreement : dict, optional
        Agreement between human coders (:func:`themepipe.coding.coder_agreement`),
        stored as ``coder_agreement``.
    now : datetime, optional
        Creation time (UTC); defaults to the current time.  For tests.

    Returns
    -------
    version_dir : Path
        ``models_dir/<version>``.

    Raises
    ------
    ModelError
        The estimator holds types that :func:`load_model` would refuse (T313), a
        training pair names a theme outside ``themes`` (T312), or the directory cannot
        be written (T311).
    """
    models_dir = Path(models_dir)
    themes = [str(t) for t in themes]
    pairs = [(str(text), tuple(sorted({str(t) for t in tags}))) for text, tags in
             training_pairs]
    counts = {theme: 0 for theme in themes}
    counts["none"] = 0
    for _, tags in pairs:
        for tag in tags:
            if tag not in counts or tag == "none":
                raise ModelError("T312", f"training segment coded '{tag}', which is not "
                                 f"among the themes {themes}; fix the codes or the "
                                 "codebook", path=models_dir)
            counts[tag] += 1
        if not tags:
            counts["none"] += 1
    data_sha = training_data_sha256(pairs)
    created = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = f"{created:%Y%m%d-%H%M%S}-{data_sha[:8]}"
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=models_dir))
    except OSError as exc:
        raise ModelError("T311", f"cannot create the model directory ({exc.strerror}); "
                         "check the path and permissions of classifier.model",
                         path=models_dir) from None
    try:
        model_path = tmp / MODEL_FILE
        try:
            payload = sio.dumps(estimator, compression=zipfile.ZIP_DEFLATED,
                                compresslevel=6)
        except Exception as exc:  # noqa: BLE001 - skops raises many types here
            raise ModelError("T313", f"cannot save {type(estimator).__name__} with skops "
                             f"({exc}); save a themepipe classifier",
                             path=models_dir) from None
        model_path.write_bytes(payload)
        try:
            _check_types(*_skops_types(model_path), model_path)
        except ModelError as exc:
            raise ModelError("T313", f"refusing to save a {type(estimator).__name__}: "
                             f"{exc.message.split(';')[0]}; save a themepipe classifier",
                             path=models_dir) from None
        card = {
            "format_version": FORMAT_VERSION,
            "version": None,
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "model_file": MODEL_FILE,
            "model_sha256": sha256_file(model_path),
            "training_data_sha256": data_sha,
            "training_data_serialisation": "sha256 of UTF-8 lines, one compact JSON "
            "[text, sorted themes] per training segment, lines sorted",
            "n_segments": len(pairs),
            "theme_counts": counts,
            "themes": themes,
            "mode": getattr(estimator, "mode", "multilabel"),
            "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            "cv_metrics": _json_ready(cv_metrics),
            "coder_agreement": _json_ready(coder_agreement or {}),
            "config": _json_ready(config_dict),
            "library_versions": library_versions(),
            "extra": _json_ready(extra or {}),
        }
        suffix = 1
        while True:
            version = base if suffix == 1 else f"{base}-{suffix}"
            final = models_dir / version
            if not final.exists():
                card["version"] = version
                (tmp / CARD_FILE).write_text(
                    json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
                try:
                    os.rename(tmp, final)  # fails if another writer took the name
                    return final
                except OSError:
                    if not final.exists():
                        raise
            suffix += 1
    except OSError as exc:
        raise ModelError("T311", f"cannot write the model version ({exc.strerror}); "
                         "check free space and permissions", path=models_dir) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# -- load -----------------------------------------------------------------------------

def _read_card(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelError("T304", f"model card missing; the model version is incomplete; "
                         f"{RETRAIN}", path=path)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError):
        raise ModelError("T304", f"model card is not valid JSON; {RETRAIN}",
                         path=path) from None
    if not isinstance(card, dict):
        raise ModelError("T304", f"model card is not a JSON object; {RETRAIN}", path=path)
    missing = [key for key in _REQUIRED_CARD_KEYS if key not in card]
    if missing:
        raise ModelError("T304", f"model card lacks {', '.join(missing)}; {RETRAIN}",
                         path=path)
    fmt = card["format_version"]
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise ModelError("T304", f"model card has an invalid format_version {fmt!r}; "
                         f"{RETRAIN}", path=path)
    if fmt < FORMAT_VERSION:
        raise ModelError("T314", f"model card format {fmt} is older than this themepipe "
                         f"reads ({FORMAT_VERSION}); {RETRAIN}", path=path)
    if fmt > FORMAT_VERSION:
        raise ModelError("T305", f"model card format {fmt} is newer than this themepipe "
                         f"reads ({FORMAT_VERSION}); upgrade themepipe or {RETRAIN}",
                         path=path)
    return card


def load_model(models_dir: str | Path, version: str = "latest") -> tuple[Any, ModelCard]:
    """Load a saved model version after verifying it; never runs code from the file.

    Parameters
    ----------
    models_dir : str or Path
        ``models/<name>``.
    version : str, default "latest"
        ``latest`` (the last version in sort order) or a version name.

    Returns
    -------
    estimator : ThemeClassifier or KeywordBaseline
    card : ModelCard

    Raises
    ------
    ModelError
        T301 no such directory; T302 no versions in it; T303 unknown version; T304 card
        missing or invalid; T305 card written by a newer themepipe; T314 card written
        in an older format (retrain); T306 model file
        missing; T307 model file does not match the card's sha256 (altered, truncated,
        or the card was edited); T308 not a skops file (e.g. a pickle); T309 untrusted
        types in the file; T310 the object is not a themepipe classifier matching the
        card.
    """
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise ModelError("T301", f"model directory not found; set classifier.model to a "
                         f"models/<name> folder or {RETRAIN}", path=models_dir)
    versions = list_versions(models_dir)
    if not versions:
        raise ModelError("T302", f"no model versions in this directory; {RETRAIN}",
                         path=models_dir)
    if version == "latest":
        version = versions[-1]
    elif version not in versions:
        shown = ", ".join(versions[-5:])
        raise ModelError("T303", f"unknown model version '{version}'; available: {shown} "
                         "(set classifier.version to one of them or to 'latest')",
                         path=models_dir)
    version_dir = models_dir / version
    card = _read_card(version_dir / CARD_FILE)
    model_path = version_dir / MODEL_FILE
    if not model_path.is_file():
        raise ModelError("T306", f"model file missing; {RETRAIN}", path=model_path)
    actual = sha256_file(model_path)
    if actual != card["model_sha256"]:
        expected = str(card["model_sha256"])[:12]
        raise ModelError("T307", f"model file sha256 {actual[:12]}... does not match the "
                         f"card ({expected}...): the file or the card was altered; "
                         f"refusing to load it; {RETRAIN}", path=model_path)
    try:
        _check_types(*_skops_types(model_path), model_path)
        estimator = sio.load(model_path, trusted=list(TRUSTED_TYPES))
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to rebuild is a bad file
        raise ModelError("T308", f"cannot read the model file ({type(exc).__name__}); "
                         f"{RETRAIN}", path=model_path) from None
    from .classify import KeywordBaseline, ThemeClassifier

    if not isinstance(estimator, (ThemeClassifier, KeywordBaseline)):
        raise ModelError("T310", f"model file holds a {type(estimator).__name__}, not a "
                         f"themepipe classifier; {RETRAIN}", path=model_path)
    try:
        if list(getattr(estimator, "themes_", [])) != list(card["themes"]):
            raise ModelError("T310", "model themes do not match its card; "
                             f"{RETRAIN}", path=model_path)
        return estimator, _card(version_dir, card)
    except (TypeError, ValueError, AttributeError):
        raise ModelError("T304", f"model card has fields of the wrong type; {RETRAIN}",
                         path=version_dir / "card.json") from None


def _card(version_dir: Path, card: dict) -> ModelCard:
    return ModelCard(
        path=version_dir, version=str(card["version"]), created=str(card["created"]),
        format_version=int(card["format_version"]), model_sha256=str(card["model_sha256"]),
        training_data_sha256=str(card["training_data_sha256"]),
        n_segments=int(card.get("n_segments", 0)),
        theme_counts=dict(card.get("theme_counts", {})),
        cv_metrics=dict(card.get("cv_metrics", {})), config=dict(card.get("config", {})),
        library_versions=dict(card.get("library_versions", {})),
        themes=list(card["themes"]), mode=str(card["mode"]),
        extra=dict(card.get("extra", {})), data=card)
