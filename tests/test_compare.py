import numpy as np
import pandas as pd
import pytest

from themepipe.compare import final_themes, informant_themes, theme_distribution

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
