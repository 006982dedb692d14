from pathlib import Path

import pytest

from themepipe.codebook import load_codebook
from themepipe.config import apply_overrides, load_config
from themepipe.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "kajigelem.yaml"


def test_config_bundled_loads_and_resolves_paths():
    config = load_config(CONFIG)
    assert config.topics.num_topics == 9
    assert config.corpus.path == (ROOT / "corpus" / "kajigelem" / "transcripts").resolve()
    assert config.codebook == (ROOT / "configs" / "codebook.yaml").resolve()
    assert config.groups[0] == "pemerintah_desa"


def test_config_override_sets_typed_value():
    config = load_config(CONFIG, ["topics.num_topics=8", "privacy.redact=false"])
    assert config.topics.num_topics == 8
    assert config.privacy.redact is False


@pytest.mark.parametrize("override, needle", [
    ("topics.num_topic=8", "topics.num_topic"),
    ("topics.num_topics=eight", "topics.num_topics"),
    ("nosuchsection.key=1", "nosuchsection"),
])
def test_config_bad_override_names_dotted_key(override, needle):
    with pytest.raises(ConfigError) as info:
        load_config(CONFIG, [override])
    message = info.value.format()
    assert needle in message
    assert "\n" not in message


def test_config_unknown_key_lists_allowed_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("corpus: {path: x, colour: red}\ncodebook: cb.yaml\n")
    with pytest.raises(ConfigError, match=r"unknown key 'corpus.colour'; allowed here: .*path"):
        load_config(path)


def test_config_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="T004"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("corpus: [unclosed\n")
    with pytest.raises(ConfigError, match="T003") as info:
        load_config(bad)
    assert info.value.line is not None


def test_config_yaml_cannot_execute_code(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ConfigError):
        load_config(path)
    assert not marker.exists()


def test_config_apply_overrides_does_not_mutate_input():
    data = {"topics": {"num_topics": 9}}
    out = apply_overrides(data, ["topics.num_topics=4", "compare.by=[dusun]"])
    assert data == {"topics": {"num_topics": 9}}
    assert out["topics"]["num_topics"] == 4 and out["compare"]["by"] == ["dusun"]
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        apply_overrides(data, ["topics.num_topics"])
    with pytest.raises(ConfigError, match="'topics.num_topics' is not a section"):
        apply_overrides(data, ["topics.num_topics.x=1"])


def test_codebook_bundled_has_six_themes_with_all_parts():
    codebook = load_codebook(ROOT / "configs" / "codebook.yaml")
    assert codebook.ids == ["sosialisasi", "perencanaan", "politis", "sinkronisasi",
                            "respon_masyarakat", "sdm_pengurus"]
    for theme in codebook.themes:
        assert theme.short_definition and theme.when_not_to_use and theme.example
        assert len(theme.seed_words) >= 5


@pytest.mark.parametrize("body, code", [
    ("- {id: a, label: A}\n- {id: a, label: B}\n", "T023"),
    ("- {id: none, label: A}\n", "T022"),
    ("- {id: Bad-Id, label: A}\n", "T022"),
    ("- {id: a}\n", "T021"),
    ("[]\n", "T021"),
])
def test_codebook_invalid_is_refused(tmp_path, body, code):
    path = tmp_path / "codebook.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=code):
        load_codebook(path)
