"""Benchmark of the preprocess stage on real Indonesian text (not a test).

Data: the SmSA train split of IndoNLU in ../shared/data/indonlu (11,000 reviews),
repeated 10 times (about 3.6M tokens).  Each measurement is the median of 3 runs.

Prints, in one run:
- start-up: importing themepipe.preprocess, reading the bundled lexicon files and building
  the spaCy tokenizer (seconds, measured first, in this fresh process);
- tokens/s of spaCy's bare tokenizer (``spacy.blank("id").tokenizer.pipe``);
- tokens/s of the full themepipe preprocess (tokenise, noise, normalise, stem, stop words:
  ``Preprocessor.transform``) with 1 and 2 processes.  Every run uses a fresh
  Preprocessor, so its caches (per word type and per whitespace-separated chunk) start
  cold — the corpus repeats 10 times, so they are warm after the first copy; the spaCy
  tokenizer is shared.  A further run on the last, warm instance is shown too;
- tokens/s of a naive loop calling PySastrawi's
  ``StemmerFactory().create_stemmer().stem()`` per document;
- peak resident memory of this process and of the largest worker.

CPU seconds (this process plus its workers) are printed next to the wall-clock times:
on a machine shared with other jobs, 2 processes only run faster when 2 cores are free,
and the CPU column shows whether the work itself was split or duplicated.

All rates divide the same number: the tokens of spaCy's bare tokenizer.

Usage::

    python bench/preprocess.py [--repeat 10] [--runs 3] [--config CONFIG]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "data" / "indonlu" / "smsa_doc-sentiment-prosa"
        / "train_preprocess.tsv")


def load_texts(path: Path, repeat: int) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line.strip()] * repeat


def bundled_preprocess_config(config_path: str | None):
    from themepipe.config import PreprocessConfig, load_config

    if config_path:
        return load_config(config_path).preprocess
    configs = ROOT / "configs"
    return PreprocessConfig(lexicon=configs / "lexicon.tsv",
                            protected_words=configs / "protected_words.txt",
                            stem_overrides=configs / "stem_overrides.tsv",
                            stop_words=configs / "stop_words.txt",
                            note_patterns=configs / "notes.txt")


def _cpu() -> float:
    """CPU seconds of this process plus its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(func) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    start, cpu = time.perf_counter(), _cpu()
    func()
    return time.perf_counter() - start, _cpu() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="copies of the corpus")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement")
    parser.add_argument("--config", default=None,
                        help="run config whose preprocess: section to use "
                             "(default: the bundled files in configs/)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"data not found: {args.data} (needs ../shared/data/indonlu)")
        return 1

    start = time.perf_counter()
    from themepipe.preprocess import Preprocessor

    config = bundled_preprocess_config(args.config)
    _ = Preprocessor.from_config(config).nlp  # builds the tokenizer
    startup = time.perf_counter() - start

    import os

    import pandas as pd
    import spacy

    texts = load_texts(args.data, args.repeat)
    segments = pd.DataFrame({"text": texts})
    start = time.perf_counter()
    bare_nlp = spacy.blank("id")
    bare_startup = time.perf_counter() - start
    n_tokens = sum(len(doc) for doc in bare_nlp.tokenizer.pipe(texts[: len(texts) // args.repeat]))
    n_tokens *= args.repeat

    print(f"data: {args.data.name} x{args.repeat}: {len(texts)} documents, "
          f"{n_tokens} tokens (spaCy bare tokenizer); median of {args.runs} runs")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores: {os.cpu_count()}; load average at start: {load:.2f}")
    print(f"start-up: themepipe preprocess {startup:.2f} s (imports, lexicon files, "
          f"tokenizer); spacy.blank('id') {bare_startup:.2f} s")

    def bare():
        for _ in bare_nlp.tokenizer.pipe(texts):
            pass

    outputs = {}

    def full(n_process):
        def run():
            outputs[n_process] = Preprocessor.from_config(config)
            outputs[n_process, "out"] = outputs[n_process].transform(segments,
                                                                     n_process=n_process)
        return run

    def naive():
        from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

        stemmer = StemmerFactory().create_stemmer()
        for text in texts:
            stemmer.stem(text)

    # runs are interleaved so that a change in the machine's load hits every measurement
    measurements = {"spaCy bare tokenizer": bare,
                    "themepipe preprocess, 1 process": full(1),
                    "themepipe preprocess, 2 process": full(2),
                    "PySastrawi stem() per document": naive}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in measurements}
    for _ in range(args.runs):
        for name, func in measurements.items():
            runs[name].append(timed(func))
    results = {name: (statistics.median(w for w, _ in r), [w for w, _ in r],
                      statistics.median(c for _, c in r)) for name, r in runs.items()}
    assert outputs[2, "out"].equals(outputs[1, "out"]), "n_process=2 output differs from 1"
    warm = {}
    for n_process in (1, 2):
        warm[n_process] = timed(lambda n=n_process: outputs[n].transform(
            segments, n_process=n))[0]

    print(f"{'measurement':<36}{'median s':>10}{'tokens/s':>12}{'CPU s':>8}   runs (s)")
    for name, (median, times, cpu) in results.items():
        listed = ", ".join(f"{t:.2f}" for t in times)
        print(f"{name:<36}{median:>10.2f}{n_tokens / median:>12,.0f}{cpu:>8.2f}   {listed}")
    for n_process, seconds in warm.items():
        print(f"{'  warm caches, ' + str(n_process) + ' process':<36}{seconds:>10.2f}"
              f"{n_tokens / seconds:>12,.0f}")

    tok = n_tokens / results["spaCy bare tokenizer"][0]
    one = n_tokens / results["themepipe preprocess, 1 process"][0]
    two = n_tokens / results["themepipe preprocess, 2 process"][0]
    print(f"full preprocess, 1 process / bare tokenizer: {one / tok:.0%} (target >= 40%)")
    print(f"full preprocess, 2 processes / 1 process: {two / one:.2f}x (target >= 1.6x)")
    print("outputs of 1 and 2 processes identical: yes")
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: main process {self_mb:.0f} MB, largest worker {child_mb:.0f} MB")
    if hasattr(os, "getloadavg"):
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
