"""Command-line interface (thin: parse, call the library, print, map errors to exit codes).

Exit codes: 0 clean; 1 finished but skipped or warned about inputs; 2 nothing written
(usage, config or input error).  The project's own errors print one line, no traceback.
"""

from __future__ import annotations

import json
import os
import sys
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
    """Draws one status line per stage on stderr, with a progress bar for long stages."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)

        self.console = console
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=console, transient=True)
        self.task = None

    def stage_start(self, stage: str, total: int | None = None) -> None:
        if self.console.is_terminal:  # a live bar only where it can be redrawn
            self.progress.start()
            self.task = self.progress.add_task(f"{stage:<15}", total=total)

    def advance(self, done: int, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)

    def stage_end(self, stage: str, summary: str, seconds: float) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
            self.progress.stop()
        self.console.print(f"[green]✓[/] {stage:<15} {escape(summary)} "
                           f"[dim]({seconds:.1f} s)[/]")

    def close(self) -> None:
        self.progress.stop()


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
) -> None:
    """Run the whole pipeline and write the run folder.

    Example: themepipe run configs/kajigelem.yaml --out runs/kajigelem
    """
    from .pipeline import run as run_pipeline

    reporter = ConsoleReporter(err_console)
    try:
        cfg = _load(config, set_)
        target = out if out is not None else Path("runs") / config.stem
        result = run_pipeline(cfg, target, config_path=config, strict=strict,
                              reporter=reporter)
    except Exception as error:  # noqa: BLE001 - _fail prints one line
        reporter.close()
        _fail(error)
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
    try:
        cfg = _load(config, set_)
        result = train_model(cfg, codes or [], reporter=reporter)
    except Exception as error:  # noqa: BLE001 - _fail prints one line
        reporter.close()
        _fail(error)
    _print_problems(result["problems"])
    out_console.print(f"model written to {result['version_dir']}", markup=False)
    raise typer.Exit(1 if result["problems"] else 0)


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

    try:
        section = _load(config, set_).preprocess if config else PreprocessConfig()
        records = Preprocessor.from_config(section).token_records(text)
    except Exception as error:  # noqa: BLE001 - _fail prints one line
        _fail(error)
    for record in records:
        if as_json:
            out_console.print(json.dumps(record, ensure_ascii=False), soft_wrap=True,
                              markup=False)
        else:
            out_console.print(f"{record['start']:>5}-{record['end']:<5} {record['text']:<18} "
                              f"{record['norm']:<18} {record['stem']:<15}"
                              f"{' stop' if record['is_stop'] else ''}", markup=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
