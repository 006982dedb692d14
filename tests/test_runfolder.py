import os

import pandas as pd
import pytest

from themepipe.errors import OutputError
from themepipe.runfolder import RunFolder, versions_dir


def _run(out, value):
    with RunFolder(out, keep=2) as folder:
        folder.write_csv("t.csv", pd.DataFrame({"x": [value], "y": [0.1234567]}))
        folder.write_text("sources/a/b.txt", "teks\n")
    return folder


def test_runfolder_publishes_complete_run_atomically(tmp_path):
    out = tmp_path / "runs" / "study"
    _run(out, 1)
    assert out.is_symlink()
    assert (out / "t.csv").read_text() == "x,y\n1,0.123457\n"
    assert (out / "sources" / "a" / "b.txt").read_text() == "teks\n"
    first = os.readlink(out)
    _run(out, 2)
    assert os.readlink(out) != first
    assert (out / "t.csv").read_text().startswith("x,y\n2,")


def test_runfolder_failure_keeps_previous_run(tmp_path):
    out = tmp_path / "study"
    _run(out, 1)
    with pytest.raises(RuntimeError):
        with RunFolder(out) as folder:
            folder.write_text("t.csv", "half")
            raise RuntimeError("boom")
    assert (out / "t.csv").read_text().startswith("x,y\n1,")
    assert not list(versions_dir(out).glob("*.partial"))


def test_runfolder_keeps_only_recent_versions(tmp_path):
    out = tmp_path / "study"
    for value in range(4):
        _run(out, value)
    assert len(list(versions_dir(out).iterdir())) == 2
    assert (out / "t.csv").read_text().startswith("x,y\n3,")


def test_runfolder_refuses_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match="T501"):
        with RunFolder(out):
            pass
    assert (out / "thesis.docx").read_text() == "precious"


def test_runfolder_empty_folder_is_replaced(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    _run(out, 5)
    assert out.is_symlink()


def test_runfolder_replace_file_is_all_or_nothing(tmp_path):
    from themepipe.runfolder import replace_file

    target = tmp_path / "table.csv"
    target.write_text("old\n")
    assert replace_file(target, lambda tmp: tmp.write_text("new\n")) == target
    assert target.read_text() == "new\n"

    def fails(tmp):
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        replace_file(target, fails)
    assert target.read_text() == "new\n"  # the old content, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]  # no temp left
