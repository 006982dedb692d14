"""The ``executor.kind: dask`` executor: per-partition work on a dask.distributed cluster.

This is the only module that imports Dask; :func:`themepipe.executor.make_executor`
imports it only for ``kind: dask``, so local runs (and the bundled main job) work without
``pip install -e ".[dask]"``.

``executor.address`` names a running scheduler (``tcp://host:8786``); without one a
``LocalCluster`` of ``executor.n_process`` single-threaded worker processes is started
on this machine and stopped at the end of the run.  The same module-level functions as
the local executor run on the workers, so every worker needs the same version of
themepipe (and its models and inputs at the same paths: a shared file system).

Error codes T520-T529 (shared with :mod:`themepipe.executor`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
import warnings
from collections import deque
from typing import Any

import pandas as pd

from .errors import ConfigError, StageError
from .executor import (
    IN_FLIGHT_PER_WORKER,
    WORKER_DIED,
    Executor,
    _aligned,
    _empty,
    _finish,
    running,
)

try:
    import dask
    import distributed
    from distributed.comm.core import CommClosedError
except ImportError:  # pragma: no cover - exercised by the no-Dask CI job
    dask = distributed = CommClosedError = None

#: Loggers of Dask's cluster machinery; only their warnings and errors are shown.
QUIET_LOGGERS = ("distributed", "dask", "tornado", "bokeh")

#: Times a partition may be on a worker that dies before the run stops (LocalCluster):
#: the tasks are deterministic, so a partition that killed a worker once (out of memory)
#: will kill the next one too.
ALLOWED_FAILURES = 1


#: Log lines of a LocalCluster about failures that :meth:`DaskExecutor.map` reports
#: itself, as one line (a partition's error, a worker that died), or about its closing.
REPORTED_FAILURES = ("Compute Failed", "Task themepipe-partition-", "Removing worker",
                     "Restarting worker", "Worker process died unexpectedly",
                     # closing the run's LocalCluster: an idle worker slow to exit is killed
                     "Worker process still alive after")


def _quiet() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


class _ReportedFailures(logging.Filter):
    """Drops the cluster's log lines about failures the executor raises as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Compute Failed"):
            return "themepipe-partition-" not in message
        return not message.startswith(REPORTED_FAILURES)


def _filter_reported_failures() -> None:
    for name in ("distributed.worker", "distributed.scheduler", "distributed.nanny"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ReportedFailures) for f in logger.filters):
            logger.addFilter(_ReportedFailures())


if distributed is not None:
    class QuietWorkerLogs(distributed.WorkerPlugin):
        """Worker plugin of a LocalCluster: its workers print to this terminal, so they
        log only warnings, and not the failures the executor reports itself."""

        name = "themepipe-quiet-logs"

        def setup(self, worker) -> None:
            _quiet()
            _filter_reported_failures()


def _run_item(fn, shared, item):
    return fn(shared, item)


def _partition(key) -> str:
    return str(key).rsplit("-", 1)[-1]


def _unwrap(future, last_key: str, local: bool) -> Any:
    """The result of ``future``; cluster failures become one-line StageErrors.

    ``last_key``: the key of the last partition in flight.
    ``local``: the cluster is a LocalCluster of this run, whose scheduler lives in this
    process, so a cancelled partition means its workers died (with the scattered shared
    state), not that the scheduler went away.
    """
    try:
        return future.result()
    except distributed.KilledWorker as error:
        raise StageError("T520", WORKER_DIED.format(
            kind="Dask ", where=f"at partition {_partition(error.task)}")) from None
    except (ModuleNotFoundError, ImportError) as error:
        if "themepipe" in str(error):
            raise StageError("T524", f"a Dask worker cannot import themepipe ({error}); "
                             "install the same version of themepipe on every worker "
                             "(pip install -e \".[dask]\")") from None
        raise
    except (distributed.client.FutureCancelledError, distributed.CancelledError,
            CommClosedError) as error:
        where = running(int(_partition(future.key)), int(_partition(last_key)))
        if local:
            raise StageError("T520", WORKER_DIED.format(kind="Dask ", where=where)) from None
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise StageError("T523", f"the Dask cluster lost a partition {where} "
                         f"({reason}): its workers died (e.g. "
                         "for lack of memory) or the scheduler went away; check the "
                         "cluster, retry with a smaller executor.partition_size") from None


class DaskExecutor(Executor):
    """Runs per-partition functions on a dask.distributed cluster.

    Parameters
    ----------
    address : str or None
        Scheduler address (``tcp://10.0.0.5:8786``); None starts a ``LocalCluster``.
    n_process : int
        Worker processes of the LocalCluster (one thread each); ignored with an address.

    Raises
    ------
    ConfigError
        T522 when Dask is not installed.

    Notes
    -----
    The cluster is started (or connected to) on first use.  ``shared`` is sent once per
    :meth:`map` to every worker (``Client.scatter(..., broadcast=True)``); items are
    submitted through a window of ``IN_FLIGHT_PER_WORKER`` per worker and their results
    yielded in item order.  :meth:`merge_sum` is a ``dask.dataframe`` group-by sum.
    See https://distributed.dask.org for the scheduler, workers and ``LocalCluster``.
    """

    def __init__(self, address: str | None = None, n_process: int = 1) -> None:
        if distributed is None:
            raise ConfigError("T522", "executor.kind is 'dask' but Dask is not installed; "
                              'run pip install -e ".[dask]" in the themepipe folder (or pip '
                              'install "dask[distributed]") or set executor.kind: local')
        self.address = address
        self.n_process = n_process
        self._client = None
        self._cluster = None
        self._scratch: str | None = None  # the LocalCluster's workers' scratch folder

    @property
    def client(self):
        """The ``distributed.Client`` (connects or starts the LocalCluster on first use).

        Raises
        ------
        StageError
            T523 when the scheduler at ``address`` cannot be reached; T525 when the
            LocalCluster does not start.
        """
        if self._client is None:
            _quiet()
            if self.address is None:
                self._start_local_cluster()
            else:
                try:
                    self._client = distributed.Client(self.address, timeout="30s",
                                                      set_as_default=False)
                except (OSError, TimeoutError, ValueError) as error:
                    raise StageError("T523", f"cannot connect to the Dask scheduler at "
                                     f"{self.address} ({error}); check executor.address "
                                     "and that the scheduler runs (dask scheduler), or "
                                     "set executor.address: null for a LocalCluster"
                                     ) from None
        return self._client

    def _start_local_cluster(self) -> None:
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}), \
                warnings.catch_warnings():
            # without a dashboard the scheduler still serves health checks over HTTP,
            # on another port when 8787 is taken: nothing the user has to know
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            # the workers' scratch space is the run's own, removed by close()
            self._scratch = tempfile.mkdtemp(prefix="themepipe-dask-")
            try:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.n_process, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                    local_directory=self._scratch)
            except RuntimeError as error:
                raise StageError("T525", f"cannot start a Dask LocalCluster ({error}); "
                                 "from a script, call themepipe under if __name__ == "
                                 "'__main__': (the workers are new Python processes that "
                                 "import the main module), or use executor.kind: local"
                                 ) from None
        _filter_reported_failures()
        self._client = distributed.Client(self._cluster, set_as_default=False)
        self._client.register_plugin(QuietWorkerLogs())

    @property
    def n_workers(self) -> int:
        """Workers of the cluster now (at least 1)."""
        return max(1, len(self.client.scheduler_info()["workers"]))

    def close(self) -> None:
        """Disconnect, and stop the LocalCluster if this executor started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def map(self, fn, items, shared):
        items = list(items)
        if not items:
            return
        client = self.client
        [shared_future] = client.scatter([shared], broadcast=True, hash=False)
        run = uuid.uuid4().hex
        window = IN_FLIGHT_PER_WORKER * self.n_workers
        numbered = iter(enumerate(items))
        pending: deque = deque()

        def submit(number: int, item) -> None:
            pending.append(client.submit(_run_item, fn, shared_future, item,
                                         key=f"themepipe-partition-{run}-{number}",
                                         retries=0))

        try:
            for number, item in numbered:
                submit(number, item)
                if len(pending) >= window:
                    break
            while pending:
                future = pending.popleft()
                result = _unwrap(future, (pending[-1] if pending else future).key,
                                 local=self._cluster is not None)
                for number, item in numbered:
                    submit(number, item)
                    break
                yield result
        finally:
            if pending:
                client.cancel(list(pending))
            shared_future.release()

    map.__doc__ = Executor.map.__doc__

    def merge_sum(self, frames, keys):
        frames, values = _aligned(frames, keys)
        if not frames:
            return _empty(keys, values)
        import dask.dataframe as dd

        with dask.config.set({"dataframe.convert-string": False}):
            parts = dd.concat([dd.from_pandas(frame, npartitions=1, sort=False)
                               for frame in frames])
            summed = parts.groupby(keys, dropna=False, sort=False)[values].sum()
            merged = self.client.compute(summed).result()
        return _finish(pd.DataFrame(merged).reset_index(), keys, values, frames[0])

    merge_sum.__doc__ = Executor.merge_sum.__doc__
