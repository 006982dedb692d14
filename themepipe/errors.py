"""The project's exceptions, each with a stable code.

Every error a user can cause is a :class:`ThemepipeError` whose message is one line
saying what was wrong, where (file and line when there is one) and how to fix it.  The
CLI prints ``[T012] message`` and exits with code 2; it never shows a traceback for
these.

Codes
-----
T0xx  configuration          T1xx  transcripts and tables (inputs)
T2xx  informants and codes   T3xx  models
T4xx  stages (topics, classifier)               T5xx  output and run folder
T6xx  comparison of groups and reports         T7xx  REFI-QDA exchange (.qdpx)
T8xx  reliability (stage cache, fuzzing)       T999  unexpected error (a bug)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ThemepipeError(Exception):
    """Base class of every error the project raises on purpose.

    Parameters
    ----------
    code : str
        Stable error code such as ``"T012"``.
    message : str
        One line: what was wrong, what is allowed, how to fix it.
    path : str or Path, optional
        File the error is about; shown before the message.
    line : int, optional
        1-based line number in ``path``.
    """

    def __init__(self, code: str, message: str, path: str | Path | None = None,
                 line: int | None = None) -> None:
        self.code = code
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.format())

    def __reduce__(self):
        # rebuilt from its fields, so that an error raised in a worker process (local
        # pool, Dask) reaches the caller with the same type, code and message
        return (self.__class__, (self.code, self.message, self.path, self.line))

    def format(self) -> str:
        """Return the one-line message ``[code] path:line: message``."""
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return f"[{self.code}] {where}{self.message}"


class ConfigError(ThemepipeError):
    """The config file, an override or a codebook is invalid."""


class InputError(ThemepipeError):
    """A transcript, table or other input file cannot be used."""


class InformantError(ThemepipeError):
    """The informants table or the codes table is inconsistent with the transcripts."""


class ModelError(ThemepipeError):
    """A model directory is missing, unsafe, tampered with or incompatible."""


class StageError(ThemepipeError):
    """A stage cannot run on the data it was given (e.g. too few coded segments)."""


class OutputError(ThemepipeError):
    """The run folder cannot be written."""


@dataclass(frozen=True)
class Problem:
    """A problem found in one input; the run skips or warns and reports it.

    Attributes
    ----------
    path : str
        The input the problem is about (transcript name or file path).
    line : int or None
        1-based line, where there is one.
    code : str
        Error code (see :mod:`themepipe.errors`).
    message : str
        What is wrong and how to fix it.
    action : str
        ``"skipped"`` (the file was left out) or ``"warning"`` (it was used).
    """

    path: str
    line: int | None
    code: str
    message: str
    action: str

    @classmethod
    def from_error(cls, error: ThemepipeError, action: str = "skipped") -> Problem:
        """Build a problem record from one of the project's errors."""
        return cls(error.path or "", error.line, error.code, error.message, action)

    def format(self) -> str:
        """One line: ``[code] path:line: message (action)``."""
        where = self.path + (f":{self.line}" if self.line is not None else "")
        return f"[{self.code}] {where}: {self.message} ({self.action})"
