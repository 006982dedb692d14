from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themepipe.coding import coder_agreement, merge_codes


def test_coding_merge_majority_rule_keeps_ties():
    a = pd.DataFrame({"transcript": ["t", "t", "t"], "turn_index": [1, 3, 5],
                      "themes": ["x;y", "none", "y"], "coder": "ana"})
    b = pd.DataFrame({"transcript": ["t", "t"], "turn_index": [1, 3],
                      "themes": ["y", "x"], "coder": "budi"})
    c = pd.DataFrame({"transcript": ["t"], "turn_index": [1], "themes": ["y"],
                      "coder": "citra"})
    merged = merge_codes([a, b, c], ["x", "y"]).set_index("turn_index")
    assert merged.loc[1, "themes"] == "y"  # x: 1 of 3 coders
    assert merged.loc[3, "themes"] == "x"  # tie between none and x keeps x
    assert merged.loc[5, "themes"] == "y" and merged.loc[5, "n_coders"] == 1
    assert merged.loc[1, "coder"] == "ana;budi;citra"


# -- coders and agreement -------------------------------------------------------------

def _codebook():
    from themepipe.codebook import load_codebook

    return load_codebook(Path(__file__).resolve().parents[1] / "configs" / "codebook.yaml")


def test_coding_coder_is_the_coder_column_else_the_file_stem(tmp_path):
    from themepipe.ingest import load_codes

    codebook = _codebook()
    (tmp_path / "rina.csv").write_text("transcript,turn_index,themes\nt.txt,1,politis\n",
                                       encoding="utf-8")
    (tmp_path / "batch.csv").write_text(
        "transcript,turn_index,themes,coder,text\n"
        "t.txt,1,sosialisasi,dewi,Warga belum tahu\n"
        "t.txt,3,none,,Iya\n"
        "t.txt,5,,,belum dikode\n", encoding="utf-8")
    assert list(load_codes(tmp_path / "rina.csv", codebook)["coder"]) == ["rina"]
    batch = load_codes(tmp_path / "batch.csv", codebook)
    assert list(batch["coder"]) == ["dewi", "batch"]  # empty cell -> file stem
    assert list(batch["turn_index"]) == [1, 3]  # the uncoded row is left out


def test_coding_agreement_matches_the_krippendorff_package():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    themes = ["x", "y", "z"]
    turns = [("t", i) for i in range(40)]
    tables = []
    for coder in ("ana", "budi", "citra"):
        rows = []
        for transcript, turn in turns:
            if coder == "citra" and turn % 2:  # citra coded half of the turns only
                continue
            chosen = [t for t in themes if rng.random() < 0.4]
            rows.append((transcript, turn, ";".join(chosen) or "none", coder))
        tables.append(pd.DataFrame(rows, columns=["transcript", "turn_index", "themes",
                                                  "coder"]))
    result = coder_agreement(tables, themes)
    assert result["coders"] == ["ana", "budi", "citra"] and result["n_turns_shared"] == 40
    pooled = []
    for theme in themes:
        data = np.full((3, 40), np.nan)
        for i, table in enumerate(tables):
            for row in table.itertuples():
                data[i, row.turn_index] = theme in row.themes.split(";")
        expected = krippendorff.alpha(reliability_data=data,
                                      level_of_measurement="nominal")
        assert result["per_theme"][theme]["alpha"] == pytest.approx(expected, abs=1e-12)
        assert result["per_theme"][theme]["n_applied"] == int(np.nansum(data))
        pooled.append(data)
    assert result["overall_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=np.hstack(pooled),
                           level_of_measurement="nominal"), abs=1e-12)


def test_coding_agreement_hand_computed_two_coders():
    # Four shared turns; theme x: ana 1,1,0,0 vs budi 1,0,0,0.  Coincidences: (1,1)=2,
    # (0,0)=4, (1,0)=(0,1)=1; n=8, n_1=3, n_0=5; alpha = 1 - 7 * 2 / (2 * 3 * 5) = 8/15.
    a = pd.DataFrame({"transcript": "t", "turn_index": [0, 1, 2, 3, 9],
                      "themes": ["x", "x", "none", "y", "x"], "coder": "ana"})
    b = pd.DataFrame({"transcript": "t", "turn_index": [0, 1, 2, 3],
                      "themes": ["x", "y", "none", "y"], "coder": "budi"})
    result = coder_agreement([a, b], ["x", "y"])
    assert result["n_turns_shared"] == 4  # turn 9 has one coder: not pairable
    assert result["per_theme"]["x"]["alpha"] == pytest.approx(8 / 15)
    # Only ana's codes, or turns outside `turns`: no agreement to report.
    assert coder_agreement([a], ["x"])["overall_alpha"] is None
    assert coder_agreement([a, b], ["x"], turns={("t", 9)})["n_turns_shared"] == 0


def test_coding_same_coder_twice_keeps_the_file_given_last():
    first = pd.DataFrame({"transcript": ["t"], "turn_index": [1], "themes": ["x"],
                          "coder": "ana"})
    second = pd.DataFrame({"transcript": ["t"], "turn_index": [1], "themes": ["y"],
                           "coder": "ana"})
    merged = merge_codes([first, second], ["x", "y"])
    assert merged.loc[0, "themes"] == "y" and merged.loc[0, "n_coders"] == 1


def _merge_codes_reference(tables, theme_order=None):
    """The first, turn-by-turn implementation of merge_codes (the behaviour to keep)."""
    codes = pd.concat([t for t in tables if not t.empty], ignore_index=True)
    codes["line"] = codes["line"].fillna(0) if "line" in codes.columns else 0
    codes["file"] = codes["file"].fillna("") if "file" in codes.columns else ""
    rows = []
    for (transcript, turn), group in codes.groupby(["transcript", "turn_index"], sort=False):
        group = group.drop_duplicates("coder", keep="last")
        n = len(group)
        votes = {}
        for cell in group["themes"]:
            for theme in cell.split(";"):
                if theme and theme != "none":
                    votes[theme] = votes.get(theme, 0) + 1
        order = list(theme_order) if theme_order is not None else [
            t for cell in group["themes"] for t in cell.split(";")]
        kept = [t for t in dict.fromkeys(order) if t in votes and 2 * votes[t] >= n]
        rows.append((transcript, int(turn), ";".join(kept) if kept else "none",
                     ";".join(group["coder"]), n, int(group["line"].iloc[0]),
                     str(group["file"].iloc[0])))
    return pd.DataFrame(rows, columns=["transcript", "turn_index", "themes", "coder",
                                       "n_coders", "line", "file"])


@pytest.mark.parametrize("seed", range(12))
def test_coding_merge_codes_equals_the_turn_by_turn_rule(seed):
    rng = np.random.default_rng(seed)
    cells = ["x", "y", "x;y", "y;x", "none", "z;x", ""]
    tables = []
    for coder in ["ani", "budi", "citra"][: 1 + seed % 3]:
        n = int(rng.integers(5, 40))
        tables.append(pd.DataFrame({
            "transcript": [f"t{k}.txt" for k in rng.integers(0, 4, n)],
            "turn_index": rng.integers(0, 6, n),
            "themes": [cells[k] for k in rng.integers(0, len(cells), n)],
            "coder": coder, "line": np.arange(2, n + 2), "file": f"{coder}.csv"}))
    order = None if seed % 2 else ["y", "x", "z"]
    got = merge_codes(tables, order)
    want = _merge_codes_reference(tables, order)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert (got["n_coders"] > 1).any() == (len(tables) > 1 and (want["n_coders"] > 1).any())
