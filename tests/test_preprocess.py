"""Tests of the preprocess stage: the issue's acceptance table, offsets, noise, API."""

from __future__ import annotations

import gc
import itertools
import math
from pathlib import Path

import pandas as pd
import pytest

from themepipe.config import PreprocessConfig
from themepipe.errors import ConfigError, StageError
from themepipe.preprocess import Preprocessor, Token, get_nlp

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SMSA = SHARED / "data" / "indonlu" / "smsa_doc-sentiment-prosa" / "train_preprocess.tsv"


def bundled_config(**changes) -> PreprocessConfig:
    """The preprocess section that configs/kajigelem.yaml uses, with changes."""
    values = {"lexicon": CONFIGS / "lexicon.tsv",
              "protected_words": CONFIGS / "protected_words.txt",
              "stem_overrides": CONFIGS / "stem_overrides.tsv",
              "stop_words": CONFIGS / "stop_words.txt",
              "note_patterns": CONFIGS / "notes.txt"}
    values.update(changes)
    return PreprocessConfig(**values)


@pytest.fixture(scope="module")
def pre() -> Preprocessor:
    return Preprocessor.from_config(bundled_config())


@pytest.fixture(scope="module")
def bare() -> Preprocessor:
    return Preprocessor()


def analyze(pre: Preprocessor, text: str) -> list[Token]:
    """Analyse ``text``; check that every token's offsets slice it back and that the
    columns of ``transform`` (computed per chunk) agree with the tokens."""
    tokens = pre.analyze(text)
    for token in tokens:
        assert text[token.start:token.end] == token.text, token
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)
    assert pre.columns(text) == (" ".join(t.norm for t in tokens),
                                 " ".join(t.stem for t in tokens if not t.is_stop))
    return tokens


def only(pre: Preprocessor, word: str) -> Token:
    tokens = analyze(pre, word)
    assert len(tokens) == 1, tokens
    return tokens[0]


# --- the acceptance table --------------------------------------------------------------

@pytest.mark.parametrize("word", ["nggak", "gak", "ndak", "mboten", "tdk", "Nggak", "NGGAK"])
def test_preprocess_norm_negation(pre, word):
    assert only(pre, word).norm == "tidak"


@pytest.mark.parametrize("word", ["udah", "wis", "sampun"])
def test_preprocess_norm_sudah(pre, word):
    assert only(pre, word).norm == "sudah"


@pytest.mark.parametrize("word, stem", [
    ("ngurusin", "urus"), ("dengerin", "dengar"), ("nyariin", "cari"),
    ("pengrajin", "perajin"), ("perajin", "perajin"), ("kerajinan", "kerajinan"),
    ("pemerintahan", "pemerintah"), ("pemerintah", "pemerintah"),
    ("dikurangi", "kurang"), ("Kasongan", "kasongan"), ("Bantul", "bantul"),
])
def test_preprocess_stem_acceptance(pre, word, stem):
    assert only(pre, word).stem == stem
    assert pre.stem_word(word) == stem


@pytest.mark.parametrize("which", ["pre", "bare"])
def test_preprocess_standard_words_look_affixed_but_stay(which, request):
    preprocessor = request.getfixturevalue(which)
    words = "ingin main mungkin dingin miskin yakin nyaman nyata"
    tokens = analyze(preprocessor, words)
    assert [t.stem for t in tokens] == words.split()
    assert [t.norm for t in tokens] == words.split()


def test_preprocess_digit_reduplication(pre):
    token = only(pre, "beda2")
    assert (token.text, token.norm, token.stem) == ("beda2", "beda-beda", "beda")
    assert only(pre, "hari2nya").norm == "hari-harinya"
    assert only(pre, "temen2nya").norm == "teman-temannya"


def test_preprocess_abbreviation_does_not_end_sentence(pre):
    text = "Pak. Darmo bilang programnya jalan."
    tokens = analyze(pre, text)
    assert [t.text for t in tokens] == ["Pak.", "Darmo", "bilang", "programnya", "jalan"]
    assert {t.sent for t in tokens} == {0}
    assert pre.sentences(text) == [(0, len(text))]


def test_preprocess_number_stays_whole(pre):
    tokens = analyze(pre, "harganya Rp 10.000 per biji")
    assert "10.000" in [t.text for t in tokens]
    assert [t.text for t in analyze(pre, "tahun 2007 kira-kira 2,5 juta")] == [
        "tahun", "2007", "kira-kira", "2,5", "juta"]


def test_preprocess_fillers_and_notes_make_no_token(pre):
    text = "ee [tertawa] ya (tidak jelas) gitu"
    tokens = analyze(pre, text)
    assert [t.text for t in tokens] == ["ya", "gitu"]
    assert [t.start for t in tokens] == [13, 30]


@pytest.mark.parametrize("word", ["tidak", "belum", "bukan", "jangan", "nggak", "Tidak"])
def test_preprocess_negations_are_not_stop_words(pre, word):
    assert only(pre, word).is_stop is False


# --- tokenisation ----------------------------------------------------------------------

@pytest.mark.parametrize("abbr", ["Bu.", "Bpk.", "Sdr.", "Jl.", "dll.", "M.Si.", "bu."])
def test_preprocess_abbreviations_are_one_token(pre, abbr):
    text = f"kata {abbr} Darmo. Terus"
    tokens = analyze(pre, text)
    assert [t.text for t in tokens] == ["kata", abbr, "Darmo", "Terus"]
    assert [t.sent for t in tokens] == [0, 0, 0, 1]
    assert tokens[1].is_stop


@pytest.mark.parametrize("text, words", [
    ("beda-beda", ["beda-beda"]),
    ("anak-anaknya datang", ["anak-anaknya", "datang"]),
    ("rumah-nya", ["rumah-nya"]),
    ("dhèwèké kéné", ["dhèwèké", "kéné"]),
    ("dhe\u0300we\u0300ke\u0301 ke\u0301ne\u0301",
     ["dhe\u0300we\u0300ke\u0301", "ke\u0301ne\u0301"]),
    ("programnya, kan?", ["programnya", "kan"]),
    ("dan/atau", ["dan", "atau"]),
])
def test_preprocess_tokens(bare, text, words):
    assert [t.text for t in analyze(bare, text)] == words


def test_preprocess_clitic_policy(pre):
    token = only(pre, "programnya")
    assert (token.norm, token.stem) == ("programnya", "program")
    token = only(pre, "udahlah")
    assert (token.norm, token.stem, token.is_stop) == ("sudahlah", "sudah", True)
    assert only(pre, "rumah-nya").norm == "rumahnya"
    assert only(pre, "Kasongannya").stem == "kasongan"
    assert only(pre, "pemerintahnya").stem == "pemerintah"


def test_preprocess_diacritics_fold_into_the_norm(pre, bare):
    assert only(bare, "dhèwèké").norm == "dheweke"
    assert only(pre, "dhèwèké").norm == "dia"
    assert only(pre, "dhe\u0300we\u0300ke\u0301").norm == "dia"


def test_preprocess_sastrawi_normaliser_is_bypassed(pre):
    assert pre.stem_word("10.000") == "10.000"
    assert pre.stem_word("café") == "cafe"
    assert pre.stem_word("straße") == "straße"
    assert pre.stem_word("ee") == ""
    assert pre.stem_word(" pengrajin, ") == "perajin"
    assert pre.stem_word("kerja sama") == "kerja sama"
    assert pre.stem_word("") == ""


def test_preprocess_elongated_words(pre):
    assert [t.norm for t in analyze(pre, "gituuu bangeeet")] == ["begitu", "sangat"]


# --- noise -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["eeeh", "hmmm", "emmm", "anu", "Ehm", "eh", "é"])
def test_preprocess_fillers(pre, text):
    assert analyze(pre, text) == []


def test_preprocess_real_parentheses_are_kept(pre):
    tokens = analyze(pre, "Terus (kata dia) begitu [00:12:31] 00:12 ya")
    assert [t.text for t in tokens] == ["Terus", "kata", "dia", "begitu", "ya"]


def test_preprocess_note_patterns_are_configurable(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("# mine\n<<sela>>\nre:\\{[^}]*\\}\n", encoding="utf-8")
    custom = Preprocessor(PreprocessConfig(note_patterns=notes))
    text = "ya <<SELA>> {batuk} [tetap] (tertawa)"
    assert [t.text for t in analyze(custom, text)] == ["ya", "tetap", "tertawa"]


def test_preprocess_configs_notes_cover_the_defaults():
    from themepipe.preprocess.noise import DEFAULT_NOTE_PATTERNS
    from themepipe.preprocess.resources import read_note_patterns

    assert set(DEFAULT_NOTE_PATTERNS) <= set(read_note_patterns(CONFIGS / "notes.txt"))


# --- sentences -------------------------------------------------------------------------

def test_preprocess_sentences(pre):
    text = 'Dia bilang, "Nggak tahu." Terus gimana?! (tertawa) Ya...\n\nBaru mulai'
    spans = pre.sentences(text)
    assert [text[s:e] for s, e in spans] == [
        'Dia bilang, "Nggak tahu."', "Terus gimana?!", "(tertawa) Ya...", "Baru mulai"]
    assert [t.sent for t in analyze(pre, text)] == [0, 0, 0, 0, 1, 1, 2, 3, 3]


def test_preprocess_sentences_match_the_spacy_component(pre):
    text = "Iya, Pak. Darmo bilang gitu. Terus? Nggak tahu!"
    doc = get_nlp()(text)
    assert [(s.start_char, s.end_char) for s in doc.sents] == pre.sentences(text)


def test_preprocess_get_nlp_is_cached():
    assert get_nlp() is get_nlp()
    assert "themepipe_sentences" in get_nlp().pipe_names


# --- stop words, stemming switches -----------------------------------------------------

def test_preprocess_stop_words_file_adds_and_keeps(tmp_path):
    stop = tmp_path / "stop.txt"
    stop.write_text("gerabah\n!kurang\n", encoding="utf-8")
    custom = Preprocessor(PreprocessConfig(stop_words=stop, keep_words=["yang"]))
    flags = {t.text: t.is_stop for t in analyze(custom, "gerabah kurang yang dan tidak")}
    assert flags == {"gerabah": True, "kurang": False, "yang": False, "dan": True,
                     "tidak": True}


def test_preprocess_stem_disabled_keeps_norms():
    plain = Preprocessor(bundled_config(stem=False))
    tokens = analyze(plain, "pengrajin ngurusin pemerintahan")
    assert [t.stem for t in tokens] == [t.norm for t in tokens] == [
        "perajin", "menguruskan", "pemerintahan"]


def test_preprocess_numbers_stop_switch():
    keep = Preprocessor(PreprocessConfig(stop_numbers=False))
    assert only(keep, "2007").is_stop is False
    assert only(Preprocessor(), "2007").is_stop is True


def test_preprocess_codebook_seed_words_all_stem():
    from themepipe.codebook import load_codebook

    pre = Preprocessor.from_config(bundled_config())
    seeds = load_codebook(CONFIGS / "codebook.yaml").seed_words()
    stems = {w: pre.stem_word(w) for words in seeds.values() for w in words}
    assert all(stems.values()), stems
    assert stems["pengurus"] == "pengurus"
    assert stems["perencanaan"] == "rencana"


# --- DataFrame transform and parallelism -----------------------------------------------

TEXTS = [
    "Pak. Darmo bilang programnya nggak jalan.",
    "ee [tertawa] ya (tidak jelas) gitu",
    "Pengrajin di Kasongan udah ngurusin sendiri-sendiri, beda2 semua.",
    "",
    "harganya Rp 10.000 per biji, tahun 2007 pemerintahan ganti.",
    "Sosialisasinya kurang, masyarakat belum tahu programe.",
]


def test_preprocess_transform_adds_columns_without_mutating(pre):
    segments = pd.DataFrame({"segment_id": list("abcdefg"),
                             "text": TEXTS + [float("nan")]})
    before = segments.copy()
    out = pre.transform(segments)
    pd.testing.assert_frame_equal(segments, before)
    assert list(out.columns) == ["segment_id", "text", "tokens", "stems"]
    assert out.loc[0, "tokens"] == "pak darmo bilang programnya tidak jalan"
    assert out.loc[0, "stems"] == "darmo bilang program tidak jalan"
    assert out.loc[1, "tokens"] == "ya begitu"
    assert out.loc[1, "stems"] == ""
    assert out.loc[2, "stems"] == "perajin kasongan urus sendiri beda"
    assert out.loc[3, "tokens"] == out.loc[6, "tokens"] == ""
    assert out.loc[4, "stems"] == "harga biji tahun pemerintah ganti"


def test_preprocess_transform_parallel_is_identical(pre):
    segments = pd.DataFrame({"text": TEXTS * 7})
    one = pre.transform(segments, n_process=1)
    fresh = Preprocessor.from_config(bundled_config())
    two = fresh.transform(segments, n_process=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(fresh._words) > 0  # the workers' word types came back to the parent
    assert gc.isenabled() and gc.get_freeze_count() == 0


class _Failing(Preprocessor):
    def word_info(self, surface):
        if surface == "boom":
            raise RuntimeError("cannot analyse boom")
        return super().word_info(surface)


def test_preprocess_transform_parallel_worker_failure():
    failing = _Failing()
    with pytest.raises(StageError, match="T442.*boom"):
        failing.transform(pd.DataFrame({"text": ["ya gitu", "boom di sini", "ya"]}),
                          n_process=2)


def test_preprocess_transform_errors(pre):
    with pytest.raises(StageError, match="T440"):
        pre.transform(pd.DataFrame({"body": ["x"]}))
    with pytest.raises(StageError, match="T441"):
        pre.transform(pd.DataFrame({"text": ["x"]}), n_process=0)


def test_preprocess_token_records(pre):
    records = pre.token_records("Nggak tahu. Udah")
    assert records == [
        {"text": "Nggak", "norm": "tidak", "stem": "tidak", "start": 0, "end": 5,
         "is_stop": False, "sent": 0},
        {"text": "tahu", "norm": "tahu", "stem": "tahu", "start": 6, "end": 10,
         "is_stop": False, "sent": 0},
        {"text": "Udah", "norm": "sudah", "stem": "sudah", "start": 12, "end": 16,
         "is_stop": True, "sent": 1},
    ]


def test_preprocess_pickles_by_config(pre):
    import pickle

    copy = pickle.loads(pickle.dumps(pre))
    assert copy.config == pre.config
    assert copy.stem_word("pengrajin") == "perajin"


# --- config files ----------------------------------------------------------------------

def test_preprocess_bundled_lexicon_is_large_and_clean():
    from themepipe.preprocess.resources import read_mapping

    lexicon = read_mapping(CONFIGS / "lexicon.tsv")
    assert len(lexicon) >= 300
    assert all(key != value for key, value in lexicon.items())
    # forms that are also standard words must not be in it (tanah liat = clay)
    assert not {"liat", "teko", "kalian", "saking", "mesti"} & set(lexicon)


@pytest.mark.parametrize("content, code, line", [
    ("nggak\ttidak\nudah\n", "T031", 2),
    ("nggak\ttidak\nnggak\tenggak\n", "T032", 2),
    ("# c\nnggak\ttidak kok\n", "T031", 2),
])
def test_preprocess_lexicon_errors(tmp_path, content, code, line):
    path = tmp_path / "lexicon.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Preprocessor(PreprocessConfig(lexicon=path))
    assert info.value.code == code
    assert info.value.line == line
    assert info.value.path == str(path)


def test_preprocess_missing_file_error(tmp_path):
    with pytest.raises(ConfigError, match="T030"):
        Preprocessor(PreprocessConfig(protected_words=tmp_path / "nope.txt"))


def test_preprocess_bad_note_pattern_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("re:(unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="T034"):
        Preprocessor(PreprocessConfig(note_patterns=path))


def test_preprocess_lookups_norm_needs_the_package():
    pytest.importorskip("spacy")
    try:
        import spacy_lookups_data  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="T033"):
            Preprocessor(PreprocessConfig(lookups_norm=True))
    else:
        assert Preprocessor(PreprocessConfig(lookups_norm=True)).stem_word("makan")


def test_preprocess_config_rejects_unknown_keys():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        PreprocessConfig(lexicon_file="x.tsv")


# --- offsets, in every case ------------------------------------------------------------

def test_preprocess_offsets_property(pre):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("aeiknrsgy2 .,-()[]:!?\"'\n\t\xa0\u2003é") +
                               ["\u0300", "nya", "Pak.", "ee", "10.000", "(tertawa)",
                                "dll.", "ng", "ny", "\r\n"])

    @hypothesis.settings(max_examples=150, deadline=None, derandomize=True)
    @hypothesis.given(st.lists(alphabet, max_size=30).map("".join))
    def check(text):
        tokens = analyze(pre, text)
        spans = pre.sentences(text)
        assert all(0 <= s < e <= len(text) for s, e in spans)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        assert all(0 <= t.sent < len(spans) for t in tokens)
        for t in tokens:
            s, e = spans[t.sent]
            assert s <= t.start and t.end <= e

    check()


@pytest.mark.skipif(not SMSA.is_file(), reason="../shared/data/indonlu is absent")
def test_preprocess_offsets_on_real_text(pre):
    texts = [line.split("\t")[0] for line in
             SMSA.read_text(encoding="utf-8").splitlines()[:400]]
    n_tokens = sum(len(analyze(pre, text)) for text in texts)
    assert n_tokens > 5000
    columns = pre.transform(pd.DataFrame({"text": texts}))
    assert not math.isnan(columns["stems"].str.len().mean())


def test_preprocess_lone_surrogate_does_not_crash_and_keeps_offsets():
    from themepipe.preprocess import Preprocessor

    text = "udah \ud800 nggak"
    tokens = Preprocessor().analyze(text)
    assert [t.text for t in tokens][-1] == "nggak"
    assert all(text[t.start:t.end] == t.text for t in tokens)


@pytest.mark.parametrize("word", ["pengrajin2", "pengrajin-pengrajin", "perajin2"])
def test_preprocess_reduplication_stems_like_its_guarded_base(word):
    from themepipe.config import load_config
    from themepipe.preprocess import Preprocessor

    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "kajigelem.yaml")
    assert Preprocessor.from_config(config.preprocess).stem_word(word) == "perajin"
