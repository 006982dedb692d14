"""REFI-QDA export and import: schema, reproducibility, round trip, other tools' projects."""

import hashlib
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themepipe.cli import app
from themepipe.config import load_config
from themepipe.errors import InputError
from themepipe.qdpx import export_qdpx, import_qdpx, validate_project
from themepipe.qdpx.project import HUMAN_USER, MACHINE_USER, NS, schema_path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "kajigelem.yaml"
FOREIGN = ROOT / "tests" / "fixtures" / "qdpx"
SHARED_XSD = ROOT.parent / "shared" / "data" / "refi-qda" / "Project.xsd"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ET_NS = {"q": NS}


@pytest.fixture(scope="module")
def run_dir(bundled_run):
    return Path(bundled_run.out)


@pytest.fixture(scope="module")
def segments(run_dir):
    return pd.read_csv(run_dir / "segments.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    """The bundled run exported with redaction on and off."""
    folder = tmp_path_factory.mktemp("qdpx")
    return {redact: export_qdpx(run_dir, folder / f"redact-{redact}.qdpx", redact=redact)
            for redact in (True, False)}


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def parse(qde: bytes):
    from xml.etree import ElementTree as ET

    return ET.fromstring(qde)


def gold_sets(frame: pd.DataFrame, column: str):
    """(transcript, turn, theme) set and the set of turns coded none."""
    coded = frame[frame[column] != ""]
    themes = {(t, int(i), th) for t, i, cell in zip(coded["transcript"], coded["turn_index"],
                                                     coded[column])
              for th in cell.split(";") if th != "none"}
    none = {(t, int(i)) for t, i, cell in zip(coded["transcript"], coded["turn_index"],
                                              coded[column]) if cell == "none"}
    return themes, none


def test_qdpx_bundled_schema_is_the_published_one():
    if not SHARED_XSD.is_file():
        pytest.skip("../shared/data/refi-qda/Project.xsd is not available here")
    assert schema_path().read_bytes() == SHARED_XSD.read_bytes()


@pytest.mark.parametrize("redact", [True, False])
def test_qdpx_export_validates_against_project_xsd(exported, redact):
    files = members(exported[redact].path)
    assert validate_project(files["project.qde"]) == []
    assert len([n for n in files if n.startswith("sources/")]) == exported[redact].n_sources


def test_qdpx_validation_catches_a_broken_project():
    broken = (f'<Project xmlns="{NS}" name="x"><Users><User guid="not-a-guid"/></Users>'
              "</Project>").encode()
    errors = validate_project(broken)
    assert len(errors) == 1 and "guid" in errors[0]


def test_qdpx_export_is_reproducible(run_dir, exported, tmp_path):
    again = export_qdpx(run_dir, tmp_path / "again.qdpx", redact=True)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest()
              for p in (exported[True].path, again.path)]
    assert digest[0] == digest[1]


@pytest.mark.parametrize("redact", [True, False])
def test_qdpx_export_selections_cover_the_segments(run_dir, segments, exported, redact):
    from themepipe.privacy import Pseudonymiser

    files = members(exported[redact].path)
    root = parse(files["project.qde"])
    users = {u.get("name"): u.get("guid") for u in root.iterfind("q:Users/q:User", ET_NS)}
    assert set(users) == {MACHINE_USER, HUMAN_USER}
    codes = {c.get("guid"): c for c in root.iter(f"{{{NS}}}Code")}
    names = [c.get("name") for c in codes.values()]
    theme_ids = [c[2:] for c in segments.columns if c.startswith("p_")]
    assert names == theme_ids + ["none"]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c.get("color")) for c in codes.values())
    for element in root.iter():
        for attr in ("guid", "targetGUID", "creatingUser"):
            if element.get(attr):
                assert GUID.match(element.get(attr)), element.get(attr)
    informants = pd.read_csv(run_dir / "informants.csv", dtype=str, keep_default_na=False)
    pseudonymiser = Pseudonymiser.from_informants(informants)
    by_id = segments.set_index("segment_id")
    version = (pd.read_json(run_dir / "manifest.json", typ="series")["model"]["version"])
    shown_as = {pseudonymiser.redact(t) if redact else t: t for t in set(segments["transcript"])}
    expected_text = {}
    n_machine = n_gold = 0
    for source in root.iterfind("q:Sources/q:TextSource", ET_NS):
        transcript = shown_as[source.get("name")]
        path = source.get("plainTextPath")
        assert path == f"internal://{source.get('guid')}.txt"
        raw = files[f"sources/{source.get('guid')}.txt"]
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
        text = raw.decode("utf-8")
        for selection in source.iterfind("q:PlainTextSelection", ET_NS):
            label, theme = selection.get("name").rsplit(" ", 1)
            segment_id = transcript + label[len(source.get("name")):]
            row = by_id.loc[segment_id]
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            if segment_id not in expected_text:
                expected_text[segment_id] = (pseudonymiser.redact(row["text"]) if redact
                                             else row["text"])
            assert text[start:end] == expected_text[segment_id]
            user = selection.get("creatingUser")
            coding = selection.find("q:Coding", ET_NS)
            assert coding.get("creatingUser") == user
            assert codes[coding.find("q:CodeRef", ET_NS).get("targetGUID")].get("name") == theme
            description = selection.find("q:Description", ET_NS).text
            if user == users[MACHINE_USER]:
                n_machine += 1
                assert theme in row["pred_themes"].split(";")
                assert version in description
                if theme != "none":
                    assert f"p({theme}) = {float(row['p_' + theme]):.6f}" in description
            else:
                n_gold += 1
                assert theme in row["gold_themes"].split(";")
    informant = segments[segments["role"] == "informant"]
    assert n_machine == sum(len(c.split(";")) for c in informant["pred_themes"] if c)
    assert n_gold == sum(len(c.split(";")) for c in informant["gold_themes"] if c)
    assert n_gold == exported[redact].n_gold_codings > 500


def test_qdpx_export_cases_carry_informant_attributes(run_dir, exported):
    root = parse(members(exported[True].path)["project.qde"])
    variables = {v.get("guid"): v.get("name") for v in root.iterfind("q:Variables/q:Variable",
                                                                      ET_NS)}
    assert {"group", "dusun", "gender", "jabatan"} <= set(variables.values())
    assert "name" not in variables.values()
    informants = pd.read_csv(run_dir / "informants.csv", dtype=str, keep_default_na=False)
    cases = root.findall("q:Cases/q:Case", ET_NS)
    assert sorted(c.get("name") for c in cases) == sorted(set(informants["informant_id"]))
    inf01 = next(c for c in cases if c.get("name") == "inf01")
    values = {variables[v.find("q:VariableRef", ET_NS).get("targetGUID")]:
              v.find("q:TextValue", ET_NS).text for v in inf01.iterfind("q:VariableValue", ET_NS)}
    assert values["group"] == "pemerintah_desa" and values["dusun"] == "Jipurwo"
    assert len(inf01.findall("q:SourceRef", ET_NS)) == 1
    fgd = next(c for c in cases if c.get("name") == "inf24")  # speaks in a focus group only
    assert fgd.findall("q:SourceRef", ET_NS) == [] and fgd.findall("q:SelectionRef", ET_NS)


@pytest.mark.parametrize("redact", [True, False])
def test_qdpx_round_trip_gives_the_gold_codes_back(segments, exported, redact):
    result = import_qdpx(load_config(CONFIG), exported[redact].path, config_path=CONFIG)
    informant = segments[segments["role"] == "informant"]
    want_themes, want_none = gold_sets(informant, "gold_themes")
    got_themes, got_none = gold_sets(result.codes, "themes")
    assert len(want_themes) > 400 and len(want_none) > 50
    assert got_themes == want_themes
    assert got_none == want_none
    assert set(result.codes["coder"]) == {HUMAN_USER}
    assert result.counts["unmatched"] == 0 and result.counts["unmapped"] == 0
    assert result.counts["machine_skipped"] == exported[redact].n_machine_codings
    kinds = {s["text"] for s in result.sources}
    assert kinds == {"pseudonymised" if redact else "original"}
    assert [p for p in result.problems if p.code.startswith("T7")] == []


def test_qdpx_round_trip_include_machine_gives_predictions(segments, exported):
    result = import_qdpx(load_config(CONFIG), exported[True].path, include_machine=True)
    machine = result.codes[result.codes["coder"] == MACHINE_USER]
    informant = segments[segments["role"] == "informant"]
    assert gold_sets(machine, "themes") == gold_sets(informant, "pred_themes")


def test_qdpx_import_foreign_project():
    config = load_config(FOREIGN / "config.yaml")
    result = import_qdpx(config, FOREIGN / "foreign.qdpx")
    rows = set(map(tuple, result.codes.astype(str).to_numpy()))
    assert rows == {
        ("pasar_01.txt", "3", "sosialisasi", "Ratna"),
        ("pasar_01.txt", "5", "sdm_pengurus", "Ratna"),
        ("pasar_02.txt", "3", "perencanaan;politis", "Ratna"),  # nested code inherits
        ("pasar_02.txt", "5", "sinkronisasi", "Ratna"),
        ("sawah_03.txt", "1", "respon_masyarakat", "Ratna"),  # one selection, two turns
        ("sawah_03.txt", "2", "respon_masyarakat", "Ratna"),
        ("sawah_03.txt", "2", "respon_masyarakat", "Budi"),
    }
    problems = {p.code: p.message for p in result.problems}
    assert set(problems) == {"T722", "T723"}
    assert "Catatan menarik" in problems["T722"]
    assert "interviewer" in problems["T723"]
    assert result.counts == {"codings": 9, "machine_skipped": 0, "imported": 7,
                             "unmatched": 1, "unmapped": 1}
    sources = {s["transcript"]: s for s in result.sources}
    assert sources["pasar_01.txt"]["notes"] == "UTF-8 BOM; CRLF line ends"
    assert sources["pasar_01.txt"]["convention"].startswith("code points of the stored text")
    assert sources["pasar_02.txt"]["convention"].startswith("code points after CRLF -> LF")
    assert sources["sawah_03.txt"]["name"] == "sawah_03"


def test_qdpx_foreign_fixture_matches_its_generator(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_qdpx", FOREIGN / "make_qdpx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path / "foreign.qdpx")
    assert members(tmp_path / "foreign.qdpx") == members(FOREIGN / "foreign.qdpx")
    files = members(FOREIGN / "foreign.qdpx")
    assert "project.qde" not in files
    assert validate_project(files["Proyek Gerabah.qde"]) == []


def test_qdpx_import_code_map_to_unknown_theme_is_a_config_error():
    config = load_config(FOREIGN / "config.yaml", ["qdpx.code_map={Koordinasi: koordinasi}"])
    with pytest.raises(Exception, match="T730.*koordinasi"):
        import_qdpx(config, FOREIGN / "foreign.qdpx")


def test_qdpx_import_edited_source_is_aligned_and_reported(tmp_path):
    """A source edited in the QDA program (a word inserted) still lands on its turns."""
    files = members(FOREIGN / "foreign.qdpx")
    qde = files["Proyek Gerabah.qde"].decode()
    name = next(n for n in files if n.startswith("sources/")
                and b"Tono" in files[n])
    text = files[name].decode()
    files[name] = ("Catatan pewawancara: rekaman kedua.\n" + text).encode()
    shift = len("Catatan pewawancara: rekaman kedua.\n")
    guid = name.split("/")[1][:-4]
    block = qde[qde.index(f'<TextSource guid="{guid}"'):]
    block = block[:block.index("</TextSource>")]
    moved = re.sub(r'(startPosition|endPosition)="(\d+)"',
                   lambda m: f'{m.group(1)}="{int(m.group(2)) + shift}"', block)
    files["Proyek Gerabah.qde"] = qde.replace(block, moved).encode()
    path = tmp_path / "edited.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    result = import_qdpx(load_config(FOREIGN / "config.yaml"), path)
    sawah = result.codes[result.codes["transcript"] == "sawah_03.txt"]
    assert sorted(zip(sawah["turn_index"], sawah["coder"])) == [(1, "Ratna"), (2, "Budi"),
                                                                 (2, "Ratna")]
    assert "T725" in {p.code for p in result.problems}


def test_qdpx_cli_export_then_import(run_dir, tmp_path):
    runner = CliRunner()
    project = tmp_path / "kajigelem.qdpx"
    result = runner.invoke(app, ["export-qdpx", str(run_dir), "-o", str(project)])
    assert result.exit_code == 0, result.output
    assert "names pseudonymised" in result.output
    codes = tmp_path / "codes.csv"
    result = runner.invoke(app, ["import-qdpx", str(CONFIG), str(project), "-o", str(codes)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(codes)
    assert list(table.columns) == ["transcript", "turn_index", "themes", "coder"]
    assert table.equals(table.sort_values(["transcript", "turn_index", "coder"])
                        .reset_index(drop=True))
    # the written table is a valid codes table for train/run
    from themepipe.codebook import load_codebook
    from themepipe.ingest import load_codes

    assert len(load_codes(codes, load_codebook(ROOT / "configs" / "codebook.yaml"))) == len(table)


def test_qdpx_run_writes_project_only_when_configured(bundled_run):
    assert bundled_run.manifest["config"]["report"]["qdpx"] is False
    assert not (Path(bundled_run.out) / "project.qdpx").exists()


def test_qdpx_run_writes_project_when_configured(tmp_path):
    from themepipe.pipeline import run

    config_path = ROOT / "tests" / "fixtures" / "mini" / "config.yaml"
    result = run(load_config(config_path, ["report.qdpx=true"]), tmp_path / "run",
                 config_path=config_path)
    files = members(Path(result.out) / "project.qdpx")
    assert validate_project(files["project.qde"]) == []
    assert not any(b"Joyo" in data or b"Rini" in data for data in files.values())


# -- bad input: one line naming the file and the fix ----------------------------------
def _cli_error(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_bad_input_qdpx_not_a_zip(tmp_path):
    fake = tmp_path / "coded.qdpx"
    fake.write_text("<Project/>", encoding="utf-8")
    line = _cli_error(["import-qdpx", str(CONFIG), str(fake), "-o", str(tmp_path / "c.csv")])
    assert line.startswith("error [T701]") and "coded.qdpx" in line
    assert "export the project" in line
    assert not (tmp_path / "c.csv").exists()


def _bomb(path: Path, megabytes: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", f'<Project xmlns="{NS}" name="x"/>')
        with archive.open("sources/AAAA.txt", "w", force_zip64=True) as handle:
            block = b"\0" * 2**20
            for _ in range(megabytes):
                handle.write(block)


@pytest.mark.parametrize("megabytes, overrides, needle", [
    (40, [], "compression ratio"),
    (3, ["--set", "qdpx.max_total_mb=2", "--set", "qdpx.max_compression_ratio=100000"],
     "would unpack to 3.0 MiB"),
])
def test_bad_input_qdpx_zip_bomb(tmp_path, monkeypatch, megabytes, overrides, needle):
    bomb = tmp_path / "bomb.qdpx"
    _bomb(bomb, megabytes)
    assert bomb.stat().st_size < megabytes * 2**20 / 100

    def no_extract(*args, **kwargs):
        raise AssertionError("a member was extracted before the limits were checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_extract)
    line = _cli_error(["import-qdpx", str(CONFIG), str(bomb), "-o", str(tmp_path / "c.csv"),
                       *overrides])
    assert line.startswith("error [T702]") and "bomb.qdpx" in line and needle in line
    assert "refused before extracting" in line


def test_bad_input_qdpx_no_project_file(tmp_path):
    path = tmp_path / "two.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.qde", "<Project/>")
        archive.writestr("b.qde", "<Project/>")
    with pytest.raises(InputError, match="T703.*a.qde, b.qde"):
        import_qdpx(load_config(FOREIGN / "config.yaml"), path)


def test_bad_input_qdpx_entities_refused(tmp_path):
    path = tmp_path / "lol.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("p.qde", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                         f'<Project xmlns="{NS}" name="&a;"/>')
    with pytest.raises(InputError, match="T705"):
        import_qdpx(load_config(FOREIGN / "config.yaml"), path)


def test_bad_input_export_qdpx_not_a_run_folder(tmp_path):
    line = _cli_error(["export-qdpx", str(tmp_path), "-o", str(tmp_path / "p.qdpx")])
    assert line.startswith("error [T710]") and "manifest.json is missing" in line


# -- output paths: never a link, a folder or a place inside a run folder ---------------
def test_bad_input_export_qdpx_onto_run_folder_link(run_dir, tmp_path):
    from themepipe.runfolder import versions_dir

    link = tmp_path / "run"
    link.symlink_to(run_dir.resolve())
    line = _cli_error(["export-qdpx", str(link), "-o", str(link)])
    assert line.startswith("error [T740]") and "is a link" in line
    assert link.is_symlink() and (link / "manifest.json").is_file()
    # a real run folder: its link, a file inside the version, the versions folder
    assert Path(run_dir).is_symlink()
    for out, code in [(run_dir, "T740"), (Path(run_dir) / "p.qdpx", "T742"),
                      (versions_dir(Path(run_dir)) / "p.qdpx", "T742"),
                      (tmp_path, "T741")]:
        line = _cli_error(["export-qdpx", str(run_dir), "-o", str(out)])
        assert line.startswith(f"error [{code}]"), (out, line)
    assert Path(run_dir).is_symlink() and not (Path(run_dir) / "p.qdpx").exists()
    assert not (versions_dir(Path(run_dir)) / "p.qdpx").exists()


def test_qdpx_export_replaces_a_regular_file_atomically(run_dir, tmp_path):
    out = tmp_path / "p.qdpx"
    out.write_text("old", encoding="utf-8")
    result = CliRunner().invoke(app, ["export-qdpx", str(run_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert zipfile.is_zipfile(out) and "project.qde" in members(out)
    assert [p.name for p in tmp_path.iterdir()] == ["p.qdpx"]  # no partial file left


def test_bad_input_import_qdpx_unwritable_output(exported, tmp_path):
    project = str(exported[True].path)
    line = _cli_error(["import-qdpx", str(CONFIG), project, "-o",
                       str(tmp_path / "nonexistent" / "x.csv")])
    assert line.startswith("error [T744]") and "x.csv" in line and "writable -o" in line
    line = _cli_error(["import-qdpx", str(CONFIG), project, "-o", str(tmp_path)])
    assert line.startswith("error [T741]") and "is a folder" in line


def _rewrite_qde(source: Path, target: Path, edit) -> None:
    files = members(source)
    files["project.qde"] = edit(files["project.qde"].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def test_qdpx_import_names_missing_code_and_non_integer_positions(exported, tmp_path):
    from themepipe.qdpx.project import HUMAN_USER_GUID

    human = re.compile(r'<PlainTextSelection [^>]*startPosition="(\d+)"[^>]*creatingUser="'
                       + HUMAN_USER_GUID + r'"[^>]*>.*?<CodeRef targetGUID="([^"]+)"',
                       re.DOTALL)

    def edit(qde: str) -> str:
        first, second = list(human.finditer(qde))[:2]
        bad_ref = second.group(0).replace(second.group(2), "deadbeef-0000-0000-0000-00000000"
                                          "0000")
        bad_pos = first.group(0).replace(f'startPosition="{first.group(1)}"',
                                         'startPosition="abc"')
        return (qde[:first.start()] + bad_pos + qde[first.end():second.start()] + bad_ref
                + qde[second.end():])

    project = tmp_path / "broken.qdpx"
    _rewrite_qde(exported[False].path, project, edit)
    result = import_qdpx(load_config(CONFIG), project)
    messages = {p.code: p.message for p in result.problems}
    assert "coding(s) refer to code GUID deadbeef-0000-0000-0000-000000000000, which is " \
           "not in the project's codebook" in messages["T745"]
    assert messages["T745"].startswith("1 coding(s)")
    assert "startPosition 'abc' is not an integer" in messages["T723"]
    assert "-1" not in messages["T723"]
    assert result.counts["unmapped"] == 1 and result.counts["unmatched"] == 1
