"""CLI: help texts, README coverage, one-line errors and exit codes."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from themepipe.cli import app
from themepipe.config import config_reference

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()
COMMANDS = sorted(cmd.name or cmd.callback.__name__.replace("_", "-")
                  for cmd in app.registered_commands)


def test_cli_every_command_has_help_with_example_and_is_in_readme():
    assert {"run", "train", "preprocess"} <= set(COMMANDS)
    for name in COMMANDS:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example: themepipe " + name in " ".join(result.output.split()), name
        assert f"### `themepipe {name}" in README, f"{name} missing from README"


def test_cli_readme_config_reference_is_current():
    match = re.search(r"<!-- config-reference:start -->\n(.*)<!-- config-reference:end -->",
                      README, re.S)
    assert match, "README lacks the config reference markers"
    assert match.group(1) == config_reference(), (
        "README config reference is stale; regenerate with "
        "python -m themepipe.config --readme")


@pytest.mark.parametrize("args, needle", [
    (["run", "configs/kajigelem.yaml", "--set", "topics.num_topic=8"], "topics.num_topic"),
    (["run", "configs/nope.yaml"], "T004"),
    (["run", "configs/kajigelem.yaml", "--set", "topics.num_topics=3"], "num_topics"),
    (["train", "configs/kajigelem.yaml", "--set", "corpus.path=/nonexistent"], "T140"),
])
def test_cli_user_errors_exit_2_with_one_line(args, needle, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args + (["--out", str(tmp_path / "o")]
                                        if args[0] == "run" else []))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any(needle in line and line.startswith("error [T") for line in lines), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
    if args[1] == "configs/nope.yaml":  # fails before any stage: the error is the output
        assert result.output.startswith("error [T004]"), repr(result.output)


def test_cli_interrupted_run_says_so_in_one_line(monkeypatch, tmp_path):
    import themepipe.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(themepipe.pipeline, "run", interrupted)
    result = runner.invoke(app, ["run", str(ROOT / "configs" / "kajigelem.yaml"), "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 130
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("interrupted: nothing was written")
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
