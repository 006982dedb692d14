"""Executors (themepipe.executor, themepipe.dask_executor) and the CLI's progress lines.

The Dask tests start a 2-worker LocalCluster and skip when Dask is not installed
(``pip install ".[dask]"``; the ``test`` extra has it, so CI runs them).
"""

import filecmp
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from themepipe.cli import ConsoleReporter
from themepipe.config import ExecutorConfig
from themepipe.errors import ConfigError, InputError, StageError
from themepipe.executor import IN_FLIGHT_PER_WORKER, Executor, make_executor

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["group", "informant_id"]

try:
    import distributed  # noqa: F401
    HAVE_DASK = True
except ImportError:
    HAVE_DASK = False

needs_dask = pytest.mark.skipif(not HAVE_DASK, reason='Dask is not installed '
                                '(pip install ".[dask]")')


# -- module-level partition functions (workers import them by name) --------------------

def tally_words(shared, item):
    """A toy per-partition stage: count the words of a partition's sentences."""
    index, sentences = item
    if shared.get("slow"):  # later partitions finish first: results must still be in order
        time.sleep(0.02 * (len(shared["slow"]) - index))
    if index == shared.get("fail"):
        raise InputError("T101", f"transkrip rusak di partisi {index}",
                         path=f"desa_{index:02d}.txt", line=7)
    if index == shared.get("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    words = [w.strip(".,?").lower() for s in sentences for w in s.split()]
    return index, len(words), sorted(set(words))[:3], os.getpid(), id(shared)


def wait_for_release(shared, item):
    """Item 0 blocks until the release file exists; every item leaves a marker."""
    folder = Path(shared)
    (folder / f"started-{item}").touch()
    if item == 0:
        for _ in range(600):
            if (folder / "release").exists():
                break
            time.sleep(0.05)
    return item


class NeverPickled:
    """Shared state that fails when pickled: a forked pool must not pickle it."""

    offset = 10

    def __reduce__(self):
        raise TypeError("shared state was pickled")


def add_offset(shared, item):
    return item + shared.offset


SENTENCES = [
    "Jalan desa sudah diperbaiki tahun lalu.", "Air bersih masih jadi masalah, Pak.",
    "Dana desa dipakai untuk posyandu.", "Kami rapat di balai desa setiap bulan.",
    "Harga pupuk naik terus.", "Anak-anak sekolah jalan kaki jauh.",
    "Musim kemarau sawah kering.", "Bantuan langsung tunai sudah cair?",
]
ITEMS = [(i, SENTENCES[i % 8:i % 8 + 3]) for i in range(12)]
EXPECTED = [tally_words({}, item)[:3] for item in ITEMS]


# -- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dask_executor():
    """One 2-worker LocalCluster for the Dask tests of this module."""
    if not HAVE_DASK:
        pytest.skip('Dask is not installed (pip install ".[dask]")')
    with make_executor(ExecutorConfig(kind="dask", n_process=2)) as executor:
        yield executor


KINDS = [pytest.param("local1", id="local-1"), pytest.param("local2", id="local-2"),
         pytest.param("dask", id="dask-2", marks=needs_dask)]


@pytest.fixture(params=KINDS)
def executor(request):
    if request.param == "dask":
        yield request.getfixturevalue("dask_executor")
        return
    n = 1 if request.param == "local1" else 2
    with make_executor(ExecutorConfig(kind="local", n_process=n)) as made:
        yield made


# -- map -----------------------------------------------------------------------------

def test_executor_map_yields_results_in_item_order(executor):
    shared = {"slow": ITEMS}
    results = list(executor.map(tally_words, ITEMS, shared))
    assert [r[:3] for r in results] == EXPECTED
    assert [r[0] for r in results] == list(range(12))


def test_executor_map_sends_shared_once_per_worker(executor, monkeypatch):
    if type(executor).__name__.startswith("Dask"):
        # themepipe's part on Dask: one broadcast of the shared state per map, never one
        # transfer per item (how a worker then holds it is Dask's business: a worker may
        # be replaced, or deserialise its copy again)
        calls = []
        real = executor.client.scatter

        def counted(*args, **kwargs):
            calls.append(kwargs)
            return real(*args, **kwargs)

        monkeypatch.setattr(executor.client, "scatter", counted)
        results = list(executor.map(tally_words, ITEMS, {"slow": ITEMS}))
        assert [r[0] for r in results] == list(range(12))
        assert len(calls) == 1 and calls[0].get("broadcast") is True
        return
    results = list(executor.map(tally_words, ITEMS, {"slow": ITEMS}))
    identities: dict[int, set] = {}
    for *_, pid, shared_id in results:
        identities.setdefault(pid, set()).add(shared_id)
    # one copy of the shared state per worker process, used by every item it ran
    assert all(len(ids) == 1 for ids in identities.values())
    assert len(identities) <= executor.n_workers


def test_executor_local_one_process_runs_in_this_process():
    with make_executor(ExecutorConfig(kind="local", n_process=1)) as executor:
        assert type(executor) is Executor and executor.n_workers == 1
        results = list(executor.map(tally_words, ITEMS[:3], {}))
    assert {r[3] for r in results} == {os.getpid()}


@pytest.mark.skipif(sys.platform == "win32", reason="fork is not available")
def test_executor_local_pool_does_not_pickle_shared():
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(NeverPickled())
    with make_executor(ExecutorConfig(kind="local", n_process=2)) as executor:
        assert list(executor.map(add_offset, range(7), NeverPickled())) == list(range(10, 17))


def test_executor_map_of_no_items_yields_nothing(executor):
    assert list(executor.map(tally_words, [], {})) == []


def test_executor_map_bounds_items_in_flight(executor, tmp_path):
    if executor.n_workers == 1:
        pytest.skip("one process runs one item at a time")
    window = IN_FLIGHT_PER_WORKER * executor.n_workers
    results: list = []
    consumer = threading.Thread(
        target=lambda: results.extend(executor.map(wait_for_release, range(20),
                                                   str(tmp_path))))
    consumer.start()
    try:
        for _ in range(600):  # until the window is full (item 0 blocks everything)
            if len(list(tmp_path.glob("started-*"))) >= window:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # give a wrongly unbounded executor time to start more
        started = len(list(tmp_path.glob("started-*")))
    finally:
        (tmp_path / "release").touch()
        consumer.join(120)
    assert started == window
    assert results == list(range(20))


# -- errors --------------------------------------------------------------------------

def test_errors_survive_pickling():
    error = InputError("T101", "transkrip rusak", path="desa_03.txt", line=7)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InputError
    assert (copy.code, copy.message, copy.path, copy.line) == ("T101", "transkrip rusak",
                                                               "desa_03.txt", 7)
    assert copy.format() == "[T101] desa_03.txt:7: transkrip rusak"


def test_executor_map_raises_the_partition_error_unchanged(executor):
    with pytest.raises(InputError) as caught:
        list(executor.map(tally_words, ITEMS, {"fail": 5}))
    assert caught.value.format() == "[T101] desa_05.txt:7: transkrip rusak di partisi 5"
    # the executor is still usable after a failed map
    assert [r[:3] for r in executor.map(tally_words, ITEMS[:4], {})] == EXPECTED[:4]


def test_executor_local_killed_worker_gives_one_line_error():
    with make_executor(ExecutorConfig(kind="local", n_process=2)) as executor, \
            pytest.raises(StageError) as caught:
        list(executor.map(tally_words, ITEMS, {"kill": 3}))
    message = caught.value.format()
    assert caught.value.code == "T520" and "\n" not in message
    assert "executor.partition_size" in message and "n_process: 1" in message


@needs_dask
@pytest.mark.slow
def test_executor_dask_killed_worker_gives_one_line_error(capfd):
    # its own cluster: the killed workers are restarted, which takes a while
    with make_executor(ExecutorConfig(kind="dask", n_process=2)) as executor:
        with pytest.raises(StageError) as caught:
            list(executor.map(tally_words, ITEMS, {"kill": 3}))
        message = caught.value.format()
        assert caught.value.code == "T520" and "\n" not in message
        assert "partition" in message and "executor.partition_size" in message
        # the workers come back: the next map runs
        assert [r[:3] for r in executor.map(tally_words, ITEMS[:2], {})] == EXPECTED[:2]
    # the cluster's own log lines about the failure are not shown
    assert "Traceback" not in capfd.readouterr().err


def test_executor_dask_without_dask_is_one_config_error(monkeypatch):
    import themepipe.dask_executor as module

    monkeypatch.setattr(module, "distributed", None)
    with pytest.raises(ConfigError) as caught:
        make_executor(ExecutorConfig(kind="dask"))
    assert caught.value.code == "T522"
    assert 'pip install -e ".[dask]"' in caught.value.message


def test_executor_dask_missing_in_a_fresh_process_is_one_config_error():
    code = ("import sys; sys.modules['dask'] = sys.modules['distributed'] = None\n"
            "from themepipe.config import ExecutorConfig\n"
            "from themepipe.executor import make_executor\n"
            "from themepipe.errors import ConfigError\n"
            "try:\n    make_executor(ExecutorConfig(kind='dask'))\n"
            "except ConfigError as e:\n    print(e.format())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.startswith("[T522] executor.kind is 'dask' but Dask is not installed")


# -- merge_sum -----------------------------------------------------------------------

def informant_counts(seed: int, n_rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups = np.array(["kepala_desa", "petani", "perangkat", "pedagang"])
    return pd.DataFrame({
        "group": groups[rng.integers(0, 4, n_rows)],
        "informant_id": [f"INF{i:03d}" for i in rng.integers(0, 40, n_rows)],
        "n_segments": rng.integers(1, 30, n_rows),
        "hits_air": rng.integers(0, 5, n_rows),
        # micro-units of probabilities: large integers whose float sums would round
        "sum_p_air": rng.integers(0, 10**6, n_rows) * 10**9 + 1,
    })


def expected_sums(table: pd.DataFrame) -> dict:
    """Reference sums by plain Python, row by row."""
    sums: dict = {}
    for row in table.itertuples(index=False):
        key = (row.group, row.informant_id)
        old = sums.get(key, (0, 0, 0))
        sums[key] = (old[0] + row.n_segments, old[1] + row.hits_air, old[2] + row.sum_p_air)
    return sums


def split(table: pd.DataFrame, seed: int) -> list[pd.DataFrame]:
    """Shuffle the rows and cut them into frames of random sizes."""
    rng = np.random.default_rng(seed)
    shuffled = table.iloc[rng.permutation(len(table))]
    cuts = np.sort(rng.choice(np.arange(1, len(table)), size=rng.integers(1, 9),
                              replace=False))
    bounds = [0, *cuts, len(table)]
    return [shuffled.iloc[a:b].reset_index(drop=True) for a, b in pairwise(bounds)]


def test_executor_merge_sum_is_exact_for_any_order_and_grouping(executor):
    table = informant_counts(seed=3)
    expected = expected_sums(table)
    first = None
    for seed in range(4):
        merged = executor.merge_sum(split(table, seed), KEYS)
        assert list(merged.columns) == KEYS + ["n_segments", "hits_air", "sum_p_air"]
        assert (merged.dtypes.iloc[2:] == "int64").all()
        assert list(merged.index) == list(range(len(merged)))
        keys = list(zip(merged["group"], merged["informant_id"]))
        assert keys == sorted(expected)
        assert {k: tuple(v) for k, v in zip(keys, merged.iloc[:, 2:].itertuples(
            index=False))} == expected
        if first is None:
            first = merged
        pd.testing.assert_frame_equal(merged, first)


@needs_dask
def test_executor_merge_sum_is_equal_across_kinds(dask_executor):
    frames = split(informant_counts(seed=11), seed=5)
    local = Executor().merge_sum(frames, KEYS)
    pd.testing.assert_frame_equal(dask_executor.merge_sum(frames, KEYS), local)
    with make_executor(ExecutorConfig(kind="local", n_process=2)) as pool:
        pd.testing.assert_frame_equal(pool.merge_sum(frames, KEYS), local)


def test_executor_merge_sum_counts_a_missing_column_as_zero(executor):
    frames = [pd.DataFrame({"group": ["petani"], "informant_id": ["INF001"],
                            "hits_air": [2]}),
              pd.DataFrame({"group": ["petani", "guru"], "informant_id": ["INF001", "INF009"],
                            "hits_air": [1, 4], "hits_jalan": [3, 5]})]
    merged = executor.merge_sum(frames, KEYS)
    assert merged.to_dict("list") == {"group": ["guru", "petani"],
                                      "informant_id": ["INF009", "INF001"],
                                      "hits_air": [4, 3], "hits_jalan": [5, 3]}


def test_executor_merge_sum_refuses_float_columns():
    frames = [pd.DataFrame({"group": ["petani"], "informant_id": ["INF001"],
                            "sum_p_air": [0.1]})]
    with pytest.raises(StageError) as caught:
        Executor().merge_sum(frames, KEYS)
    assert caught.value.code == "T521" and "integer" in caught.value.message


def test_executor_merge_sum_of_no_frames_is_empty():
    merged = Executor().merge_sum([], KEYS)
    assert list(merged.columns) == KEYS and len(merged) == 0


# -- progress (cli.ConsoleReporter) ---------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cli_reporter_log_shows_partitions_rate_and_eta_without_spam():
    output = io.StringIO()
    clock = FakeClock()
    reporter = ConsoleReporter(Console(file=output, force_terminal=False, width=200),
                               log_interval=30.0, clock=clock)
    reporter.stage_start("classify", total=10)
    for done in range(1, 11):
        clock.now += 10.0  # 10 s and 2,000 segments per partition
        reporter.segments_done(2000 * done)
        reporter.advance(done, 10)
    reporter.stage_end("classify", "model v1, 12000 segments with a theme", 100.0)
    lines = output.getvalue().splitlines()
    # one line per 30 s at most: after partitions 3, 6 and 9; none after the last
    assert lines[:3] == [
        "  classify        3/10 partitions · 6,000 segments · 200 segments/s · ETA 1m10s",
        "  classify        6/10 partitions · 12,000 segments · 200 segments/s · ETA 40s",
        "  classify        9/10 partitions · 18,000 segments · 200 segments/s · ETA 10s"]
    assert lines[3] == ("✓ classify        model v1, 12000 segments with a theme "
                        "(100.0 s, 200 segments/s)")
    assert len(lines) == 4


def test_cli_reporter_log_is_quiet_for_stages_without_segments():
    output = io.StringIO()
    clock = FakeClock()
    reporter = ConsoleReporter(Console(file=output, force_terminal=False, width=200),
                               clock=clock)
    reporter.stage_start("ingest", total=100)
    for done in range(1, 101):
        clock.now += 1.0
        reporter.advance(done, 100)
    reporter.stage_end("ingest", "28 transcripts", 100.0)
    assert output.getvalue().splitlines() == ["✓ ingest          28 transcripts (100.0 s)"]


def test_cli_reporter_terminal_bar_shows_rate_and_eta():
    clock = FakeClock()
    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    reporter = ConsoleReporter(console, clock=clock)
    reporter.stage_start("prepare", total=4)
    clock.now += 8.0
    reporter.segments_done(1000)
    reporter.advance(1, 4)
    task = reporter.progress.tasks[0]
    assert task.fields["stats"] == "1/4 partitions · 1,000 segments · 125 segments/s · ETA 24s"
    reporter.stage_end("prepare", "4 partitions", 30.0)
    assert not reporter.progress.tasks and not reporter.progress.live.is_started


# -- end to end ----------------------------------------------------------------------

# Dask is blocked (as if not installed): with it installed, loading the classifier
# imports it anyway (skops lists scikit-learn's estimators by importing every subpackage,
# among them sklearn.externals.array_api_compat.dask, which imports dask.array).
RUN_LOCAL = """
import json, sys
sys.modules["dask"] = sys.modules["distributed"] = None
from pathlib import Path
from themepipe.config import load_config
from themepipe.pipeline import run
config, out = Path(sys.argv[1]), Path(sys.argv[2])
report = {}
for name, overrides in (("main", []), ("local", ["executor.partition_size=200"])):
    try:
        run(load_config(config, overrides), out / name, config_path=config,
            use_cache=False)
        error = None
    except Exception as caught:
        error = f"{type(caught).__name__}: {caught}"
    report[name] = {"error": error, "dask_modules": sorted(
        m for m, module in sys.modules.items() if module is not None
        and (m.split(".")[0] in ("dask", "distributed") or m == "themepipe.dask_executor"))}
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory):
    """The bundled main job, then a streamed local run (partitions of 200 segments), in a
    fresh process without Dask; returns (parent of the run folders, per run its error and
    the Dask modules loaded after it)."""
    out = tmp_path_factory.mktemp("executor_runs")
    done = subprocess.run([sys.executable, "-c", RUN_LOCAL,
                           str(ROOT / "configs" / "kajigelem.yaml"), str(out)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
def test_pipeline_bundled_run_needs_no_dask(local_runs):
    _, report = local_runs
    assert report["main"] == {"error": None, "dask_modules": []}
    # a streamed local run uses the executor, and still needs no Dask
    assert report["local"]["dask_modules"] == []


@needs_dask
@pytest.mark.slow
def test_pipeline_dask_and_local_streaming_give_identical_theme_distribution(
        local_runs, bundled_run, tmp_path):
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out, report = local_runs
    assert report["local"]["error"] is None
    config = ROOT / "configs" / "kajigelem.yaml"
    local = out / "local"
    manifest = json.loads((local / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["streaming"]["partitions"] > 1  # the run really was partitioned
    dask_run = run(load_config(config, ["executor.partition_size=200", "executor.kind=dask",
                                        "executor.n_process=2"]),
                   tmp_path / "dask", config_path=config, use_cache=False)
    assert dask_run.manifest["streaming"]["executor"] == "dask"
    name = "theme_distribution.csv"
    assert filecmp.cmp(local / name, dask_run.out / name, shallow=False)
    assert filecmp.cmp(local / name, out / "main" / name, shallow=False)
    assert filecmp.cmp(local / name, bundled_run.out / name, shallow=False)
    # every table of the streamed run, not only that one, is the same on Dask
    tables = sorted(p.name for p in local.glob("*.csv"))
    assert "segments.csv" in tables and "topic_prevalence.csv" in tables
    assert [t for t in tables if not filecmp.cmp(local / t, dask_run.out / t,
                                                   shallow=False)] == []
