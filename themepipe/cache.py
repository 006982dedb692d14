"""Stage cache: an unchanged rerun reuses finished stages instead of computing them again.

Each stage of :func:`themepipe.pipeline.run` has a *key*: the sha256 of what it reads —
the key of the stage before it (which covers that stage's inputs and config), its own
config section with the sha256 of every file the section names (lexicons, word lists,
the model card), and the themepipe version.  Changing one config section therefore
changes the key of that stage and of every stage downstream of it, and only those run
again; an unchanged rerun finds every key and loads the stored results.

Results are stored beside the run versions, at ``<out parent>/.<out name>.cache/``, one
folder per stage and key, in formats that hold data only — Parquet for tables, JSON for
records, ``.npz`` (read with ``allow_pickle=False``) for arrays; never pickle.  A folder
is written under a temporary name and renamed when complete, so a killed run leaves no
half entry; an entry that cannot be read is treated as missing.  The last
:data:`KEEP_PER_STAGE` entries of each stage are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from . import __version__
from .errors import Problem, ThemepipeError
from .runfolder import pid_alive

#: Bumped when the stored layout changes; part of every key.
CACHE_FORMAT = 1
#: Entries kept per stage (the newest by modification time).
KEEP_PER_STAGE = 3
_DATA_FILE = "data.json"
_ARRAYS_FILE = "arrays.npz"


def cache_dir(out: Path) -> Path:
    """Cache folder of the run link ``out``: ``<out parent>/.<out name>.cache``."""
    out = Path(out).absolute()
    return out.parent / f".{out.name}.cache"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage_key(stage: str, *parts) -> str:
    """sha256 of a stage name, its inputs' descriptions and the themepipe version.

    Parameters
    ----------
    stage : str
    *parts
        JSON-ready values (keys of upstream stages, config digests, file checksums).

    Returns
    -------
    str
        64 hex digits.
    """
    payload = json.dumps([CACHE_FORMAT, __version__, stage, *parts], sort_keys=True,
                         ensure_ascii=True, default=str)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def section_digest(section: BaseModel | None) -> dict:
    """A config section as data, plus the sha256 of every existing file it names.

    A lexicon edited in place changes the digest although the section's text does not.
    """
    if section is None:
        return {}
    files = {}
    for name, value in section:
        if isinstance(value, Path) and value.is_file():
            files[name] = sha256_file(value)
        elif isinstance(value, BaseModel):
            files[name] = section_digest(value)
    return {"config": section.model_dump(mode="json"), "files": files}


@dataclass
class Entry:
    """What a stage stored: tables, JSON-ready data and arrays."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


class StageCache:
    """Store and find stage results by key.

    Parameters
    ----------
    folder : Path or None
        The cache folder (see :func:`cache_dir`); ``None`` turns caching off (every
        :meth:`load` misses, :meth:`save` does nothing).
    deferred : bool
        Hold saved entries in memory until :meth:`flush`, so that a run that fails (or
        a ``--strict`` run that stops) stores nothing.

    Notes
    -----
    The cache never fails a run: an entry that cannot be read is a miss, and an entry
    that cannot be written (a full disk, a value Parquet cannot hold) is not written.
    """

    def __init__(self, folder: Path | None, deferred: bool = False) -> None:
        self.folder = None if folder is None else Path(folder)
        self.deferred = deferred
        self.reused: list[str] = []
        self._pending: list[tuple[str, str, Entry]] = []

    @property
    def enabled(self) -> bool:
        """Whether results are looked up and stored."""
        return self.folder is not None

    def _entry_dir(self, stage: str, key: str) -> Path:
        assert self.folder is not None
        return self.folder / stage / key

    def load(self, stage: str, key: str | None, covers: tuple[str, ...] = ()) -> Entry | None:
        """The stored entry of ``stage`` for ``key``, or None (also for ``key`` None).

        A hit is recorded in :attr:`reused`, as ``covers`` (the pipeline stages the
        entry stands for) or else as ``stage``.
        """
        if self.folder is None or key is None:
            return None
        folder = self._entry_dir(stage, key)
        if not (folder / _DATA_FILE).is_file():
            return None
        try:
            data = json.loads((folder / _DATA_FILE).read_text(encoding="utf-8"))
            frames = {name: _restore_objects(pd.read_parquet(folder / f"{name}.parquet"),
                                             data["object_columns"][name])
                      for name in data["frames"]}
            arrays = {}
            if data["arrays"]:
                with np.load(folder / _ARRAYS_FILE, allow_pickle=False) as stored:
                    arrays = {name: stored[name] for name in data["arrays"]}
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss, recomputed
            shutil.rmtree(folder, ignore_errors=True)
            return None
        os.utime(folder)  # recently used entries survive pruning
        self.reused.extend(covers or (stage,))
        return Entry(frames, data["data"], arrays)

    def save(self, stage: str, key: str | None, entry: Entry) -> None:
        """Store ``entry`` for ``stage`` and ``key`` (atomically), then prune the stage."""
        if self.folder is None or key is None:
            return
        if self.deferred:
            self._pending.append((stage, key, entry))
            return
        self._write(stage, key, entry)

    def flush(self) -> None:
        """Write the entries held back by ``deferred``."""
        pending, self._pending = self._pending, []
        for stage, key, entry in pending:
            self._write(stage, key, entry)

    def _write(self, stage: str, key: str, entry: Entry) -> None:
        assert self.folder is not None
        final = self._entry_dir(stage, key)
        tmp = final.parent / f".{key}.tmp-{os.getpid()}"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name, frame in entry.frames.items():
                frame.reset_index(drop=True).to_parquet(tmp / f"{name}.parquet", index=False)
            if entry.arrays:
                np.savez(tmp / _ARRAYS_FILE, **entry.arrays)
            record = {"frames": sorted(entry.frames), "arrays": sorted(entry.arrays),
                      "object_columns": {name: [str(c) for c, t in frame.dtypes.items()
                                                if t == object]
                                         for name, frame in entry.frames.items()},
                      "data": entry.data}
            (tmp / _DATA_FILE).write_text(json.dumps(record, ensure_ascii=True),
                                          encoding="utf-8")
            if final.exists():
                shutil.rmtree(final, ignore_errors=True)
            os.rename(tmp, final)
        except Exception:  # noqa: BLE001 - caching is an optimisation, never a failure
            shutil.rmtree(tmp, ignore_errors=True)
            return
        self._prune(final.parent)

    def _prune(self, stage_dir: Path) -> None:
        entries = [p for p in stage_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP_PER_STAGE:]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in stage_dir.glob(".*.tmp-*"):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)


def _restore_objects(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Give back the ``object`` dtype that Parquet reads as a string dtype."""
    for column in columns:
        frame[column] = frame[column].astype(object)
    return frame

    return True


# -------------------------------------------------- what the pipeline's stages read


def input_digest(config) -> dict | None:
    """sha256 of every input file of the ingest stage, by role.

    Transcripts are found as ingest finds them (:func:`themepipe.ingest.discover`).
    Returns None when they cannot be listed: ingest then runs and reports why.
    """
    from .ingest import discover

    corpus = config.corpus
    sums = {key: sha256_file(path) for key, path in
            (("informants", corpus.informants), ("codes", corpus.codes), ("codebook",
                                                                          config.codebook))
            if path is not None and Path(path).is_file()}
    try:
        if corpus.format == "table":
            sums["table"] = sha256_file(corpus.path)
        else:
            for name in discover(corpus):
                sums[f"corpus/{name}"] = sha256_file(Path(corpus.path) / name)
    except (ThemepipeError, OSError):
        return None
    return sums


def model_identity(config) -> str | None:
    """sha256 naming the classifier the config points at, without loading it.

    Covers the configured version and the card of every version in the model folder
    (a card holds the sha256 of its model file), so training a new version, or any
    change to a card, gives a new identity.  Reads no model and imports neither skops
    nor scikit-learn (seconds of start-up); None when there is no model folder.
    """
    if config.classifier.model is None:
        return None
    folder = Path(config.classifier.model)
    cards = sorted(folder.glob("*/card.json")) if folder.is_dir() else []
    if not cards:
        return None
    digest = hashlib.sha256(config.classifier.version.encode("utf-8"))
    for card in cards:
        digest.update(f"{card.parent.name}\0{sha256_file(card)}\n".encode())
    return digest.hexdigest()


def problems_data(problems: list[Problem]) -> list[dict]:
    """Problems as JSON-ready records."""
    return [dict(problem.__dict__) for problem in problems]


def problems_from(records: list[dict]) -> list[Problem]:
    """Problems back from :func:`problems_data` records."""
    return [Problem(**record) for record in records]


def corpus_entry(corpus, codes: pd.DataFrame | None, problems: list[Problem]) -> Entry:
    """The ingest stage's results as a cache entry."""
    frames = {"turns": corpus.turns, "informants": corpus.informants}
    if codes is not None:
        frames["codes"] = codes
    data = {"sources": corpus.sources, "files": {k: str(v) for k, v in corpus.files.items()},
            "metadata": corpus.metadata, "corpus_problems": problems_data(corpus.problems),
            "problems": problems_data(problems)}
    return Entry(frames, data)


def corpus_from_entry(entry: Entry):
    """``(corpus, codes, problems)`` back from :func:`corpus_entry`."""
    from .ingest import Corpus

    data = entry.data
    corpus = Corpus(entry.frames["turns"], data["sources"], entry.frames["informants"],
                    {k: Path(v) for k, v in data["files"].items()}, data["metadata"],
                    problems_from(data["corpus_problems"]))
    return corpus, entry.frames.get("codes"), problems_from(data["problems"])


class Lazy:
    """A value built on first use — so that a run whose stages are all reused never
    loads spaCy or the classifier model.

    Attribute access is passed on to the built value; :attr:`value` builds and returns it.
    """

    def __init__(self, build) -> None:
        self._build = build
        self._value = None

    @property
    def value(self):
        """The value, built on the first call."""
        if self._value is None:
            self._value = self._build()
        return self._value

    def __getattr__(self, name: str):
        return getattr(self.value, name)
