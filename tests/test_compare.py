import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control
from typer.testing import CliRunner

from themepipe.cli import app
from themepipe.compare import (
    COMPARISON_FILES,
    coding_table,
    compare_groups,
    final_themes,
    group_distances,
    group_order,
    group_tests,
    informant_themes,
    theme_distribution,
)
from themepipe.runfolder import write_csv
from themepipe.stats import contingency_statistics, js_distance

THEMES = ["b_theme", "a_theme"]


def _segments():
    return pd.DataFrame({
        "informant_id": ["i1", "i1", "i2", "i3", "", "i3"],
        "group": ["g1", "g1", "g1", "g2", "", "g2"],
        "role": ["informant"] * 4 + ["interviewer", "informant"],
        "gold_themes": ["a_theme;b_theme", "none", "", "", "", "b_theme"],
        "pred_themes": ["", "a_theme", "a_theme", "", "", "a_theme"],
    })


def test_compare_final_themes_gold_overrides_prediction():
    themes, source = final_themes(_segments())
    assert list(themes) == ["a_theme;b_theme", "none", "a_theme", "", "", "b_theme"]
    assert list(source) == ["gold", "gold", "model", "model", "model", "gold"]


def test_compare_theme_distribution_counts_and_shares():
    dist = theme_distribution(_segments(), THEMES, groups=["g1", "g2", "g3"])
    assert list(dist["group"]) == ["g1", "g1", "g2", "g2", "g3", "g3"]
    assert list(dist["theme"]) == ["a_theme", "b_theme"] * 3
    g1 = dist[dist.group == "g1"].set_index("theme")
    # g1: 3 segments; a_theme on seg 1 (gold) and seg 3 (model); b_theme on seg 1 only
    assert g1.loc["a_theme", "n_segments_with_theme"] == 2
    assert g1.loc["a_theme", "share_segments"] == pytest.approx(2 / 3)
    assert g1.loc["b_theme", "share_codings"] == pytest.approx(1 / 3)
    assert g1.loc["a_theme", "n_informants_with_theme"] == 2
    assert g1.loc["a_theme", "source"] == "gold+model"
    g2 = dist[dist.group == "g2"].set_index("theme")
    assert g2.loc["b_theme", "n_segments"] == 2 and g2.loc["b_theme", "share_segments"] == 0.5
    assert g2.loc["a_theme", "share_codings"] == 0.0
    g3 = dist[dist.group == "g3"]
    assert (g3["n_segments"] == 0).all() and g3["share_segments"].isna().all()
    for _, group in dist.dropna().groupby("group"):
        assert group["share_codings"].sum() == pytest.approx(1.0)


def test_compare_informant_themes_long_table():
    table = informant_themes(_segments(), THEMES)
    assert len(table) == 3 * 2
    i1 = table[table.informant_id == "i1"].set_index("theme")
    assert i1.loc["a_theme", "n_segments"] == 2
    assert i1.loc["a_theme", "share_segments"] == 0.5
    assert np.all((table["share_segments"] >= 0) & (table["share_segments"] <= 1))


# -- statistics over informants ---------------------------------------------------------

def _informant_frame(shares_by_informant, n_segments=4, theme="a_theme", extra=None):
    """Segments where informant k has round(share * n_segments) segments with ``theme``."""
    rows = []
    for (informant, group), share in shares_by_informant.items():
        hits = round(share * n_segments)
        for s in range(n_segments):
            rows.append({"informant_id": informant, "group": group, "role": "informant",
                         "gold_themes": theme if s < hits else "none", "pred_themes": ""})
    return pd.DataFrame(rows + (extra or []))


def test_compare_distribution_intervals_and_mean_probability():
    segs = _segments()
    segs["p_a_theme"] = [0.9, 0.2, 0.6, np.nan, np.nan, 0.4]
    dist = theme_distribution(segs, THEMES, groups=["g1", "g2"], n_bootstrap=500)
    assert list(dist.columns) == ["group", "theme", "n_informants",
                                  "n_informants_with_theme", "n_segments",
                                  "n_segments_with_theme", "share_segments", "ci_low",
                                  "ci_high", "share_codings", "mean_probability", "source"]
    g1 = dist[dist.group == "g1"].set_index("theme")
    assert g1.loc["a_theme", "mean_probability"] == pytest.approx((0.9 + 0.2 + 0.6) / 3)
    assert np.isnan(g1.loc["b_theme", "mean_probability"])  # no p_b_theme column
    # g2: one segment without a probability (no content words) does not blank the mean
    g2 = dist[dist.group == "g2"].set_index("theme")
    assert g2.loc["a_theme", "mean_probability"] == pytest.approx(0.4)
    # g1: i1 has 1 of 2 segments with b_theme, i2 0 of 1 -> resampled shares 0, 1/3, 1/2
    assert g1.loc["b_theme", "ci_low"] == pytest.approx(0.0)
    assert g1.loc["b_theme", "ci_high"] == pytest.approx(0.5)
    with_ci = dist.dropna(subset=["ci_low"])
    assert len(with_ci) == 2 and (with_ci["ci_low"] <= with_ci["ci_high"]).all()
    assert dist[["share_segments", "ci_low", "ci_high"]].stack().dropna().between(0, 1).all()
    # g2 has one informant: no interval
    assert dist.loc[dist.group == "g2", ["ci_low", "ci_high"]].isna().all().all()


def test_compare_group_order_declared_then_sorted():
    assert group_order(["z", "b", "a", "b"], ["b", "q"]) == ["b", "q", "a", "z"]
    dist = theme_distribution(_segments(), THEMES, groups=["g2", "g9"])
    assert list(dict.fromkeys(dist["group"])) == ["g2", "g9", "g1"]


def test_compare_group_tests_on_informant_level_shares():
    shares = {("i1", "g1"): 0.5, ("i2", "g1"): 1.0, ("i3", "g2"): 0.0, ("i4", "g2"): 0.25}
    segs = _informant_frame(shares)
    segs = pd.concat([segs, _informant_frame({("i2", "g1"): 1.0}, n_segments=8)])
    # i2 now has 12 segments, all with the theme: pooled share of g1 is 14/16, but the
    # informant-level mean stays (0.5 + 1.0) / 2
    comparison, pairs = group_tests(segs, ["a_theme"], n_permutations=2000,
                                    random_state=3)
    row = comparison.iloc[0]
    assert (row["n_informants"], row["n_groups"], row["n_permutations"]) == (4, 2, 2000)
    # grand mean 0.4375; group means 0.75 and 0.125: SS = 2 (0.3125^2 + 0.3125^2)
    assert row["statistic"] == pytest.approx(4 * 0.3125 ** 2)
    # 4 informants: 6 splits, the observed one and its mirror are the most extreme
    assert row["p_value"] == pytest.approx(1 / 3, abs=0.04)
    pair = pairs.iloc[0]
    assert (pair["group_a"], pair["group_b"]) == ("g1", "g2")
    assert pair["mean_share_a"] == pytest.approx(0.75)
    assert pair["difference"] == pytest.approx(0.75 - 0.125)
    assert pair["statistic"] == pytest.approx(row["statistic"])


def test_compare_group_tests_pairs_and_bh():
    rng = np.random.default_rng(0)
    shares = {(f"i{g}{k}", f"g{g}"): rng.uniform(0.1 * g, 0.1 * g + 0.3)
              for g in range(3) for k in range(5)}
    segs = _informant_frame(shares, n_segments=10)
    comparison, pairs = group_tests(segs, ["a_theme", "b_theme"], groups=["g2", "g0", "g1"],
                                    n_permutations=999)
    assert list(comparison["theme"]) == ["a_theme", "b_theme"]
    assert comparison.loc[1, "statistic"] == 0 and comparison.loc[1, "p_value"] == 1
    assert list(zip(pairs["group_a"], pairs["group_b"]))[::2] == [
        ("g2", "g0"), ("g2", "g1"), ("g0", "g1")]
    assert pairs["q_value"].to_numpy() == pytest.approx(
        false_discovery_control(pairs["p_value"], method="bh"))
    assert (pairs["q_value"] >= pairs["p_value"]).all()


def test_compare_counts_only_informant_segments_with_final_themes():
    shares = {("i1", "g1"): 0.5, ("i2", "g1"): 0.75, ("i3", "g2"): 0.0, ("i4", "g2"): 0.25}
    plain = _informant_frame(shares)
    noise = [{"informant_id": "", "group": "", "role": "interviewer",
              "gold_themes": "a_theme", "pred_themes": "a_theme"},
             {"informant_id": "i3", "group": "g2", "role": "interviewer",
              "gold_themes": "", "pred_themes": "a_theme"}]
    noisy = _informant_frame(shares, extra=noise)
    # the model's theme on a segment that a human coded 'none' does not count
    noisy.loc[(noisy.informant_id == "i3"), "pred_themes"] = "a_theme"
    for func in (lambda s: group_tests(s, ["a_theme"], n_permutations=99)[0],
                 lambda s: theme_distribution(s, ["a_theme"])):
        pd.testing.assert_frame_equal(func(plain), func(noisy))


def _csv_bytes(comparison, tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    for file, table in comparison.tables.items():
        write_csv(table, folder / file)
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def test_compare_same_seed_gives_identical_csv(tmp_path):
    rng = np.random.default_rng(1)
    segs = _informant_frame({(f"i{k}", f"g{k % 2}"): rng.uniform() for k in range(10)},
                            n_segments=10)
    segs["segment_id"] = [f"t.txt:{k}" for k in range(len(segs))]
    for column, value in (("transcript", "t.txt"), ("start_char", 0), ("end_char", 1),
                          ("text", "x")):
        segs[column] = value
    first = _csv_bytes(compare_groups(segs, THEMES, n_bootstrap=200, n_permutations=200),
                       tmp_path, "a")
    again = _csv_bytes(compare_groups(segs, THEMES, n_bootstrap=200, n_permutations=200),
                       tmp_path, "b")
    other = _csv_bytes(compare_groups(segs, THEMES, n_bootstrap=200, n_permutations=200,
                                      random_state=1), tmp_path, "c")
    assert first == again
    assert set(first) == set(COMPARISON_FILES)
    assert first["group_comparison.csv"] != other["group_comparison.csv"]
    assert first["theme_distribution.csv"] != other["theme_distribution.csv"]


def test_compare_coding_table_and_distances():
    dist = theme_distribution(_segments(), THEMES, groups=["g1", "g2"])
    table, test = coding_table(dist)
    assert list(table["codings"]) == [2, 1, 0, 1]  # g1 a, g1 b, g2 a, g2 b
    # the a_theme column of g2 is 0 but the column has codings: a 2 x 2 table
    reference = contingency_statistics([[2, 1], [0, 1]])
    assert test.loc[0, "chi_square"] == pytest.approx(reference["chi_square"])
    assert table["adjusted_residual"].to_numpy() == pytest.approx(
        reference["adjusted_residual"].ravel())
    assert test.loc[0, "note"] == ("descriptive only: codings of one informant are not "
                                   "independent")
    distances = group_distances(dist)
    # profiles g1 (2/3, 1/3) and g2 (0, 1)
    assert distances.iloc[0]["js_distance"] == pytest.approx(
        js_distance([2 / 3, 1 / 3], [0, 1]))


# -- `themepipe compare RUN_DIR --by ATTRIBUTE` on a small run folder ---------------------

# informant_id, name, group, dusun, then per informant turn: (gold, pred, p_politis)
INFORMANTS = [
    ("inf01", "Sutrisno Hadi", "pemerintah_desa", "Jipurwo",
     [("politis", "politis", 0.91), ("", "politis", 0.85), ("", "none", 0.10)]),
    ("inf02", "Suparmi", "pemerintah_desa", "Gelaran",
     [("", "politis", 0.70), ("none", "politis", 0.80), ("", "politis", 0.95)]),
    ("inf03", "Wagiman Santosa", "pengrajin_lokal", "Jipurwo",
     [("sosialisasi", "none", 0.05), ("", "sosialisasi", 0.20), ("", "none", 0.30)]),
    ("inf04", "Tukiyem", "pengrajin_lokal", "Gelaran",
     [("", "politis", 0.60), ("", "sosialisasi", 0.15), ("sosialisasi", "", 0.02)]),
]
SPEECH = {
    "politis": "Pak {name} bilang program itu dipakai buat kampanye pilkades.",
    "sosialisasi": "Warga dusun belum pernah dengar soal paguyuban itu, Mas.",
    "none": "Saya bikin gerabah dari pagi sampai sore.",
    "": "Ya begitu, Mas, namanya juga usaha kecil.",
}


def make_run_folder(root: Path, informants=INFORMANTS, compare=None) -> Path:
    """A run folder as `themepipe run` writes it, for two themes."""
    run = root / "run"
    (run / "sources").mkdir(parents=True)
    segments, people = [], []
    for informant_id, name, group, dusun, turns in informants:
        transcript = f"wawancara_{informant_id}.txt"
        first = name.split()[0]
        lines = [("P", "Bagaimana programnya berjalan?", None)]
        for gold, pred, p in turns:
            lines.append((first, SPEECH[gold or pred].format(name=first), (gold, pred, p)))
        source = ""
        for k, (label, text, codes) in enumerate(lines):
            start = len(source) + len(label) + 2
            source += f"{label}: {text}\n"
            informant = codes is not None
            segments.append({
                "segment_id": f"{transcript}:{k}", "transcript": transcript,
                "informant_id": informant_id if informant else "",
                "group": group if informant else "", "speaker": label,
                "role": "informant" if informant else "interviewer", "turn_index": k,
                "start_char": start, "end_char": start + len(text), "text": text,
                "gold_themes": codes[0] if informant else "",
                "pred_themes": codes[1] if informant else "",
                "p_politis": codes[2] if informant else np.nan,
                "p_sosialisasi": 1 - codes[2] if informant else np.nan})
        (run / "sources" / transcript).write_text(source, encoding="utf-8")
        people.append({"transcript": transcript, "speaker_label": first,
                       "informant_id": informant_id, "name": name, "group": group,
                       "dusun": dusun})
    write_csv(pd.DataFrame(segments), run / "segments.csv")
    write_csv(pd.DataFrame(people), run / "informants.csv")
    write_csv(pd.DataFrame({"group": "x", "theme": ["politis", "sosialisasi"]}),
              run / "theme_distribution.csv")
    config = {"groups": None, "privacy": {"redact": True},
              "compare": compare or {"by": ["group"], "bootstrap": 200,
                                     "permutations": 200, "random_state": 0}}
    (run / "manifest.json").write_text(json.dumps({"config": config}))
    return run


def test_compare_cli_by_attribute_writes_folder_atomically(tmp_path):
    run = make_run_folder(tmp_path)
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "dusun"])
    assert result.exit_code == 0, result.output
    out = run / "compare-dusun"
    assert out.is_symlink() and {p.name for p in out.iterdir()} == set(COMPARISON_FILES)
    dist = pd.read_csv(out / "theme_distribution.csv")
    assert list(dict.fromkeys(dist["group"])) == ["Gelaran", "Jipurwo"]
    jipurwo = dist[dist.group == "Jipurwo"].set_index("theme")
    # inf01 and inf03: 6 segments; politis on inf01's first two (gold, then model)
    assert jipurwo.loc["politis", "n_segments_with_theme"] == 2
    assert jipurwo.loc["politis", "n_informants"] == 2
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    again = CliRunner().invoke(app, ["compare", str(run), "--by", "dusun"])
    assert again.exit_code == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    hidden = [p.name for p in (run / ".compare-dusun.runs").iterdir()]
    assert len(hidden) == 1 and not hidden[0].endswith(".partial")


def test_compare_cli_unknown_attribute_is_one_line(tmp_path):
    run = make_run_folder(tmp_path)
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "kecamatan"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "[T601]" in lines[0]
    assert "available: group, dusun" in lines[0]
    assert not (run / "compare-kecamatan").exists()


def test_compare_cli_quotes_and_redaction(tmp_path):
    run = make_run_folder(tmp_path)
    result = CliRunner().invoke(app, ["compare", str(run)])  # compare.by: [group]
    assert result.exit_code == 0, result.output
    quotes = pd.read_csv(run / "compare-group" / "quotes.csv", keep_default_na=False)
    desa = quotes[(quotes.group == "pemerintah_desa") & (quotes.theme == "politis")]
    # gold first (inf01:1), then the model's by probability: 0.95, 0.85 (0.80 is gold none)
    assert list(desa["segment_id"]) == ["wawancara_inf01.txt:1", "wawancara_inf02.txt:3",
                                        "wawancara_inf01.txt:2"]
    assert list(desa["source"]) == ["gold", "model", "model"]
    for row in quotes.itertuples():
        source = (run / "sources" / row.transcript).read_text(encoding="utf-8")
        original = source[row.start_char:row.end_char]
        assert original.startswith(row.text[:4])
        for word in ("Sutrisno", "Suparmi", "Wagiman", "Tukiyem"):
            assert word.lower() not in row.text.lower()
    assert (quotes["text"] != "").all()


def test_bad_input_compare_group_with_one_informant(tmp_path):
    run = make_run_folder(tmp_path, INFORMANTS + [
        ("inf05", "Sarjono", "dinas_instansi", "Kalisoka",
         [("politis", "", 0.5), ("", "none", 0.1)])])
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "group"])
    assert result.exit_code == 1
    assert "[T605]" in result.output and "dinas_instansi" in result.output
    dist = pd.read_csv(run / "compare-group" / "theme_distribution.csv")
    lone = dist[dist.group == "dinas_instansi"]
    assert lone["ci_low"].isna().all() and lone["n_informants"].eq(1).all()
    comparison = compare_groups(pd.read_csv(run / "segments.csv", keep_default_na=False),
                                ["politis", "sosialisasi"], n_bootstrap=0,
                                n_permutations=0)
    assert [(p.code, p.action) for p in comparison.problems] == [("T605", "warning")]


def test_compare_bundled_run_tables(bundled_run, tmp_path):
    out = Path(bundled_run.out)
    assert set(COMPARISON_FILES) <= {p.name for p in out.iterdir()}
    dist = pd.read_csv(out / "theme_distribution.csv")
    assert (dist["ci_low"] <= dist["ci_high"]).all()
    assert dist[["share_segments", "ci_low", "ci_high", "share_codings",
                 "mean_probability"]].stack().dropna().between(0, 1).all()
    comparison = pd.read_csv(out / "group_comparison.csv")
    assert len(comparison) == 6 and (comparison["n_groups"] == 6).all()
    assert comparison["q_value"].to_numpy() == pytest.approx(
        false_discovery_control(comparison["p_value"], method="bh"), abs=1e-5)
    assert len(pd.read_csv(out / "group_pairs.csv")) == 15 * 6
    quotes = pd.read_csv(out / "quotes.csv")
    assert quotes.groupby(["group", "theme"]).size().max() <= 3
    # `compare --by group` on the run folder reproduces the run's own tables
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("segments.csv", "informants.csv", "manifest.json", "theme_distribution.csv"):
        (copy / name).write_bytes((out / name).read_bytes())
    result = CliRunner().invoke(app, ["compare", str(copy), "--by", "group"])
    assert result.exit_code == 0, result.output
    for name in COMPARISON_FILES:
        assert (copy / "compare-group" / name).read_bytes() == (out / name).read_bytes(), name


def test_compare_cli_informants_without_value_are_left_out(tmp_path):
    people = [list(row) for row in INFORMANTS]
    people[3][3] = ""  # inf04 has no dusun
    run = make_run_folder(tmp_path, [tuple(row) for row in people])
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "dusun"])
    assert result.exit_code == 1
    assert "[T604]" in result.output and "inf04" in result.output
    dist = pd.read_csv(run / "compare-dusun" / "theme_distribution.csv")
    assert list(dict.fromkeys(dist["group"])) == ["Gelaran", "Jipurwo"]
    assert dist.loc[dist.group == "Gelaran", "n_informants"].eq(1).all()
    assert "[T605]" in result.output  # Gelaran is left with one informant


def test_bad_input_compare_unknown_second_attribute_writes_nothing(tmp_path):
    run = make_run_folder(tmp_path)
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "dusun", "--by", "nosuch"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "[T601]" in lines[0] and "'nosuch'" in lines[0]
    assert not (run / "compare-dusun").exists()
    assert not (run / ".compare-dusun.runs").exists()


def test_bad_input_compare_attribute_empty_for_every_informant(tmp_path):
    people = [row[:3] + ("",) + row[4:] for row in INFORMANTS]  # nobody has a dusun
    run = make_run_folder(tmp_path, people)
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "dusun"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error [T607]"), result.output
    assert "no informant has a value for 'dusun'" in lines[0]
    assert not (run / "compare-dusun").exists()


def test_compare_single_value_attribute_warns_nothing_to_compare(tmp_path):
    people = [row[:3] + ("Jipurwo",) + row[4:] for row in INFORMANTS]
    run = make_run_folder(tmp_path, people)
    result = CliRunner().invoke(app, ["compare", str(run), "--by", "dusun"])
    assert result.exit_code == 1, result.output
    assert "[T608]" in result.output and "'Jipurwo'" in result.output
    assert "nothing can be compared" in result.output
    dist = pd.read_csv(run / "compare-dusun" / "theme_distribution.csv")
    assert set(dist["group"]) == {"Jipurwo"} and dist["n_informants"].eq(4).all()
