"""report.html and report.xlsx: sections, numbers equal to the CSVs, errors, headless render."""

import json
import os
import re
import shutil
import struct
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from themepipe.errors import StageError
from themepipe.privacy import Pseudonymiser
from themepipe.report import SCHEMA, build_html, load_report_tables, write_reports
from themepipe.report.html import fmt_interval, fmt_p, fmt_share
from themepipe.report.xlsx import REDACTED_COLUMNS
from themepipe.runfolder import write_csv

GROUPS = ["petani", "pengrajin", "perangkat"]
THEMES = ["modal", "pasar"]
CARD = {"estimator": "themepipe.classify.ThemeClassifier", "mode": "multilabel",
        "n_segments": 10,
        "cv_metrics": {"themepipe": {"n_splits": 5, "macro_f1": {"mean": 0.612, "sd": 0.041}},
                       "keyword_baseline": {"macro_f1": {"mean": 0.301}}}}
LABELS = {"modal": "Kekurangan modal", "pasar": "Akses pasar sempit"}


def _tables() -> dict[str, pd.DataFrame]:
    """Small tables with exactly the schema's columns; 'modal' differs, 'pasar' does not."""
    share = {("petani", "modal"): 0.1, ("pengrajin", "modal"): 0.45,
             ("perangkat", "modal"): 0.2, ("petani", "pasar"): 0.3,
             ("pengrajin", "pasar"): 0.25, ("perangkat", "pasar"): 0.35}
    dist = pd.DataFrame([{
        "group": g, "theme": t, "n_informants": 4, "n_informants_with_theme": 3,
        "n_segments": 20, "n_segments_with_theme": round(20 * share[g, t]),
        "share_segments": share[g, t], "ci_low": max(0.0, share[g, t] - 0.081234),
        "ci_high": share[g, t] + 0.0961, "share_codings": 0.5,
        "mean_probability": 0.2 + share[g, t] / 2, "source": "gold+model"}
        for g in GROUPS for t in THEMES])
    comparison = pd.DataFrame({"theme": THEMES, "n_informants": [12, 12], "n_groups": [3, 3],
                               "statistic": [0.123456, 0.01], "p_value": [0.006, 0.41],
                               "q_value": [0.012, 0.41],
                               "n_permutations": [999, 999]})
    pairs = pd.DataFrame([
        ("petani", "pengrajin", "modal", 0.1, 0.45, -0.35, 0.1225, 0.002, 0.012),
        ("petani", "perangkat", "modal", 0.1, 0.2, -0.1, 0.01, 0.3, 0.6),
        ("pengrajin", "perangkat", "modal", 0.45, 0.2, 0.25, 0.0625, 0.04, 0.08),
        ("petani", "pengrajin", "pasar", 0.3, 0.25, 0.05, 0.0025, 0.7, 0.8),
        ("petani", "perangkat", "pasar", 0.3, 0.35, -0.05, 0.0025, 0.7, 0.8),
        ("pengrajin", "perangkat", "pasar", 0.25, 0.35, -0.1, 0.01, 0.5, 0.8)],
        columns=SCHEMA["group_pairs"])
    distances = pd.DataFrame([("petani", "pengrajin", 0.21), ("petani", "perangkat", 0.05),
                              ("pengrajin", "perangkat", 0.17)],
                             columns=SCHEMA["group_distances"])
    coding = pd.DataFrame([(g, t, 10, 9.5, 0.25) for g in GROUPS for t in THEMES],
                          columns=SCHEMA["coding_table"])
    test = pd.DataFrame([{"chi_square": 7.5, "dof": 2, "p_value": 0.0235, "cramers_v": 0.18,
                          "note": "descriptive only: codings of one informant are not "
                                  "independent"}])
    topics = pd.DataFrame({"topic": [0, 1, 2], "anchored_theme": ["modal", "pasar", ""],
                           "top_terms": ["modal:0.2 pinjam:0.1", "pasar:0.3 jual:0.1",
                                         "sutrisno:0.2 panen:0.1"],
                           "npmi": [0.12, -0.05, 0.3]})
    prevalence = pd.DataFrame([(g, k, ["modal", "pasar", ""][k], 0.3, 0.2, 0.4, 4)
                               for g in GROUPS for k in range(3)],
                              columns=SCHEMA["topic_prevalence"])
    quotes = pd.DataFrame([
        ("petani", "modal", 1, "a.txt:3", "inf01", "a.txt", 10, 60, "gold", 0.91,
         "Modalnya <script>alert(1)</script> kurang & mahal, Pak [inf02]."),
        ("pengrajin", "modal", 1, "b.txt:1", "inf05", "b.txt", 0, 40, "model", 0.876,
         "=HYPERLINK(\"x\") pinjaman bank susah"),
        ("pengrajin", "modal", 2, "b.txt:5", "inf06", "wawancara_Sutrisno.txt", 5, 30,
         "gold", 0.4, "Ndak ada modal."),
        ("perangkat", "pasar", 1, "c.txt:2", "inf09", "c.txt", 3, 33, "model", 0.7,
         "Pasarnya jauh sekali.")], columns=SCHEMA["quotes"])
    per_informant = pd.DataFrame([(f"inf0{i}", g, t, 5, i % 3, (i % 3) / 5)
                                  for i, g in enumerate(GROUPS) for t in THEMES],
                                 columns=SCHEMA["informant_themes"])
    return {"theme_distribution": dist, "informant_themes": per_informant,
            "group_comparison": comparison,
            "group_pairs": pairs, "group_distances": distances, "coding_table": coding,
            "coding_test": test, "topics": topics, "topic_prevalence": prevalence,
            "quotes": quotes}


MANIFEST = {
    "themepipe_version": "0.1.0", "started": "2026-03-04T05:06:07+00:00",
    "config_file": {"path": "configs/studi_desa.yaml", "sha256": "0" * 64},
    "config": {"corpus": {"path": "/home/peneliti/data/studi/transkrip",
                          "format": "transcripts"},
               "compare": {"bootstrap": 200, "permutations": 999, "random_state": 7},
               "topics": {"model": "lda", "num_topics": 3, "seeded": True,
                          "random_state": 0, "coherence_topn": 10},
               "privacy": {"redact": True}, "segment": {"max_sentences": 0}},
    "counts": {"transcripts": 3, "turns": 41, "informants": 12, "segments": 41,
               "informant_segments": 60, "coded_segments": 10},
    "model": {"name": "tema-desa", "version": "20260101-000000-abcdef12"},
    "problems": [],
}


def make_run(folder: Path, drop: tuple[str, ...] = (), **replace) -> Path:
    """Write the constructed tables (minus ``drop``) and the manifest into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = _tables()
    tables.update(replace)
    for name, frame in tables.items():
        if name not in drop:
            write_csv(frame, folder / f"{name}.csv")
    (folder / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    return folder


class _Cells(HTMLParser):
    """Collect the text of heatmap cells and of every table's rows, by table id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.heat: dict[tuple[str, str], list[str]] = {}
        self._table = None
        self._cell = None
        self._span = None
        self._heat_key = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id")
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
            if "data-group" in attrs:
                self._heat_key = (attrs["data-group"], attrs["data-theme"])
                self.heat[self._heat_key] = []
        elif tag == "span" and self._heat_key is not None:
            self._span = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell, self._heat_key = None, None
        elif tag == "span" and self._span is not None:
            self.heat[self._heat_key].append("".join(self._span))
            self._span = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._span is not None:
            self._span.append(data)


def parse(page: str) -> _Cells:
    parser = _Cells()
    parser.feed(page)
    return parser


def assert_heatmap_matches(page: str, dist: pd.DataFrame) -> None:
    heat = parse(page).heat
    assert len(heat) == dist["share_segments"].notna().sum() > 0
    for _, row in dist.dropna(subset=["share_segments"]).iterrows():
        assert heat[(row["group"], row["theme"])] == [
            fmt_share(row["share_segments"]), fmt_interval(row["ci_low"], row["ci_high"])]


def assert_comparison_matches(page: str, comparison: pd.DataFrame) -> None:
    rows = parse(page).tables["comparison-table"][1:]
    assert len(rows) == len(comparison)
    for cells, (_, row) in zip(rows, comparison.iterrows()):
        assert cells[0].endswith(row["theme"])
        assert cells[4:6] == [fmt_p(row["p_value"]), fmt_p(row["q_value"])]
        assert cells[6] == ("yes" if row["q_value"] < 0.05 else "no")


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "run")


def _html(folder: Path, **kwargs) -> str:
    return build_html(load_report_tables(folder, card=CARD, theme_labels=LABELS), **kwargs)


def test_report_html_has_every_section(run_dir):
    page = _html(run_dir)
    for anchor in ('id="summary"', 'id="heatmap"', 'class="legend"', 'id="bars"',
                   'id="comparison-table"', 'id="readings"', 'id="pairs-table"',
                   'id="distance-table"', 'id="coding-table"', 'id="topics-table"',
                   'id="prevalence-table"', 'id="quotes"', 'id="methods"'):
        assert anchor in page, anchor
    assert page.count('<svg class="bars"') == len(THEMES)
    summary = dict(parse(page).tables["run-summary"])
    assert summary["Transcripts"] == "3" and summary["Informants"] == "12"
    assert summary["Model version"] == ("tema-desa 20260101-000000-abcdef12 (grouped "
                                        "cross-validation macro-F1 0.612 ± 0.041)")
    assert summary["Date"] == "2026-03-04 05:06 UTC"
    assert summary["Corpus"] == "studi/transkrip (transcripts)"  # no full local path
    assert "/home/peneliti" not in page
    methods = page[page.index('id="methods"'):]
    for fact in ("200 resamples, seed 7", "999 permutations", "Benjamini", "Jensen",
                 "descriptive only", "macro-F1 0.612", "0.301", "LDA with 3 topics", "NPMI"):
        assert fact in methods, fact


def test_report_numbers_match_the_csvs(run_dir):
    page = _html(run_dir)
    tables = _tables()
    assert_heatmap_matches(page, tables["theme_distribution"])
    assert_comparison_matches(page, tables["group_comparison"])
    assert "1.9–19.6%" in page  # petani, modal: 0.1 - 0.081234 .. 0.1 + 0.0961
    bars = re.findall(r'<desc id="bars-0-desc">(.*?)</desc>', page)[0]
    assert bars.startswith("petani: 10.0% (95% interval 1.9% to 19.6%); pengrajin: 45.0%")
    topics = parse(page).tables["topics-table"]
    assert topics[1] == ["0", "Kekurangan modal modal", "modal, pinjam", "0.120"]


def test_report_reading_names_the_group_that_mentions_a_theme_more(run_dir):
    page = _html(run_dir)
    readings = page[page.index('id="readings"'):page.index('id="comparison-table"')]
    assert "Kekurangan modal (modal)</strong> differs across the groups" in readings
    assert ("informants of pengrajin mention it more than those of petani "
            "(45.0% vs 10.0%, q = 0.0120)") in readings
    assert "pasar" not in readings  # q = 0.41: no sentence


def test_report_reading_says_plainly_when_nothing_differs(tmp_path):
    comparison = _tables()["group_comparison"].assign(q_value=[0.06, 0.41])
    page = _html(make_run(tmp_path / "run", group_comparison=comparison))
    assert "No theme's share of segments differs significantly between the groups" in page
    assert "smallest q = 0.0600" in page


def test_report_reading_says_when_no_test_was_run(tmp_path):
    comparison = _tables()["group_comparison"].assign(p_value=float("nan"),
                                                      q_value=float("nan"), n_permutations=0)
    page = _html(make_run(tmp_path / "run", group_comparison=comparison))
    assert "No test was run" in page and "differs across the groups" not in page


def test_report_group_without_informants_prints_na(tmp_path):
    dist = _tables()["theme_distribution"]
    empty = dist[dist["group"] == "petani"].assign(
        group="pedagang", n_informants=0, n_informants_with_theme=0, n_segments=0,
        n_segments_with_theme=0, share_segments=float("nan"), ci_low=float("nan"),
        ci_high=float("nan"), share_codings=float("nan"), mean_probability=float("nan"))
    page = _html(make_run(tmp_path / "run", theme_distribution=pd.concat([dist, empty])))
    rows = parse(page).tables["heatmap"]
    assert rows[-1] == ["pedagang 0 informants, 0 segments", "n/a", "n/a"]
    assert "pedagang: no segments" in page  # in each bar chart's description


def test_report_heatmap_text_contrast_is_at_least_4_5():
    from themepipe.report.charts import _luminance, colour, text_colour

    for step in range(101):
        background = _luminance(colour(step / 100, 1.0))
        text = _luminance(text_colour(step / 100, 1.0))
        light, dark = max(background, text), min(background, text)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, step


def test_report_missing_optional_tables_are_stated(tmp_path):
    folder = make_run(tmp_path / "run", drop=("quotes", "group_pairs", "topics",
                                              "topic_prevalence", "coding_test"))
    written = write_reports(folder, card=CARD, theme_labels=LABELS)
    page = written[0].read_text(encoding="utf-8")
    for name in ("quotes.csv", "group_pairs.csv", "topics.csv", "coding_test.csv"):
        assert f"This run folder has no <code>{name}</code>" in page
    assert "group_pairs.csv is missing, so the direction is not tested" in page
    assert load_workbook(written[1]).sheetnames == [
        "summary", "theme_distribution", "informant_themes", "group_comparison",
        "group_distances", "coding_table"]


@pytest.mark.parametrize("name", sorted(SCHEMA))
@pytest.mark.parametrize("change", ["drop", "extra"])
def test_report_column_mismatch_is_a_one_line_error(tmp_path, name, change):
    frame = _tables()[name]
    frame = (frame.drop(columns=frame.columns[-1]) if change == "drop"
             else frame.assign(unexpected=1))
    folder = make_run(tmp_path / "run", **{name: frame})
    with pytest.raises(StageError) as err:
        write_reports(folder)
    assert err.value.code == "T650" and "\n" not in str(err.value)
    assert f"{name}.csv does not have the report's columns" in str(err.value)
    assert ("missing " if change == "drop" else "unexpected unexpected") in str(err.value)
    assert not (folder / "report.html").exists() and not (folder / "report.xlsx").exists()


def test_report_required_inputs_and_bad_numbers_are_errors(tmp_path):
    folder = make_run(tmp_path / "run", drop=("theme_distribution",))
    with pytest.raises(StageError, match=r"T651.*theme_distribution.csv is missing"):
        write_reports(folder)
    folder = make_run(tmp_path / "run2")
    (folder / "manifest.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(StageError, match="T651"):
        write_reports(folder)
    bad = _tables()["group_comparison"].astype({"q_value": object})
    bad.loc[1, "q_value"] = "banyak"
    with pytest.raises(StageError, match=r"T653.*group_comparison.csv:3: .*'banyak'"):
        write_reports(make_run(tmp_path / "run3", group_comparison=bad))


def test_report_html_escapes_text_and_loads_nothing(run_dir):
    page = _html(run_dir)
    assert "<script" not in page.lower()
    assert "Modalnya &lt;script&gt;alert(1)&lt;/script&gt; kurang &amp; mahal" in page
    assert re.findall(r"https?://[^\s\"')]+", page) == ["http://www.w3.org/2000/svg"] * (
        page.count("<svg"))
    assert not re.search(r"\s(src|srcset|action|data)=", page)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert "default-src 'none'" in page  # the page may fetch nothing, even if edited


def test_report_redacts_text_not_pseudonymised_upstream(run_dir):
    def redact(text):
        return re.sub(r"(?i)sutrisno", "[inf01]", text)

    written = write_reports(run_dir, redact=redact, card=CARD, theme_labels=LABELS)
    page = written[0].read_text(encoding="utf-8")
    assert "sutrisno" not in page.lower() and "[inf01], panen" in page
    assert "wawancara_[inf01].txt" in page
    with zipfile.ZipFile(written[1]) as archive:
        for member in archive.namelist():
            assert b"sutrisno" not in archive.read(member).lower(), member


def test_report_is_deterministic(tmp_path):
    first = write_reports(make_run(tmp_path / "a"), card=CARD, theme_labels=LABELS)
    second = write_reports(make_run(tmp_path / "b"), card=CARD, theme_labels=LABELS)
    for one, two in zip(first, second):
        assert one.read_bytes() == two.read_bytes(), one.name
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")] == []


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def test_report_xlsx_has_one_sheet_per_table_with_the_csv_values(run_dir):
    path = write_reports(run_dir, html=False, card=CARD)[0]
    assert path.name == "report.xlsx"
    sheets = pd.read_excel(path, sheet_name=None, keep_default_na=False, na_values=[""])
    assert list(sheets) == ["summary", *SCHEMA]
    for name in SCHEMA:
        expected = _read_csv(run_dir / f"{name}.csv")
        pd.testing.assert_frame_equal(sheets[name], expected, check_dtype=False)
    summary = dict(zip(sheets["summary"]["key"], sheets["summary"]["value"]))
    assert summary["model_version"] == "20260101-000000-abcdef12"
    assert float(summary["cv_macro_f1_mean"]) == 0.612
    quotes = load_workbook(path)["quotes"]
    formula_like = [c for c in quotes["K"] if str(c.value).startswith("=HYPERLINK")]
    assert len(formula_like) == 1 and formula_like[0].data_type == "s"


# --- the bundled corpus ------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled_report(bundled_run):
    """The bundled run's report.html, written by themepipe run (config report.html: true)."""
    folder = bundled_run.out.resolve()
    assert (folder / "report.html").is_file() and (folder / "report.xlsx").is_file()
    return folder


def test_report_bundled_run_matches_its_csvs(bundled_report):
    folder = bundled_report
    page = (folder / "report.html").read_text(encoding="utf-8")
    dist = _read_csv(folder / "theme_distribution.csv")
    assert len(dist) == 36
    assert_heatmap_matches(page, dist)
    assert_comparison_matches(page, _read_csv(folder / "group_comparison.csv"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    summary = dict(parse(page).tables["run-summary"])
    assert summary["Transcripts"] == str(manifest["counts"]["transcripts"])
    assert manifest["model"]["version"] in summary["Model version"]
    assert "macro-F1 0." in summary["Model version"]  # from the model card
    quotes = _read_csv(folder / "quotes.csv")
    assert page.count('<figure class="quote">') == len(quotes) > 0
    sheets = pd.read_excel(folder / "report.xlsx", sheet_name=None, keep_default_na=False,
                           na_values=[""])
    # Topic terms and transcript names are pseudonymised in the report (a topic's top
    # term can be an informant's short name); every other cell equals the CSV's.
    redact = Pseudonymiser.from_informants(_read_csv(folder / "informants.csv")).redact
    for name in SCHEMA:
        if (folder / f"{name}.csv").is_file():
            expected = _read_csv(folder / f"{name}.csv")
            for column in REDACTED_COLUMNS.get(name, []):
                expected[column] = [redact(str(v)) for v in expected[column]]
            pd.testing.assert_frame_equal(sheets[name], expected, check_dtype=False)


def test_report_bundled_run_shows_no_informant_name(bundled_report):
    names = _read_csv(bundled_report / "informants.csv")["name"].dropna()
    words = {w.lower() for name in names for w in re.findall(r"[^\W\d_]{3,}", name)}
    page = (bundled_report / "report.html").read_text(encoding="utf-8").lower()
    found = sorted(w for w in words if re.search(rf"\b{re.escape(w)}\b", page))
    assert found == []


# --- headless Chromium -------------------------------------------------------------------


def chromium() -> str:
    """Path of a Chromium binary, or skip the test saying why there is none."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("Chromium not installed: neither /usr/bin/chromium nor chromium on PATH "
                "(.ci/run installs Debian's chromium; here the install was not possible)")


def render(page: Path, tmp_path: Path, mode: str) -> tuple[str, list[str], Path]:
    """Render ``page`` headless; returns (stdout, console lines from stderr, screenshot)."""
    shot = tmp_path / "report.png"
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
            "--window-size=1280,2000",
            "--dump-dom" if mode == "dom" else f"--screenshot={shot}", page.as_uri()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console, shot


def test_report_chromium_renders_the_heatmap_without_console_errors(bundled_report,
                                                                    tmp_path):
    page = bundled_report / "report.html"
    dom, console, _ = render(page, tmp_path, "dom")
    assert console == []
    assert '<table class="heatmap" id="heatmap">' in dom
    assert dom.count('<td class="cell"') == 36
    assert dom.count('<svg class="bars"') == 6
    _, console, shot = render(page, tmp_path, "screenshot")
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 2000)


def test_report_chromium_check_catches_console_errors(tmp_path):
    """The console check above can fail: a blocked fetch is reported as a CONSOLE line."""
    bad = tmp_path / "bad.html"
    bad.write_text(_html(make_run(tmp_path / "run")).replace(
        "</main>", '<img alt="" src="https://example.invalid/x.png"></main>'),
        encoding="utf-8")
    dom, console, _ = render(bad, tmp_path, "dom")
    assert 'id="heatmap"' in dom
    assert len(console) == 1 and "Content Security Policy" in console[0]


def test_report_rebuilt_from_a_run_folder_follows_its_privacy_setting(bundled_run, tmp_path):
    import re
    import shutil

    from themepipe.report import write_reports

    folder = tmp_path / "run"
    shutil.copytree(Path(bundled_run.out).resolve(), folder)
    (folder / "report.html").unlink()
    write_reports(folder, xlsx=False)  # default: the run's own privacy.redact (on)
    page = (folder / "report.html").read_text(encoding="utf-8").lower()
    informants = pd.read_csv(folder / "informants.csv", dtype=str, keep_default_na=False)
    # full names, and the short forms the transcripts use ("Pak Bagyo" for Subagyo)
    labels = informants["speaker_label"].str.replace(r"\(.*?\)", " ", regex=True)
    not_names = {"pak", "bu", "bapak", "ibu", "mas", "mbak", "mbah", "narasumber",
                 "informan", "responden"}
    words = {w.lower() for text in [*informants["name"], *labels]
             for w in re.findall(r"\w+", text) if len(w) >= 3} - not_names

    def leaked(page: str) -> list[str]:
        return sorted(w for w in words if re.search(rf"\b{re.escape(w)}\b", page))

    assert leaked(page) == []
    write_reports(folder, xlsx=False, redact=None)  # the check can fail: terms hold names
    assert leaked((folder / "report.html").read_text(encoding="utf-8").lower()) != []


def test_report_xlsx_dates_are_the_run_start(tmp_path):
    written = write_reports(make_run(tmp_path / "a"), html=False, card=CARD,
                            theme_labels=LABELS)
    with zipfile.ZipFile(written[0]) as archive:
        core = archive.read("docProps/core.xml").decode("utf-8")
        dates = {info.date_time for info in archive.infolist()}
    stamps = re.findall(r"<dcterms:(created|modified)[^>]*>([^<]*)<", core)
    assert sorted(stamps) == [("created", "2026-03-04T05:06:07Z"),
                              ("modified", "2026-03-04T05:06:07Z")]
    assert len(dates) == 1  # one fixed date for every zip member, not the clock


def test_report_xlsx_leaves_out_tables_longer_than_a_sheet_should_be(bundled_run, tmp_path,
                                                                     monkeypatch):
    from openpyxl import load_workbook

    from themepipe.report import xlsx

    folder = tmp_path / "run"
    shutil.copytree(bundled_run.out.resolve(), folder)
    monkeypatch.setattr(xlsx, "MAX_SHEET_ROWS", 100)  # informant_themes has 192 rows
    write_reports(folder, html=False, xlsx=True)
    book = load_workbook(folder / "report.xlsx")
    assert "informant_themes" not in book.sheetnames
    assert "theme_distribution" in book.sheetnames  # 36 rows
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(values_only=True)}
    assert summary["informant_themes (not a sheet)"].startswith("192 rows, more than 100")
    assert "informant_themes" not in summary["sheets"]
