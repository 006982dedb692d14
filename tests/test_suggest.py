"""Tests of themepipe.suggest: uncertainty sampling and the suggest -> train round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from themepipe.cli import app
from themepipe.config import load_config
from themepipe.errors import StageError
from themepipe.suggest import SUGGEST_COLUMNS, margins, spread_picks, suggest

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
THEMES = ["sosialisasi", "perencanaan", "politis", "sinkronisasi", "respon_masyarakat",
          "sdm_pengurus"]


def test_suggest_multilabel_margin_is_distance_to_the_nearest_threshold():
    proba = np.array([[0.9, 0.45], [0.1, 0.2], [0.52, 0.8]])
    margin, theme = margins(proba, np.array([0.5, 0.3]), "multilabel")
    np.testing.assert_allclose(margin, [0.15, 0.1, 0.02])
    assert theme.tolist() == [1, 1, 0]


def test_suggest_multiclass_margin_is_top_two_difference():
    proba = np.array([[0.6, 0.3, 0.1], [0.34, 0.33, 0.33], [0.1, 0.2, 0.7]])
    margin, runner_up = margins(proba, np.full(3, np.nan), "multiclass")
    np.testing.assert_allclose(margin, [0.3, 0.01, 0.5])
    assert runner_up.tolist() == [1, 1, 1]


def test_suggest_picks_spread_over_groups_and_informants():
    # Group "a" holds the 8 least certain segments, all from informant a1.
    rows = [("a", "a1", 0.01 * i) for i in range(8)]
    rows += [("a", "a2", 0.30), ("a", "a2", 0.31), ("b", "b1", 0.20), ("b", "b1", 0.21),
             ("b", "b2", 0.40), ("c", "c1", 0.50)]
    candidates = pd.DataFrame(rows, columns=["group", "informant_id", "margin"])
    candidates["order"] = np.arange(len(candidates))
    picks = candidates.loc[spread_picks(candidates, 6)]
    # Rounds: (a1, b1, c1), (a2, b2), (a1): groups take turns, informants inside them too.
    assert sorted(picks["group"].value_counts().to_dict().items()) == [("a", 3), ("b", 2),
                                                                         ("c", 1)]
    # Inside group a the informants alternate: a1 (most uncertain) and a2 both picked.
    assert set(picks.loc[picks["group"] == "a", "informant_id"]) == {"a1", "a2"}
    assert picks.iloc[0]["margin"] == 0.0  # the least certain segment is the first pick
    assert len(spread_picks(candidates, 100)) == len(candidates)


@pytest.fixture(scope="module")
def table_corpus(tmp_path_factory, bundled_run):
    """The bundled informant segments as a table; a third of the coded rows hidden."""
    folder = tmp_path_factory.mktemp("suggest")
    segments = pd.read_csv(Path(bundled_run.out) / "segments.csv", keep_default_na=False)
    informant = segments[segments.role == "informant"].reset_index(drop=True)
    truth = informant["gold_themes"].copy()
    hidden = (truth != "") & (np.arange(len(truth)) % 3 == 0)
    table = pd.DataFrame({"text": informant["text"], "informant_id": informant["informant_id"],
                          "group": informant["group"],
                          "themes": truth.where(~hidden, "")})
    table.to_csv(folder / "segs.csv", index=False)
    return folder, truth, hidden


def overrides(folder: Path) -> list[str]:
    return [f"corpus.path={folder / 'segs.csv'}", "corpus.format=table", "corpus.codes=null",
            "corpus.informants=null"]


def test_suggest_round_trip_through_train_codes(table_corpus, tmp_path):
    folder, truth, hidden = table_corpus
    config = load_config(MINI / "config.yaml", overrides(folder))
    table, info, _ = suggest(config, n=12)
    assert list(table.columns) == SUGGEST_COLUMNS and len(table) == 12
    assert (table["themes"] == "").all() and (table["coder"] == "").all()
    assert sorted(table["rank"]) == list(range(1, 13))
    assert not table.duplicated(["transcript", "turn_index"]).any()
    assert table["group"].nunique() == 6  # spread: 12 picks over 6 groups, 2 each
    assert table["group"].value_counts().max() == 2
    rows = table["turn_index"].to_numpy()
    assert (truth[rows] == "").sum() + hidden[rows].sum() == 12  # only uncoded turns
    texts = pd.read_csv(folder / "segs.csv", keep_default_na=False)["text"]
    assert list(table["text"]) == [texts[i] for i in rows]
    assert info["version"]
    # The researcher codes the suggested turns (the hidden truth, else none) ...
    filled = table.copy()
    filled["themes"] = [truth[i] or "none" for i in rows]
    filled.to_csv(tmp_path / "batch_01.csv", index=False)
    # ... and hands the file, helper columns included, back to train --codes.
    models = tmp_path / "models"
    runner = CliRunner()
    args = ["train", str(MINI / "config.yaml"), "--codes", str(tmp_path / "batch_01.csv")]
    for item in overrides(folder) + [f"classifier.model={models}", "classifier.cv_folds=2",
                                     "classifier.inner_folds=2"]:
        args += ["--set", item]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    card = json.loads(next(models.glob("*/card.json")).read_text())
    n_before = int((pd.read_csv(folder / "segs.csv", keep_default_na=False)["themes"]
                    != "").sum())
    assert card["n_segments"] == n_before + 12
    # Two coders now: the table's own codes and the batch file (named by its stem).
    assert card["coder_agreement"]["coders"] == ["batch_01", "segs"]
    assert card["coder_agreement"]["n_turns_shared"] == 0
    assert "coder agreement: no turn coded by two or more coders" in result.output


def test_suggest_second_coder_agreement_reaches_train(table_corpus, tmp_path):
    """A second coder re-codes 30 turns (5 differently): alpha per theme in training_set."""
    from themepipe.classify_stage import training_set

    folder, truth, hidden = table_corpus
    coded = np.flatnonzero(((truth != "") & ~hidden).to_numpy())[:30]
    themes = [truth[i] for i in coded]
    themes[:5] = ["politis" if t != "politis" else "none" for t in themes[:5]]
    pd.DataFrame({"transcript": "segs.csv", "turn_index": coded, "themes": themes,
                  "coder": "dewi"}).to_csv(tmp_path / "dewi.csv", index=False)
    config = load_config(MINI / "config.yaml", overrides(folder))
    agreement = training_set(config, [tmp_path / "dewi.csv"]).agreement
    assert agreement["coders"] == ["dewi", "segs"] and agreement["n_turns_shared"] == 30
    krippendorff = pytest.importorskip("krippendorff")
    for theme in THEMES:
        data = np.array([[theme in truth[i].split(";") for i in coded],
                         [theme in t.split(";") for t in themes]], dtype=float)
        expected = krippendorff.alpha(reliability_data=data[::-1],
                                      level_of_measurement="nominal")
        assert agreement["per_theme"][theme]["alpha"] == pytest.approx(expected), theme
    assert agreement["per_theme"]["politis"]["alpha"] < 1.0
    assert agreement["overall_alpha"] < 1.0


def test_suggest_cli_writes_a_codes_file(table_corpus, tmp_path):
    folder, _, _ = table_corpus
    args = ["suggest", str(MINI / "config.yaml"), "--n", "5", "-o", str(tmp_path / "s.csv")]
    for item in overrides(folder):
        args += ["--set", item]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "s.csv", keep_default_na=False)
    assert list(written.columns) == SUGGEST_COLUMNS and len(written) == 5
    assert not list(tmp_path.glob(".s.csv.tmp-*"))


def test_suggest_refuses_n_below_one():
    config = load_config(MINI / "config.yaml")
    with pytest.raises(StageError, match="T455"):
        suggest(config, n=0)


def test_suggest_identical_second_coder_is_reported_as_a_copy(table_corpus, tmp_path):
    """The same codes under another coder name (a QDA round trip) inflate alpha: T458."""
    from themepipe.classify_stage import training_set

    folder, truth, hidden = table_corpus
    coded = np.flatnonzero(((truth != "") & ~hidden).to_numpy())[:30]
    pd.DataFrame({"transcript": "segs.csv", "turn_index": coded,
                  "themes": [truth[i] for i in coded], "coder": "copy"}).to_csv(
        tmp_path / "copy.csv", index=False)
    config = load_config(MINI / "config.yaml", overrides(folder))
    data = training_set(config, [tmp_path / "copy.csv"])
    assert data.agreement["overall_alpha"] == 1.0
    copies = [p for p in data.problems if p.code == "T458"]
    assert len(copies) == 1 and copies[0].action == "warning"
    assert "every one of 30 shared turns" in copies[0].message
