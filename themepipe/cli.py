"""Command-line interface (thin: parse, call the library, print, map errors to exit codes).

Exit codes: 0 clean; 1 finished but skipped or warned about inputs; 2 nothing written
(usage, config or input error).  The project's own errors print one line, no traceback.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from .errors import ThemepipeError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Thematic analysis of Indonesian interview transcripts.")
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

CONFIG_ARG = typer.Argument(..., metavar="CONFIG", help="YAML run config, e.g. configs/kajigelem.yaml.",
                            show_default=False)
SET_OPT = typer.Option(None, "--set", metavar="KEY=VALUE",
                       help="Override a config key, e.g. --set topics.num_topics=8 "
                            "(repeatable).")


class ConsoleReporter:
    """Draws one status line per stage on stderr, with a progress bar for long stages.

    In a terminal a stage shows a live bar with ``done/total`` and an ETA; a streaming
    stage (one that reports :meth:`segments_done`) also shows its segments and
    segments/s.  Where the output cannot be redrawn (a log file, a pipe) there is no
    bar: a streaming stage prints one progress line at most every ``log_interval``
    seconds, then its status line.

    Parameters
    ----------
    console : rich.console.Console
    log_interval : float
        Seconds between progress lines of a streaming stage in non-interactive output.
    clock : callable
        Seconds, monotonic (``time.monotonic``; tests pass a fake clock).
    """

    def __init__(self, console: Console, log_interval: float = 30.0, clock=None) -> None:
        import time

        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.log_interval = log_interval
        self.clock = clock or time.monotonic
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                                 console=console, transient=True)
        self.task = None
        self.stage = ""
        self.started = self.logged = 0.0
        self.segments: int | None = None

    def stage_start(self, stage: str, total: int | None = None) -> None:
        self.stage, self.segments = stage, None
        self.started = self.logged = self.clock()
        if self.console.is_terminal:  # a live bar only where it can be redrawn
            self.progress.start()
            self.task = self.progress.add_task(f"{stage:<15}", total=total,
                                               stats=self._stats(0, total))

    def segments_done(self, segments: int) -> None:
        self.segments = segments

    def advance(self, done: int, total: int | None = None) -> None:
        stats = self._stats(done, total)
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total, stats=stats)
        elif self.segments is not None and (total is None or done < total):
            now = self.clock()
            if now - self.logged >= self.log_interval:
                self.logged = now
                self.console.print(f"  {self.stage:<15} {stats}", markup=False,
                                   highlight=False)

    def _stats(self, done: int, total: int | None) -> str:
        """``done/total [partitions] · segments · segments/s · ETA``."""
        elapsed = self.clock() - self.started
        unit = " partitions" if self.segments is not None else ""
        parts = [f"{done}/{total}{unit}" if total is not None else f"{done}{unit}"]
        if self.segments is not None:
            parts.append(f"{self.segments:,} segments")
            if elapsed > 0:
                parts.append(f"{self.segments / elapsed:,.0f} segments/s")
        if total and 0 < done < total and elapsed > 0:
            parts.append("ETA " + _duration(elapsed * (total - done) / done))
        return " · ".join(parts)

    def stage_end(self, stage: str, summary: str, seconds: float) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
            self.progress.stop()
        rate = ""
        if self.segments is not None and seconds > 0:
            rate = f", {self.segments / seconds:,.0f} segments/s"
        self.segments = None
        self.console.print(f"[green]✓[/] {stage:<15} {escape(summary)} "
                           f"[dim]({seconds:.1f} s{rate})[/]")

    def close(self) -> None:
        # stopping a bar that never started prints an empty line before the error
        if self.progress.live.is_started:
            self.progress.stop()


def _duration(seconds: float) -> str:
    """``45s``, ``3m20s``, ``1h02m``: a rounded duration for an ETA."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _fail(error: Exception) -> None:
    """Print one line for an error and exit 2 (nothing was written).

    An unexpected exception (a bug, not a user error) is shown as one line too; set
    ``THEMEPIPE_DEBUG=1`` to see its traceback.
    """
    if not isinstance(error, ThemepipeError):
        if os.environ.get("THEMEPIPE_DEBUG"):
            raise error
        error = ThemepipeError(
            "T999", f"unexpected {type(error).__name__}: {error}; nothing was written. "
            "Please report this with the command you ran (THEMEPIPE_DEBUG=1 shows details)")
    err_console.print("[red]error[/] " + escape(error.format()), soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _errors_to_exit(reporter: ConsoleReporter | None = None):
    """Turn any exception raised in the block into one line and exit 2 (:func:`_fail`),
    first stopping ``reporter``'s progress bar."""
    try:
        yield
    except KeyboardInterrupt:
        if reporter is not None:
            reporter.close()
        err_console.print("interrupted: nothing was written; --out still holds the previous "
                          "run, if any", markup=False)
        raise typer.Exit(130) from None
    except Exception as error:  # noqa: BLE001 - _fail prints one line
        if reporter is not None:
            reporter.close()
        _fail(error)


def _load(config: Path, overrides: list[str] | None):
    from .config import load_config

    return load_config(config, overrides or [])


def _print_problems(problems) -> None:
    if not problems:
        return
    err_console.print(f"[yellow]{len(problems)} problem(s) with the inputs:[/]")
    for problem in problems:
        err_console.print("  " + escape(problem.format()), soft_wrap=True)


@app.command()
def run(
    config: Path = CONFIG_ARG,
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Run folder (default runs/<config stem>)."),
    set_: Optional[list[str]] = SET_OPT,
    strict: bool = typer.Option(False, "--strict",
                                help="Stop at the first bad input file (exit 2, nothing "
                                     "written) instead of skipping it."),
    no_cache: bool = typer.Option(False, "--no-cache",
                                  help="Compute every stage again instead of reusing the "
                                       "results of unchanged stages from .<out>.cache/."),
) -> None:
    """Run the whole pipeline and write the run folder.

    Example: themepipe run configs/kajigelem.yaml --out runs/kajigelem
    """
    from .pipeline import run as run_pipeline

    reporter = ConsoleReporter(err_console)
    with _errors_to_exit(reporter):
        cfg = _load(config, set_)
        target = out if out is not None else Path("runs") / config.stem
        result = run_pipeline(cfg, target, config_path=config, strict=strict,
                              reporter=reporter, use_cache=not no_cache)
    _print_problems(result.problems)
    out_console.print(f"outputs written to {result.out}", markup=False)
    raise typer.Exit(1 if result.problems else 0)


@app.command()
def train(
    config: Path = CONFIG_ARG,
    codes: Optional[list[Path]] = typer.Option(
        None, "--codes", help="Extra codes CSV (transcript, turn_index, themes[, coder]); "
                              "repeatable; merged with corpus.codes."),
    set_: Optional[list[str]] = SET_OPT,
) -> None:
    """Train a new version of the theme classifier on the gold codes.

    Example: themepipe train configs/kajigelem.yaml --codes more_codes.csv
    """
    from .classify_stage import train as train_model

    reporter = ConsoleReporter(err_console)
    with _errors_to_exit(reporter):
        cfg = _load(config, set_)
        result = train_model(cfg, codes or [], reporter=reporter)
    _print_problems(result["problems"])
    cv = result["card"].cv_metrics
    out_console.print(f"grouped CV macro-F1 {cv['themepipe']['macro_f1']['mean']:.3f} ± "
                      f"{cv['themepipe']['macro_f1']['sd']:.3f} (keyword baseline "
                      f"{cv['keyword_baseline']['macro_f1']['mean']:.3f})", markup=False)
    _print_agreement(result["coder_agreement"])
    out_console.print(f"model written to {result['version_dir']}", markup=False)
    raise typer.Exit(1 if result["problems"] else 0)


def _print_agreement(agreement: dict) -> None:
    """Krippendorff's alpha between human coders per theme (train, evaluate)."""
    from rich.table import Table

    if not agreement.get("n_turns_shared"):
        out_console.print(f"coder agreement: no turn coded by two or more coders "
                          f"(coders: {', '.join(agreement.get('coders', [])) or 'none'})",
                          markup=False)
        return
    table = Table(title=f"Agreement between coders ({', '.join(agreement['coders'])}) on "
                        f"{agreement['n_turns_shared']} turns coded by >= 2 of them")
    table.add_column("theme")
    table.add_column("Krippendorff's alpha", justify="right")
    table.add_column("codings", justify="right")
    fmt = (lambda v: "n/a" if v is None else f"{v:.3f}")
    for theme, values in agreement["per_theme"].items():
        table.add_row(theme, fmt(values["alpha"]), str(values["n_applied"]))
    table.add_row("overall", fmt(agreement["overall_alpha"]), "")
    out_console.print(table)


@app.command()
def evaluate(
    config: Path = CONFIG_ARG,
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Folder for metrics.json and metrics.csv "
                                            "(default runs/<config stem>-evaluate)."),
    codes: Optional[list[Path]] = typer.Option(
        None, "--codes", help="Extra codes CSV merged with corpus.codes, as in train "
                              "(repeatable)."),
    set_: Optional[list[str]] = SET_OPT,
) -> None:
    """Cross-validate the theme classifier and the seed-word keyword baseline, with
    folds grouped by informant (no informant in both training and test folds); print
    per-theme precision, recall, F1, support, Krippendorff's alpha and Cohen's kappa
    (model vs human), and write metrics.json and metrics.csv. No model is written.

    Example: themepipe evaluate configs/kajigelem.yaml --out runs/kajigelem-evaluate
    """
    from rich.table import Table

    from .classify_stage import evaluate as evaluate_model
    from .classify_stage import write_evaluation

    reporter = ConsoleReporter(err_console)
    with _errors_to_exit(reporter):
        cfg = _load(config, set_)
        target = out if out is not None else Path("runs") / f"{config.stem}-evaluate"
        from .runfolder import check_out
        check_out(target)
        result = evaluate_model(cfg, codes or [], reporter=reporter)
        written = write_evaluation(result, target)
    _print_problems(result["problems"])
    metrics = result["metrics"]
    for note in dict.fromkeys(note for model in ("themepipe", "keyword_baseline")
                              for note in metrics[model].get("notes", [])):
        err_console.print(f"[yellow]warning:[/] {escape(note)}", soft_wrap=True)
    fmt = (lambda v: "" if v is None else f"{v:.3f}")  # JSON-ready: undefined is None
    for model, title in (("themepipe", "themepipe classifier"),
                         ("keyword_baseline", "seed-word keyword baseline")):
        report = metrics[model]
        table = Table(title=f"{title}: {report['n_splits']}-fold CV grouped by informant "
                            f"({report['n_segments']} segments, {report['n_groups']} "
                            "informants)")
        for column in ("theme", "precision", "recall", "F1", "support", "alpha", "kappa"):
            table.add_column(column, justify="left" if column == "theme" else "right")
        for theme, v in report["per_theme"].items():
            table.add_row(theme, fmt(v["precision"]), fmt(v["recall"]), fmt(v["f1"]),
                          str(v["support"]), fmt(v["krippendorff_alpha"]),
                          fmt(v["cohen_kappa"]))
        out_console.print(table)
        card = report["label_cardinality"]
        out_console.print(
            f"  macro-F1 {report['macro_f1']['mean']:.3f} ± {report['macro_f1']['sd']:.3f}"
            f", micro-F1 {report['micro_f1']['mean']:.3f} ± {report['micro_f1']['sd']:.3f}"
            f" (mean ± sd over folds); label cardinality {card['true']:.2f} human, "
            f"{card['predicted']:.2f} predicted", markup=False)
    _print_agreement(metrics["coder_agreement"])
    out_console.print(f"metrics written to {written}", markup=False)
    raise typer.Exit(1 if result["problems"] else 0)


@app.command()
def suggest(
    config: Path = CONFIG_ARG,
    n: int = typer.Option(20, "--n", help="Number of turns to suggest."),
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE",
                                help="CSV to write: a codes file to fill in.",
                                show_default=False),
    codes: Optional[list[Path]] = typer.Option(
        None, "--codes", help="Extra codes CSV whose turns count as coded already "
                              "(repeatable)."),
    set_: Optional[list[str]] = SET_OPT,
) -> None:
    """Suggest uncoded informant turns to code next: the ones the current model is least
    sure about (uncertainty sampling), spread round-robin over groups and informants.
    Fill in the themes column (and coder) and pass the file to `themepipe train --codes`.

    Example: themepipe suggest configs/kajigelem.yaml --n 20 -o to_code.csv
    """
    from .suggest import suggest as suggest_turns
    from .suggest import write_suggestions

    reporter = ConsoleReporter(err_console)
    with _errors_to_exit(reporter):
        cfg = _load(config, set_)
        table, model_info, problems = suggest_turns(cfg, n, codes or [], reporter=reporter)
        written = write_suggestions(table, output)
    _print_problems(problems)
    out_console.print(f"{len(table)} turns to code (model {model_info['version']}) written "
                      f"to {written}; fill in 'themes' and run `themepipe train CONFIG "
                      f"--codes {written}`", markup=False)
    raise typer.Exit(1 if problems else 0)


@app.command()
def preprocess(
    text: str = typer.Option(..., "--text", help="Text to analyse."),
    config: Optional[Path] = typer.Option(None, "--config",
                                          help="Run config whose preprocess: section to use."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per token."),
    set_: Optional[list[str]] = SET_OPT,
) -> None:
    """Show how a text is tokenised, normalised and stemmed.

    Example: themepipe preprocess --text "Pengrajin nggak ngurusin" --config configs/kajigelem.yaml --json
    """
    from .config import PreprocessConfig
    from .preprocess import Preprocessor

    with _errors_to_exit():
        section = _load(config, set_).preprocess if config else PreprocessConfig()
        records = Preprocessor.from_config(section).token_records(text)
    for record in records:
        if as_json:
            out_console.print(json.dumps(record, ensure_ascii=False), soft_wrap=True,
                              markup=False)
        else:
            out_console.print(f"{record['start']:>5}-{record['end']:<5} {record['text']:<18} "
                              f"{record['norm']:<18} {record['stem']:<15}"
                              f"{' stop' if record['is_stop'] else ''}", markup=False)


@app.command()
def compare(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", show_default=False,
                                   help="A run folder written by `themepipe run`."),
    by: Optional[list[str]] = typer.Option(
        None, "--by", metavar="ATTRIBUTE",
        help="Column of the run's informants.csv to compare by, e.g. dusun (repeatable; "
             "default: the run's compare.by)."),
) -> None:
    """Compare themes across the values of an informant attribute in a finished run,
    without re-running earlier stages; writes RUN_DIR/compare-<ATTRIBUTE>/.

    Example: themepipe compare runs/kajigelem --by dusun
    """
    from .compare import compare_run_folder, run_compare_by, write_comparison

    written, problems = [], []
    # compute every comparison first: a bad --by leaves nothing written
    with _errors_to_exit():
        comparisons = [compare_run_folder(run_dir, attribute)
                       for attribute in dict.fromkeys(by or run_compare_by(run_dir))]
        for comparison in comparisons:
            written.append(write_comparison(run_dir, comparison))
            problems += comparison.problems
    _print_problems(problems)
    for folder in written:
        out_console.print(f"comparison written to {folder}", markup=False)
    raise typer.Exit(1 if problems else 0)


@app.command()
def topics(
    config: Path = CONFIG_ARG,
    k: str = typer.Option("6:16", "--k", metavar="LOW:HIGH",
                          help="Numbers of topics to try: LOW:HIGH (both included), "
                               "LOW:HIGH:STEP or a list such as 6,8,12."),
    seeds: int = typer.Option(5, "--seeds", help="Random states per K (>= 2)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Folder for topic_selection.csv (default "
                                            "runs/<config stem>-topics)."),
    set_: Optional[list[str]] = SET_OPT,
) -> None:
    """Choose the number of topics: fit every K with several random states, score
    NPMI, UMass and stability, write topic_selection.csv and print the chosen K.

    K rule: among the K whose stability is >= 0.6 (all K if none is), the smallest
    whose mean NPMI is within one standard deviation over random states of the best.

    Example: themepipe topics configs/kajigelem.yaml --k 6:16 --seeds 5 --out runs/k-choice
    """
    from rich.table import Table

    from .topics.command import parse_k_range, select_topics

    reporter = ConsoleReporter(err_console)
    with _errors_to_exit(reporter):
        cfg = _load(config, set_)
        ks = parse_k_range(k)
        target = out if out is not None else Path("runs") / f"{config.stem}-topics"
        result = select_topics(cfg, ks, seeds, target, reporter=reporter)
    _print_problems(result.problems)
    table = Table(title=f"{result.n_segments} informant segments, {seeds} random states "
                        "per K")
    for column in ("K", "NPMI mean", "NPMI sd", "UMass mean", "stability", ""):
        table.add_column(column, justify="right")
    for row in result.table.itertuples():
        table.add_row(str(row.k), f"{row.npmi_mean:.3f}", f"{row.npmi_sd:.3f}",
                      f"{row.umass_mean:.2f}", f"{row.stability:.3f}",
                      "← chosen" if row.selected else "")
    out_console.print(table)
    out_console.print(f"chosen K = {result.chosen_k} (stability >= 0.6, then the smallest K "
                      "within one NPMI sd of the best); set topics.num_topics to use it",
                      markup=False)
    out_console.print(f"table written to {result.path}", markup=False)
    raise typer.Exit(1 if result.problems else 0)


@app.command("export-qdpx")
def export_qdpx(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", show_default=False,
                                   help="Run folder written by 'themepipe run'."),
    out: Path = typer.Option(..., "--out", "-o", help="The .qdpx file to write."),
    redact: Optional[bool] = typer.Option(
        None, "--redact/--no-redact",
        help="Pseudonymise names (default: the run's privacy.redact)."),
) -> None:
    """Export a run as a REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA, QualCoder.

    Themes become codes, informants cases, transcripts text sources; the classifier's
    codings are by the user 'themepipe (machine)', gold codes by 'gold codes (human)'.

    Example: themepipe export-qdpx runs/kajigelem -o kajigelem.qdpx
    """
    from .qdpx import export_qdpx as export
    from .qdpx.export import check_target

    with _errors_to_exit():
        check_target(out, run_dir)  # never over a run's link, folder or versions
        summary = export(run_dir, out, redact=redact)
    for note in summary.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    out_console.print(
        f"{summary.path}: {summary.n_sources} sources, {summary.n_cases} cases, "
        f"{summary.n_codes} codes, {summary.n_machine_codings} machine and "
        f"{summary.n_gold_codings} gold codings"
        + ("; names pseudonymised" if summary.redacted else "; NOT pseudonymised"),
        markup=False)


@app.command("import-qdpx")
def import_qdpx(
    config: Path = CONFIG_ARG,
    project: Path = typer.Argument(..., metavar="PROJECT", show_default=False,
                                   help="The .qdpx file exported by a QDA program."),
    out: Path = typer.Option(..., "--out", "-o", help="Codes CSV to write (transcript, "
                             "turn_index, themes, coder)."),
    include_machine: bool = typer.Option(False, "--include-machine",
                                         help="Also import the machine user's codings."),
    set_: Optional[list[str]] = SET_OPT,
) -> None:
    """Import human codings from a REFI-QDA project (.qdpx) as a codes table.

    Codings are aligned to the corpus's turns by character overlap; code names map to
    themes by qdpx.code_map, theme id or label. Codings that match no turn are listed.

    Example: themepipe import-qdpx configs/kajigelem.yaml coded.qdpx -o codes_nvivo.csv
    """
    from collections import Counter

    from .qdpx import import_qdpx as run_import
    from .qdpx.importer import write_codes

    with _errors_to_exit():
        cfg = _load(config, set_)
        result = run_import(cfg, project, include_machine=include_machine,
                            config_path=config)
        write_codes(result.codes, out)
    kinds = Counter(source["text"] for source in result.sources)
    err_console.print(f"{len(result.sources)} sources matched to transcripts ("
                      + ", ".join(f"{n} {kind} text" for kind, n in sorted(kinds.items()))
                      + ")", soft_wrap=True)
    for source in result.sources:  # say how positions were read where it was not obvious
        if source["notes"] or source["text"] == "edited":
            err_console.print(f"  {escape(source['name'])} -> {escape(source['transcript'])}: "
                              f"{escape(source['notes'] or 'text edited')}; positions read "
                              f"as {escape(source['convention'])}", soft_wrap=True)
    _print_problems(result.problems)
    c = result.counts
    out_console.print(f"{len(result.codes)} coded turns written to {out} ({c['imported']} of "
                      f"{c['codings']} codings imported; {c['machine_skipped']} machine "
                      f"codings skipped, {c['unmapped']} with unmapped codes, "
                      f"{c['unmatched']} matching no turn)", markup=False)
    raise typer.Exit(1 if result.problems else 0)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
