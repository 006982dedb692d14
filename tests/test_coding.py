import pandas as pd

from themepipe.coding import merge_codes


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
