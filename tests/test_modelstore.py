"""Tests of themepipe.modelstore: versioned model directories that load safely."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from themepipe.classify import KeywordBaseline, ThemeClassifier
from themepipe.errors import ModelError
from themepipe.modelstore import (
    FORMAT_VERSION,
    TRUSTED_TYPES,
    canonical_training_data,
    list_versions,
    load_model,
    save_model,
    training_data_sha256,
)

THEMES = ["sosialisasi", "politis"]
TEXTS = ["tahu dengar warga", "calon pilih lurah", "tahu undang kumpul",
         "kampanye calon dukung", "kayu jual pasar", "dengar paham informasi",
         "pilih partai jabat", "pasar ramai jual", "informasi warga tahu",
         "dukung lurah calon", "kumpul undang paham", "kayu ukir jual"] * 2
CODES = [("sosialisasi",), ("politis",), ("sosialisasi",), ("politis",), (),
         ("sosialisasi",), ("politis",), (), ("sosialisasi",), ("politis", "sosialisasi"),
         ("sosialisasi",), ()] * 2
NOW = datetime(2026, 3, 1, 9, 30, 15, tzinfo=timezone.utc)
VERSION_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}(-\d+)?$")


def indicator(codes) -> np.ndarray:
    return np.array([[int(t in c) for t in THEMES] for c in codes])


@pytest.fixture(scope="module")
def model() -> ThemeClassifier:
    return ThemeClassifier(themes=THEMES, inner_folds=3).fit(TEXTS, indicator(CODES))


def save(model, models_dir: Path, now=NOW) -> Path:
    return save_model(model, models_dir, list(zip(TEXTS, CODES, strict=True)),
                      {"themepipe": {"macro_f1": {"mean": 0.8, "sd": float("nan")}}},
                      {"classifier": {"random_state": 0}}, THEMES, extra={"note": "t"},
                      now=now)


def refuse(models_dir: Path, code: str, version: str = "latest") -> ModelError:
    with pytest.raises(ModelError) as info:
        load_model(models_dir, version)
    error = info.value
    assert error.code == code, str(error)
    assert "\n" not in str(error)
    assert error.path is not None
    return error


def write_card_sha(version_dir: Path) -> None:
    """Make the card agree with whatever model.skops now holds (a careful attacker)."""
    card = json.loads((version_dir / "card.json").read_text())
    card["model_sha256"] = hashlib.sha256((version_dir / "model.skops").read_bytes()
                                          ).hexdigest()
    (version_dir / "card.json").write_text(json.dumps(card))


class PlantedPayload:
    """Unpickling this creates a marker file: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


# -- save -----------------------------------------------------------------------------

def test_modelstore_round_trip_keeps_predictions_and_writes_the_card(model, tmp_path):
    version_dir = save(model, tmp_path / "kajigelem-themes")
    assert version_dir.parent == tmp_path / "kajigelem-themes"
    assert sorted(p.name for p in version_dir.iterdir()) == ["card.json", "model.skops"]
    sha = training_data_sha256(zip(TEXTS, CODES, strict=True))
    assert version_dir.name == f"20260301-093015-{sha[:8]}"
    loaded, card = load_model(tmp_path / "kajigelem-themes")
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert card.version == version_dir.name and card.path == version_dir
    assert card.format_version == FORMAT_VERSION
    assert card.created == "2026-03-01T09:30:15Z"
    assert card.training_data_sha256 == sha
    assert card.model_sha256 == hashlib.sha256(
        (version_dir / "model.skops").read_bytes()).hexdigest()
    assert card.n_segments == 24
    assert card.theme_counts == {"sosialisasi": 12, "politis": 8, "none": 6}
    assert card.themes == THEMES and card.mode == "multilabel"
    assert card.cv_metrics["themepipe"]["macro_f1"] == {"mean": 0.8, "sd": None}
    assert card.config == {"classifier": {"random_state": 0}}
    assert card.extra == {"note": "t"}
    assert set(card.library_versions) == {"python", "themepipe", "scikit-learn", "numpy",
                                          "scipy", "skops"}
    assert not [p for p in version_dir.parent.iterdir() if p.name.startswith(".")]


def test_modelstore_training_fingerprint_is_canonical():
    pairs = [("b teks", ("y", "x")), ("a teks", ()), ("b teks", ("x",))]
    shuffled = [("b teks", ("x",)), ("b teks", ("x", "y", "x")), ("a teks", ())]
    assert training_data_sha256(pairs) == training_data_sha256(shuffled)
    expected = b'["a teks",[]]\n["b teks",["x"]]\n["b teks",["x","y"]]\n'
    assert canonical_training_data(pairs) == expected
    assert training_data_sha256(pairs) == hashlib.sha256(expected).hexdigest()
    assert training_data_sha256(pairs[:2]) != training_data_sha256(pairs)
    assert canonical_training_data([("ragam é", ())]) == '["ragam é",[]]\n'.encode()


def test_modelstore_never_overwrites_and_appends_a_suffix_on_clash(model, tmp_path):
    first = save(model, tmp_path)
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    second = save(model, tmp_path)
    third = save(model, tmp_path)
    assert second.name == first.name + "-2" and third.name == first.name + "-3"
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    assert list_versions(tmp_path) == [first.name, second.name, third.name]
    assert load_model(tmp_path)[1].version == third.name
    assert load_model(tmp_path, first.name)[1].version == first.name


def test_modelstore_latest_orders_numeric_suffixes_as_numbers(tmp_path):
    names = ["20260301-093015-abcdef01-9", "20260301-093015-abcdef01-10",
             "20260301-093015-abcdef01", "20250101-000000-ffffffff", ".tmp-x", "notes"]
    for name in names:
        (tmp_path / name).mkdir()
    assert list_versions(tmp_path) == names[3:4] + names[2:3] + names[:2]


def test_modelstore_same_seed_and_data_retrain_to_identical_predictions(tmp_path):
    Y = indicator(CODES)
    snapshots = []
    for when in (NOW, datetime(2026, 3, 1, 9, 31, tzinfo=timezone.utc)):
        save(ThemeClassifier(themes=THEMES, inner_folds=3).fit(TEXTS, Y), tmp_path, when)
        oldest = tmp_path / list_versions(tmp_path)[0]
        snapshots.append({p.name: p.read_bytes() for p in oldest.iterdir()})
    assert snapshots[0] == snapshots[1]  # the second training left the first untouched
    names = list_versions(tmp_path)
    assert len(names) == 2 and all(VERSION_RE.match(n) for n in names)
    first, card1 = load_model(tmp_path, names[0])
    second, card2 = load_model(tmp_path, names[1])
    np.testing.assert_array_equal(first.predict_proba(TEXTS), second.predict_proba(TEXTS))
    assert card1.training_data_sha256 == card2.training_data_sha256


def test_modelstore_saves_and_loads_the_keyword_baseline(tmp_path):
    baseline = KeywordBaseline({"sosialisasi": ["tahu"], "politis": ["calon"]}).fit()
    save(baseline, tmp_path)
    loaded, _ = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.predict(TEXTS), baseline.predict(TEXTS))


def test_modelstore_refuses_to_save_untrusted_types(tmp_path):
    from sklearn.svm import SVC

    with pytest.raises(ModelError) as info:
        save(SVC(), tmp_path)
    assert info.value.code == "T313"
    assert list_versions(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_modelstore_refuses_training_codes_outside_the_themes(model, tmp_path):
    with pytest.raises(ModelError) as info:
        save_model(model, tmp_path, [("teks", ("banjir",))], {}, {}, THEMES)
    assert info.value.code == "T312"


# -- refusals -------------------------------------------------------------------------

def test_bad_input_model_directory_missing(tmp_path):
    error = refuse(tmp_path / "absent", "T301")
    assert "themepipe train" in str(error) and "absent" in str(error)


def test_bad_input_model_directory_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".tmp-leftover").mkdir()  # a hidden staging folder is no version
    error = refuse(tmp_path / "empty", "T302")
    assert "no model versions" in str(error)


def test_modelstore_unknown_version_is_refused_naming_the_available_ones(model, tmp_path):
    version_dir = save(model, tmp_path / "m")
    error = refuse(tmp_path / "m", "T303", version="20990101-000000-00000000")
    assert version_dir.name in str(error)


def test_bad_input_model_newer_format_version(model, tmp_path):
    version_dir = save(model, tmp_path)
    card = json.loads((version_dir / "card.json").read_text())
    card["format_version"] = FORMAT_VERSION + 1
    (version_dir / "card.json").write_text(json.dumps(card))
    assert "upgrade themepipe" in str(refuse(tmp_path, "T305"))


def test_bad_input_model_older_format_version(model, tmp_path):
    version_dir = save(model, tmp_path)
    card = json.loads((version_dir / "card.json").read_text())
    card["format_version"] = FORMAT_VERSION - 1
    (version_dir / "card.json").write_text(json.dumps(card))
    assert "themepipe train" in str(refuse(tmp_path, "T314"))


@pytest.mark.parametrize("damage", ["missing", "not json", "no sha"])
def test_modelstore_broken_card_is_refused(model, tmp_path, damage):
    version_dir = save(model, tmp_path)
    card_path = version_dir / "card.json"
    if damage == "missing":
        card_path.unlink()
    elif damage == "not json":
        card_path.write_text("{format_version: 1")
    else:
        card = json.loads(card_path.read_text())
        del card["model_sha256"]
        card_path.write_text(json.dumps(card))
    refuse(tmp_path, "T304")


def test_modelstore_missing_model_file_is_refused(model, tmp_path):
    version_dir = save(model, tmp_path)
    (version_dir / "model.skops").unlink()
    refuse(tmp_path, "T306")


@pytest.mark.parametrize("where", [0, 0.5, -1])
def test_modelstore_any_changed_byte_is_refused(model, tmp_path, where):
    version_dir = save(model, tmp_path)
    path = version_dir / "model.skops"
    data = bytearray(path.read_bytes())
    index = int(where * (len(data) - 1)) if where != -1 else len(data) - 1
    data[index] ^= 0x01
    path.write_bytes(bytes(data))
    error = refuse(tmp_path, "T307")
    assert "does not match the card" in str(error) and "themepipe train" in str(error)


def test_modelstore_truncated_model_file_is_refused(model, tmp_path):
    version_dir = save(model, tmp_path)
    path = version_dir / "model.skops"
    path.write_bytes(path.read_bytes()[:-100])
    refuse(tmp_path, "T307")
    write_card_sha(version_dir)  # even with a matching card it is not a skops file
    refuse(tmp_path, "T308")


def test_modelstore_altered_card_sha_is_refused(model, tmp_path):
    version_dir = save(model, tmp_path)
    card = json.loads((version_dir / "card.json").read_text())
    card["model_sha256"] = "0" * 64
    (version_dir / "card.json").write_text(json.dumps(card))
    refuse(tmp_path, "T307")


@pytest.mark.parametrize("card_updated", [False, True])
def test_modelstore_planted_pickle_is_refused_without_running_it(model, tmp_path,
                                                                 card_updated):
    marker = tmp_path / "pwned"
    version_dir = save(model, tmp_path / "models")
    payload = pickle.dumps(PlantedPayload(marker))
    pickle.loads(payload)  # the payload is live: unpickling it does create the marker
    assert marker.exists()
    marker.unlink()
    (version_dir / "model.skops").write_bytes(payload)
    if card_updated:
        write_card_sha(version_dir)
    refuse(tmp_path / "models", "T308" if card_updated else "T307")
    assert not marker.exists()


def test_modelstore_foreign_estimator_in_a_skops_file_is_refused(model, tmp_path):
    """skops itself trusts every scikit-learn estimator; themepipe does not."""
    from sklearn.svm import SVC

    version_dir = save(model, tmp_path)
    sio.dump(SVC(), version_dir / "model.skops")
    write_card_sha(version_dir)
    error = refuse(tmp_path, "T309")
    assert "sklearn.svm._classes.SVC" in str(error)


def test_modelstore_function_reference_in_a_skops_file_is_refused(model, tmp_path):
    """A schema naming a callable (here os.system) never reaches skops's loader."""
    import os

    version_dir = save(model, tmp_path)
    sio.dump({"call": os.system}, version_dir / "model.skops")
    write_card_sha(version_dir)
    error = refuse(tmp_path, "T309")
    assert "system" in str(error)


def test_modelstore_trusted_types_are_exactly_what_a_classifier_needs(model):
    import io
    import zipfile

    from themepipe.modelstore import _schema_types

    schema = json.loads(zipfile.ZipFile(io.BytesIO(sio.dumps(model))).read("schema.json"))
    types, _ = _schema_types(schema)
    assert types <= set(TRUSTED_TYPES)
    assert "themepipe.classify.ThemeClassifier" in types
    assert not any(name.startswith("sklearn.") for name in TRUSTED_TYPES)


def test_modelstore_vocabularies_are_stored_as_a_few_array_files(model, tmp_path):
    import zipfile

    version_dir = save(model, tmp_path)
    with zipfile.ZipFile(version_dir / "model.skops") as archive:
        names = archive.namelist()
        schema = archive.read("schema.json")
        assert all(info.compress_type == zipfile.ZIP_DEFLATED
                   for info in archive.infolist())
    # One .npy per array (vocabularies, weights, calibration), not one node per n-gram.
    assert len(names) < 20 and len(schema) < 20000
    n_terms = len(model.char_vectorizer_.vocabulary_) + len(model.word_vectorizer_.vocabulary_)
    assert n_terms > 200
    loaded, _ = load_model(tmp_path)
    assert loaded.char_vectorizer_.vocabulary_ == model.char_vectorizer_.vocabulary_
    assert loaded.word_vectorizer_.vocabulary_ == model.word_vectorizer_.vocabulary_
