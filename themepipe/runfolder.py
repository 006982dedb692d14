"""The run folder, replaced atomically.

``--out runs/kajigelem`` is a symbolic link to a versioned folder
``runs/.kajigelem.runs/<run id>/``.  A run writes into a fresh staging folder next to the
versions, flushes every file to disk, renames the folder to its final name and then
atomically replaces the link (``os.replace`` of a new link over the old one).  A reader of
``--out`` therefore always finds a complete earlier run or the complete new one — never
a mix and never nothing — even if the run is killed at any moment.  The last
``keep`` versions are kept; older ones and stale staging folders are removed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .errors import OutputError

STAGING_SUFFIX = ".partial"


def versions_dir(out: Path) -> Path:
    """Folder holding the versioned runs behind the link ``out``."""
    return out.parent / f".{out.name}.runs"


#: Float format of every CSV table of a run folder.
FLOAT_FORMAT = "%.6f"


def write_csv(frame: pd.DataFrame, path, header: bool = True) -> None:
    """Write a table as UTF-8 CSV: LF line ends, floats with 6 decimals, no index.

    ``path`` may also be a text file opened with ``newline=""`` (to append parts);
    ``header=False`` leaves out the column names."""
    frame.to_csv(path, index=False, header=header, float_format=FLOAT_FORMAT,
                 lineterminator="\n", encoding="utf-8")


def replace_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Replace one file atomically: ``write`` a temporary file beside ``path``, flush it
    to disk, then ``os.replace`` it over ``path``.

    A reader of ``path`` finds the old file or the complete new one, never a part.

    Parameters
    ----------
    path : Path
        The file to write; its folder must exist.
    write : callable
        Called with the temporary file's path; writes the content there.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        Writing or replacing failed; the temporary file is removed.  Callers turn this
        into their own one-line error.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}{STAGING_SUFFIX}")
    try:
        write(partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
    return path


#: Above this many files a run folder is flushed with one ``sync()`` (Linux waits for it
#: to complete) instead of one ``fsync`` per file (40,000 sources took about a minute).
SYNC_ALL_ABOVE = 2000


def _fsync_tree(root: Path) -> None:
    paths = sorted(root.rglob("*"))
    files = [p for p in paths if p.is_file()]
    if len(files) > SYNC_ALL_ABOVE and sys.platform.startswith("linux"):
        os.sync()
        return
    for path in files:
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    for folder in [root, *(p for p in paths if p.is_dir())]:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (owners of staging folders and cache entries)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_out(out: Path) -> None:
    """Refuse early an ``--out`` that a run could not replace.

    Raises
    ------
    OutputError
        ``out`` is a file or a non-empty folder that is not a run link (T501), or the
        folder it would be created in is not writable (T502).
    """
    out = Path(out)
    if out.exists() and not out.is_symlink() and not (out.is_dir() and not any(out.iterdir())):
        raise OutputError("T501", "exists and is not a themepipe run folder link; "
                          "choose another --out or move it away", path=out)
    folder = out.absolute().parent
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        folder = folder.parent  # the run creates the missing folders below this one
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("T502", f"cannot write here: '{folder}' is not a writable folder; "
                          "choose a writable --out", path=out)


class RunFolder:
    """Stage a run's outputs and publish them atomically at ``out``.

    Use as a context manager: files go under :attr:`path`; leaving the block without an
    exception calls :meth:`commit`; an exception removes the staging folder and leaves
    ``out`` as it was.

    Parameters
    ----------
    out : Path
        The link the results appear at.
    keep : int
        Number of complete run versions kept behind the link (>= 1).

    Raises
    ------
    OutputError
        ``out`` is an existing file or non-empty folder that is not a themepipe run link
        (T501), or the folder cannot be written (T502).
    """

    def __init__(self, out: Path, keep: int = 3) -> None:
        self.out = Path(out).absolute()
        self.keep = keep
        self.path: Path | None = None
        self.run_id: str | None = None

    def __enter__(self) -> RunFolder:
        out = self.out
        check_out(out)
        if out.is_dir() and not out.is_symlink():
            out.rmdir()
        self.run_id = (datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
                       + f"-{os.getpid()}")
        try:
            vdir = versions_dir(out)
            vdir.mkdir(parents=True, exist_ok=True)
            self._clean_stale(vdir)
            self.path = vdir / (self.run_id + STAGING_SUFFIX)
            self.path.mkdir()
        except OSError as exc:
            raise OutputError("T502", f"cannot create the run folder ({exc.strerror}); "
                              "choose a writable --out", path=out) from None
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
            return False
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
        if isinstance(exc, OSError):  # e.g. a full disk while writing
            raise OutputError("T502", f"cannot write the run folder ({exc.strerror}); "
                              "free disk space or choose another --out; the previous run "
                              "is unchanged", path=self.out) from None
        return False

    def _clean_stale(self, vdir: Path) -> None:
        for stale in vdir.glob("*" + STAGING_SUFFIX):
            pid = stale.name[: -len(STAGING_SUFFIX)].rsplit("-", 1)[-1]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)

    def file(self, name: str) -> Path:
        """Path of an output file inside the staging folder (parents created)."""
        assert self.path is not None, "use RunFolder as a context manager"
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_csv(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table with :func:`write_csv`."""
        write_csv(frame, self.file(name))

    def write_text(self, name: str, text: str) -> None:
        """Write UTF-8 text with LF line ends, exactly as given."""
        with open(self.file(name), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)

    def write_json(self, name: str, data) -> None:
        """Write indented, key-sorted JSON."""
        self.write_text(name, json.dumps(data, indent=2, ensure_ascii=False,
                                         sort_keys=True, default=str) + "\n")

    def commit(self) -> Path:
        """Flush, publish the staged run at ``out`` atomically, prune old versions.

        Returns
        -------
        Path
            The final versioned folder.

        Raises
        ------
        OutputError
            A write, flush or rename failed (T502, e.g. a full disk).
        """
        assert self.path is not None and self.run_id is not None
        vdir = self.path.parent
        final = vdir / self.run_id
        link_tmp = self.out.parent / f".{self.out.name}.link-{os.getpid()}"
        try:
            _fsync_tree(self.path)
            os.rename(self.path, final)
            self.path = final
            if link_tmp.is_symlink() or link_tmp.exists():
                link_tmp.unlink()
            os.symlink(os.path.relpath(final, self.out.parent), link_tmp)
            os.replace(link_tmp, self.out)
            fd = os.open(self.out.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if link_tmp.is_symlink():
                link_tmp.unlink()
            raise OutputError("T502", f"cannot write the run folder ({exc.strerror}); "
                              "free disk space or choose another --out", path=self.out) from None
        complete = sorted(p for p in vdir.iterdir()
                          if p.is_dir() and not p.name.endswith(STAGING_SUFFIX))
        for old in complete[: max(0, len(complete) - self.keep)]:
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
        return final
