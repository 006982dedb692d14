"""Where per-partition work runs: in this process, in a local process pool, or on Dask.

A streaming run applies a module-level function to every partition twice (pass 1:
ingest, segment and preprocess; pass 2: topic transform, classify and tally).  An
:class:`Executor` does that application and returns the results in partition order, so
the output of a run does not depend on where it ran:

- ``executor.kind: local`` with ``n_process: 1`` calls the function in this process (no
  pool, nothing pickled);
- ``kind: local`` with ``n_process: N > 1`` uses a pool of N processes started with
  ``fork`` where the platform has it (workers inherit the libraries and models already
  loaded), else ``spawn``;
- ``kind: dask`` runs on a ``dask.distributed`` cluster (:mod:`themepipe.dask_executor`,
  imported only then, so that local runs never need Dask).

Per-partition aggregates are merged with :meth:`Executor.merge_sum`, a group-by sum of
integer columns: integer addition does not depend on the order or grouping of the
partitions, so every executor gives the same totals to the last digit.

Error codes T520-T529.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pandas as pd

from .config import ExecutorConfig
from .errors import StageError

#: Items in flight per worker: enough to keep every worker busy while the caller
#: consumes the next result in order, few enough to bound the results held in memory.
IN_FLIGHT_PER_WORKER = 2

WORKER_DIED = ("a {kind}worker process stopped unexpectedly {where} (killed, e.g. for "
               "lack of memory); retry with a smaller executor.partition_size (e.g. half the "
               "current one, default 20000) or with executor.n_process: 1")


def running(first: int, last: int) -> str:
    """Where a worker died: ``at partition 3`` or ``while partitions 3 to 6 ran``."""
    if first == last:
        return f"at partition {first}"
    return f"while partitions {first} to {last} ran"


class Executor:
    """Applies a function to the partitions of a run, in this process.

    Use as a context manager (``with make_executor(config.executor) as executor:``);
    :meth:`close` releases workers.  This base class is the ``kind: local``,
    ``n_process: 1`` executor: no pool, no pickling.

    Attributes
    ----------
    n_workers : int
        Processes that run ``fn`` at the same time.
    """

    n_workers: int = 1

    def __enter__(self) -> Executor:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release the workers (nothing to release here)."""

    def map(self, fn: Callable[[Any, Any], Any], items: Sequence, shared: Any) -> Iterator:
        """Yield ``fn(shared, item)`` for each item, in item order.

        Parameters
        ----------
        fn : callable
            A module-level function ``fn(shared, item)`` (workers import it by name).
        items : sequence, length n_items
            One item per partition (e.g. its list of transcripts); must pickle.
        shared : object
            What every call needs (config, fitted topic model...); sent to each worker
            once per call of ``map``, not once per item.

        Yields
        ------
        object
            ``fn(shared, items[i])`` for ``i = 0 .. n_items - 1``, each as soon as it and
            every earlier one are done; at most ``IN_FLIGHT_PER_WORKER * n_workers`` items
            are in flight, so memory stays bounded when results are large.

        Raises
        ------
        ThemepipeError
            Whatever ``fn`` raised, with the same type, code and message.
        StageError
            T520 when a worker process died (killed, out of memory).
        """
        for item in items:
            yield fn(shared, item)

    def merge_sum(self, frames: Iterable[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
        """Group-by sum of the integer columns of ``frames``.

        Parameters
        ----------
        frames : iterable of DataFrame
            Per-partition aggregates: the ``keys`` columns and integer value columns. A
            value column missing from a frame counts as 0 there.
        keys : list of str
            Columns to group by.

        Returns
        -------
        DataFrame
            One row per distinct key, sorted by ``keys``, index reset; the ``keys``
            columns then the value columns (first-seen order) as int64.  The same for any
            order or grouping of the frames and for every executor.

        Raises
        ------
        StageError
            T521 when a frame lacks a key column or a value column is not integer
            (a float sum would depend on the order of the partitions).
        """
        frames, values = _aligned(frames, keys)
        if not frames:
            return _empty(keys, values)
        merged = (pd.concat(frames, ignore_index=True)
                  .groupby(keys, sort=False, dropna=False)[values].sum().reset_index())
        return _finish(merged, keys, values, frames[0])


def _aligned(frames: Iterable[pd.DataFrame], keys: list[str]):
    """The frames with the same value columns (missing ones 0) and those columns."""
    frames = list(frames)
    values: list[str] = []
    for number, frame in enumerate(frames):
        missing = [key for key in keys if key not in frame.columns]
        if missing:
            raise StageError("T521", f"aggregate frame {number} has no column "
                             f"{', '.join(map(repr, missing))} to merge on; its columns: "
                             f"{', '.join(map(str, frame.columns))}. This is a bug in the "
                             "per-partition function; please report it")
        for column in frame.columns:
            if column in keys or column in values:
                continue
            if not pd.api.types.is_integer_dtype(frame[column].dtype):
                raise StageError("T521", f"aggregate column '{column}' is "
                                 f"{frame[column].dtype}, not an integer type; sums of "
                                 "floats depend on the order of the partitions, so "
                                 "aggregate in integer units (e.g. micro-units of a "
                                 "probability rounded to 6 decimals)")
            values.append(column)
    aligned = []
    for frame in frames:
        extra = {column: 0 for column in values if column not in frame.columns}
        frame = frame.assign(**extra) if extra else frame
        aligned.append(frame[keys + values].astype({column: "int64" for column in values}))
    return aligned, values


def _empty(keys: list[str], values: list[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="object" if column in keys else "int64")
                         for column in keys + values})


def _finish(merged: pd.DataFrame, keys: list[str], values: list[str],
            like: pd.DataFrame) -> pd.DataFrame:
    """Sort by keys, reset the index, and give keys and values the input dtypes."""
    merged = merged[keys + values].astype({**like.dtypes[keys].to_dict(),
                                           **{column: "int64" for column in values}})
    return merged.sort_values(keys, kind="mergesort").reset_index(drop=True)


# -- local process pool ------------------------------------------------------------

_worker_fn: Callable | None = None
_worker_shared: Any = None


def _start_worker(fn: Callable, shared: Any) -> None:
    """Pool initializer: keep ``fn`` and ``shared`` for every item of this map."""
    global _worker_fn, _worker_shared
    _worker_fn, _worker_shared = fn, shared
    # Ctrl-C reaches the whole process group: the parent stops the workers itself, so
    # that they do not each print a KeyboardInterrupt traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Everything inherited so far lives until the worker ends: keep the collector off it.
    # Otherwise every full collection walks the whole inherited heap (work per partition
    # that grows with the heap) and writes to its pages (copy-on-write).  Freezing moves
    # whole generations at once; a collection first would touch every object.
    gc.freeze()


def _run_item(item: Any) -> Any:
    return _worker_fn(_worker_shared, item)


def _context():
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers instead of letting them finish their partitions."""
    # the pool has no public way to stop running items; _processes maps pid -> Process
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()


class ProcessExecutor(Executor):
    """``kind: local`` with ``n_process > 1``: a process pool for each call of ``map``.

    With ``fork`` the workers inherit ``shared`` (and every library and model already
    loaded) through the pool initializer, nothing is pickled but the items and the
    results; with ``spawn`` ``shared`` is pickled once per worker.

    Parameters
    ----------
    n_workers : int
        Worker processes, at least 2.
    """

    def __init__(self, n_workers: int) -> None:
        self.n_workers = n_workers
        self._pools: set[ProcessPoolExecutor] = set()

    def close(self) -> None:
        """Stop the pool of a ``map`` that was not read to its end."""
        for pool in list(self._pools):
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
        self._pools.clear()

    def map(self, fn, items, shared):
        items = list(items)
        if not items:
            return
        pool = ProcessPoolExecutor(max_workers=min(self.n_workers, len(items)),
                                   mp_context=_context(), initializer=_start_worker,
                                   initargs=(fn, shared))
        self._pools.add(pool)
        window = IN_FLIGHT_PER_WORKER * self.n_workers
        pending: deque = deque()
        finished = False
        try:
            upcoming = iter(items)
            for item in upcoming:
                pending.append(pool.submit(_run_item, item))
                if len(pending) >= window:
                    break
            for number in range(len(items)):
                try:
                    result = pending.popleft().result()
                except BrokenProcessPool:
                    raise StageError("T520", WORKER_DIED.format(
                        kind="", where=running(number, number + len(pending)))) from None
                for item in upcoming:
                    pending.append(pool.submit(_run_item, item))
                    break
                yield result
            finished = True
        finally:
            if not finished:  # an error, Ctrl-C or a caller that stopped reading
                _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            self._pools.discard(pool)

    map.__doc__ = Executor.map.__doc__


def make_executor(config: ExecutorConfig) -> Executor:
    """The executor that ``config`` (the ``executor:`` section) asks for.

    Parameters
    ----------
    config : ExecutorConfig
        ``kind``, ``address``, ``n_process``.

    Returns
    -------
    Executor
        :class:`Executor` (local, one process), :class:`ProcessExecutor` (local, several)
        or :class:`themepipe.dask_executor.DaskExecutor`; use it as a context manager.

    Raises
    ------
    ConfigError
        T522 when ``kind: dask`` but Dask is not installed.
    """
    if config.kind == "dask":
        from .dask_executor import DaskExecutor  # Dask is imported only for kind: dask

        return DaskExecutor(address=config.address, n_process=config.n_process)
    if config.n_process == 1:
        return Executor()
    return ProcessExecutor(config.n_process)
