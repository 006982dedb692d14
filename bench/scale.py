"""Scale benchmark (issue 9 item 5, first version): wall time, segments/s, peak memory.

For each size (segments, default 10k then 100k) it makes a corpus with
``bench/make_corpus.py`` (about 24.7 segments per transcript; kept in ``--work`` and
reused), then runs the pipeline (``themepipe.pipeline.run`` without the stage cache, as
``themepipe run CONFIG --no-cache`` does) in a fresh process for each
``executor.n_process`` (default 1 and 2), recording wall and CPU seconds per stage (CPU
is robust to other load on the machine), and sampling every 0.2 s the resident set summed
over the whole process tree (the run and its worker processes; psutil, else /proc).  It
prints one table row per run and the per-stage timings from the run's ``manifest.json``.

A larger size is tried only when the runs of the previous size, scaled linearly, are
predicted to finish within ``--budget`` seconds (default 300); a run that exceeds
``--timeout`` (default 2 x budget) is stopped and reported as such.

``--kinds local dask`` adds runs on a Dask LocalCluster of ``n_process`` workers
(``executor.kind: dask``; needs ``pip install -e .[dask]``); its workers are child
processes of the run, so their memory is in the process-tree figure.

    pip install -e .[bench,dask]
    python bench/scale.py [--sizes 10000 100000 1000000] [--procs 1 2]
                          [--kinds local dask] [--budget 300]
                          [--set KEY=VALUE ...] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS_PER_TRANSCRIPT = 24.7  # make_corpus.py: 20-30 turns, one segment per turn
STAGES = ["ingest", "load-nlp", "prepare", "segment", "preprocess", "topics", "load-model",
          "classify", "compare", "write"]


class CpuReporter:
    """Run reporter of the child process: per stage, wall seconds and CPU seconds of
    this process plus its finished worker processes (contention-robust), printed as
    ``✓ stage summary (X s)`` lines like the CLI's, and kept for a JSON dump."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float]] = {}

    @staticmethod
    def _cpu() -> float:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def stage_start(self, stage: str, total: int | None = None) -> None:
        self.cpu_start = self._cpu()

    def advance(self, done: int, total: int | None = None) -> None:
        pass

    def segments_done(self, segments: int) -> None:
        pass

    def stage_end(self, stage: str, summary: str, seconds: float) -> None:
        self.stages[stage] = {"wall_s": round(seconds, 3),
                              "cpu_s": round(self._cpu() - self.cpu_start, 3)}
        print(f"✓ {stage} {summary} ({seconds:.1f} s)", flush=True)


def child(config_path: str, out: str, overrides: list[str]) -> int:
    """The measured run: ``themepipe.pipeline.run`` without the cache, stage CPU to
    ``<out>.stages.json``."""
    from themepipe.config import load_config
    from themepipe.pipeline import run

    reporter = CpuReporter()
    run(load_config(Path(config_path), overrides), Path(out), config_path=Path(config_path),
        reporter=reporter, use_cache=False)
    Path(f"{out}.stages.json").write_text(json.dumps(reporter.stages, indent=1))
    return 0


def tree_rss(pid: int) -> int:
    """Resident set in bytes summed over ``pid`` and all its descendants (0 when gone)."""
    try:
        import psutil
    except ImportError:
        return _proc_tree_rss(pid)
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def _proc_tree_rss(pid: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(rss.get(p, 0) for p in tree)


def make_corpus(size: int, work: Path, seed: int) -> Path:
    """The corpus for about ``size`` segments (made once, then reused)."""
    n = max(1, round(size / SEGMENTS_PER_TRANSCRIPT))
    folder = work / f"corpus-{n}-seed{seed}"
    if not (folder / "config.yaml").is_file():
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "make_corpus.py"),
                               str(n), str(folder), "--seed", str(seed)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr.strip().splitlines()[-1])
        print(proc.stdout.strip(), flush=True)
    return folder / "config.yaml"


def run_once(config: Path, out: Path, n_process: int, extra: list[str],
             timeout: float) -> dict:
    """One ``themepipe run`` in a fresh process; wall time, peak tree RSS, manifest."""
    sets = [f"executor.n_process={n_process}", *extra]
    cmd = [sys.executable, __file__, "--child", str(config), str(out), *sets]
    cpu_before = CpuReporter._cpu()
    log = open(out.parent / f"{out.name}.log", "w")  # noqa: SIM115 - closed below
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    peak, timed_out = 0, False
    stage_peak: dict[str, int] = {}
    bucket, seen = 0, 0
    while proc.poll() is None:
        rss = tree_rss(proc.pid)
        peak, bucket = max(peak, rss), max(bucket, rss)
        finished = _finished_stages(Path(log.name))
        for name in finished[seen:]:  # samples since the last "✓ stage" line belong to it
            stage_peak[name], bucket = bucket, rss
        seen = len(finished)
        if time.perf_counter() - start > timeout:
            timed_out = True
            _stop_tree(proc.pid)
            proc.wait()
            break
        time.sleep(0.2)
    wall = time.perf_counter() - start
    cpu = CpuReporter._cpu() - cpu_before
    log.close()
    result = {"wall_s": wall, "cpu_s": cpu, "peak_rss": peak, "stage_peak_rss": stage_peak,
              "exit": proc.returncode,
              "timed_out": timed_out, "manifest": None, "log": log.name}
    manifest = out / "manifest.json"
    if not timed_out and proc.returncode in (0, 1) and manifest.is_file():
        result["manifest"] = json.loads(manifest.read_text())
        result["manifest"]["timings_s"] = {**_logged_seconds(Path(log.name)),
                                           **result["manifest"]["timings_s"]}
        stages = Path(f"{out}.stages.json")
        result["stage_cpu_s"] = ({k: v["cpu_s"] for k, v in json.loads(
            stages.read_text()).items()} if stages.is_file() else {})
    return result


def _stage_lines(log: Path) -> list[str]:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.startswith("✓ ") and len(line.split()) > 1]


def _finished_stages(log: Path) -> list[str]:
    """Names of the stages the CLI has reported as finished (``✓ name ...`` lines)."""
    return [line.split()[1] for line in _stage_lines(log)]


def _logged_seconds(log: Path) -> dict[str, float]:
    """Stage seconds from the CLI's ``✓ name summary (X s)`` lines (the manifest is
    written inside the ``write`` stage, so it cannot hold that stage's own time)."""
    found = {}
    for line in _stage_lines(log):
        match = re.search(r"\(([0-9.]+) s\)$", line.strip())
        if match:
            found[line.split()[1]] = float(match.group(1))
    return found


def _stop_tree(pid: int) -> None:
    try:
        import psutil

        root = psutil.Process(pid)
        for proc in [*root.children(recursive=True), root]:
            proc.kill()
    except Exception:  # noqa: BLE001 - best effort: the process may be gone already
        os.kill(pid, 9)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1], argv[2], argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000],
                        help="corpus sizes in segments (default 10000 100000)")
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2],
                        help="executor.n_process values (default 1 2)")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="try a size only if predicted to finish within this (s)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop a run after this many seconds (default 2 x budget)")
    parser.add_argument("--kinds", nargs="+", default=["local"], choices=["local", "dask"],
                        help="executor.kind values (default local)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        metavar="KEY=VALUE", help="extra config override for every run")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for corpora and run folders (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    timeout = args.timeout or 2 * args.budget
    work = args.work or Path(tempfile.mkdtemp(prefix="themepipe-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows, per_segment, fixed = [], {}, 0.0
    for size in sorted(args.sizes):
        if per_segment:  # fixed costs (start-up, loading spaCy and the model) + linear rest
            predicted = fixed + max(per_segment.values()) * size
            if predicted > args.budget:
                print(f"skipping {size} segments: predicted {predicted:.0f} s > budget "
                      f"{args.budget:.0f} s (raise --budget to run it)", flush=True)
                break
        config = make_corpus(size, work, args.seed)
        for kind, n_process in [(k, n) for k in args.kinds for n in args.procs]:
            out = work / f"run-{size}-{kind}-p{n_process}"
            res = run_once(config, out, n_process, [f"executor.kind={kind}", *args.sets],
                           timeout)
            m = res["manifest"]
            row = {"size": size, "kind": kind, "n_process": n_process, **{k: res[k] for k in (
                "wall_s", "cpu_s", "peak_rss", "stage_peak_rss", "exit", "timed_out", "log")},
                "stage_cpu_s": res.get("stage_cpu_s", {})}
            if m is not None:
                row["segments"] = m["counts"]["segments"]
                row["timings_s"] = m["timings_s"]
                t = row["timings_s"]
                fixed = (res["wall_s"] - sum(t.values()) + t.get("load-nlp", 0)
                         + t.get("load-model", 0))
                per_segment[kind, n_process] = (res["wall_s"] - fixed) / row["segments"]
            rows.append(row)
            status = ("timed out" if res["timed_out"] else f"exit {res['exit']}"
                      if m is None else "ok")
            print(f"  {size} segments, {kind}, n_process={n_process}: {res['wall_s']:.1f} s, "
                  f"peak {res['peak_rss'] / 2**20:.0f} MiB ({status})", flush=True)
            if m is None:
                print(f"  see {res['log']}", flush=True)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def print_table(rows: list[dict]) -> None:
    """Summary table, then the per-stage timings of every run."""
    print("\n| segments | executor | n_process | wall (s) | segments/s | CPU (s) "
          "| CPU ms/segment | peak RSS (MiB) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        seg = r.get("segments")
        rate = f"{seg / r['wall_s']:.0f}" if seg else "-"
        per = f"{1000 * r['cpu_s'] / seg:.2f}" if seg else "-"
        wall = f"> {r['wall_s']:.0f}" if r["timed_out"] else f"{r['wall_s']:.1f}"
        print(f"| {seg or r['size']} | {r.get('kind', 'local')} | {r['n_process']} | {wall} | {rate} | "
              f"{r['cpu_s']:.1f} | {per} | {r['peak_rss'] / 2**20:.0f} |")
    timed = [r for r in rows if r.get("timings_s")]
    if not timed:
        return
    names = STAGES + sorted({k for r in timed for k in r["timings_s"]} - set(STAGES))
    for title, key, scale, fmt in (
            ("per-stage wall seconds (manifest.json; the write stage from the log)",
             "timings_s", 1, "{:.1f}"),
            ("CPU seconds per stage (process + its finished workers; robust to other load)",
             "stage_cpu_s", 1, "{:.1f}"),
            ("peak RSS of the process tree while each stage ran (MiB; 0.2 s sampling; "
             + "ingest includes start-up)", "stage_peak_rss", 2**20, "{:.0f}")):
        print(f"\n{title}")
        print("| stage | " + " | ".join(f"{r['segments']} {r.get('kind', 'local')} "
                                        f"p{r['n_process']}" for r in timed)
              + " |")
        print("|---|" + "---:|" * len(timed))
        for name in names:
            print(f"| {name} | " + " | ".join(fmt.format(r[key].get(name, 0) / scale)
                                              for r in timed) + " |")

if __name__ == "__main__":
    raise SystemExit(main())
