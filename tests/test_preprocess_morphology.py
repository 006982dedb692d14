"""Tests of colloquial verb morphology and stemming, including the generated nasal test."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from themepipe.config import PreprocessConfig
from themepipe.preprocess import Preprocessor
from themepipe.preprocess.morphology import ColloquialMorphology, men_form, nasal_roots
from themepipe.preprocess.resources import read_mapping
from themepipe.preprocess.stemmer import Stemmer, root_dictionary

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
VOWELS = "aeiou"


@pytest.fixture(scope="module")
def pre() -> Preprocessor:
    return Preprocessor(PreprocessConfig(
        lexicon=CONFIGS / "lexicon.tsv", protected_words=CONFIGS / "protected_words.txt",
        stem_overrides=CONFIGS / "stem_overrides.tsv", stop_words=CONFIGS / "stop_words.txt"))


def nasal_form(root: str) -> str:
    """Colloquial nasal-prefixed form of a root, by its first letter.

    k, h -> ng (dropped); p -> m (dropped); t -> n (dropped); s, c -> ny (dropped);
    vowels and g -> ng; b -> m (Javanese mb-); d, j -> n (nd-, nj-); other consonants
    and consonant clusters (sponsor, kritik) -> nge-.
    """
    first = root[0]
    if first not in VOWELS and root[1] not in VOWELS:
        return "nge" + root
    if first in VOWELS or first == "g":
        return "ng" + root
    if first in "kh":
        return "ng" + root[1:]
    if first == "p":
        return "m" + root[1:]
    if first == "b":
        return "m" + root
    if first == "t":
        return "n" + root[1:]
    if first in "dj":
        return "n" + root
    if first in "sc":
        return "ny" + root[1:]
    return "nge" + root


def test_preprocess_generated_nasal_forms_stem_back(pre):
    lexicon = read_mapping(CONFIGS / "lexicon.tsv")
    pool = sorted(w for w in root_dictionary()
                  if re.fullmatch(r"[a-z]{4,}", w) and w not in lexicon)
    roots = random.Random(20240611).sample(pool, 300)
    forms = [(root, form) for root in roots
             for form in (nasal_form(root), nasal_form(root) + "in", "di" + root + "in")]
    failures = [(root, form, pre.stem_word(form)) for root, form in forms
                if pre.stem_word(form) != root]
    rate = 1 - len(failures) / len(forms)
    print(f"\ngenerated colloquial forms: {len(forms)} from {len(roots)} roots; "
          f"stem back to the root: {rate:.1%}")
    for root, form, stem in failures:
        print(f"  {form:<22} -> {stem:<16} (root {root})")
    assert len(roots) >= 200
    assert rate >= 0.90


@pytest.mark.parametrize("word, norm, stem", [
    ("nulis", "menulis", "tulis"), ("mukul", "memukul", "pukul"),
    ("nyapu", "menyapu", "sapu"), ("nyari", "mencari", "cari"),
    ("ngirim", "mengirim", "kirim"), ("ngambil", "mengambil", "ambil"),
    ("mbayar", "membayar", "bayar"), ("ndaftar", "mendaftar", "daftar"),
    ("nggambar", "menggambar", "gambar"), ("njual", "menjual", "jual"),
    ("ngecat", "mengecat", "cat"), ("ngeluarin", "mengeluarkan", "keluar"),
    ("ngitung", "menghitung", "hitung"), ("nginep", "menginap", "inap"),
    ("mikirin", "memikirkan", "pikir"), ("dikerjain", "dikerjakan", "kerja"),
    ("dipikirin", "dipikirkan", "pikir"), ("bacain", "bacakan", "baca"),
    ("ngasihin", "memberikan", "beri"), ("nyampein", "menyampaikan", "sampai"),
    ("ketauan", "ketahuan", "tahu"), ("keinget", "teringat", "ingat"),
    ("nongkrong", "menongkrong", "tongkrong"), ("nyambung", "menyambung", "sambung"),
    ("dijelaske", "dijelaskan", "jelas"), ("njelaske", "menjelaskan", "jelas"),
    ("nerusake", "meneruskan", "terus"), ("ngumpulke", "mengumpulkan", "kumpul"),
    ("dicatet", "dicatat", "catat"), ("ngobong", "membakar", "bakar"),
    ("omahe", "rumahnya", "rumah"), ("bantuane", "bantuannya", "bantu"),
])
def test_preprocess_colloquial_morphology(pre, word, norm, stem):
    tokens = pre.analyze(word)
    assert [(t.norm, t.stem) for t in tokens] == [(norm, stem)]


@pytest.mark.parametrize("word, stem", [
    ("terjalin", "jalin"), ("dijalin", "jalin"), ("makanan", "makan"), ("pemain", "main"),
    ("menulis", "tulis"), ("mainan", "main"), ("kemungkinan", "mungkin"),
    ("dingin", "dingin"), ("makan", "makan"), ("ngeri", "ngeri"), ("nyanyi", "nyanyi"),
    ("kebijakan", "kebijakan"), ("kepengurusan", "pengurus"), ("terasa", "rasa"),
])
def test_preprocess_standard_words_keep_their_analysis(pre, word, stem):
    assert pre.stem_word(word) == stem
    assert pre.analyze(word)[0].norm == word


@pytest.mark.parametrize("word, stem", [
    ("dikurangi", "kurang"), ("ditemani", "teman"), ("keunikan", "unik"),
    ("sesekali", "sekali"), ("diberikan", "beri"), ("kekacauan", "kacau"),
])
def test_preprocess_confix_correction(word, stem):
    assert Stemmer().sastrawi(word) == stem


@pytest.mark.parametrize("root, form", [
    ("tulis", "menulis"), ("pukul", "memukul"), ("sapu", "menyapu"), ("cari", "mencari"),
    ("kirim", "mengirim"), ("ambil", "mengambil"), ("bayar", "membayar"),
    ("rasa", "merasa"), ("cat", "mengecat"), ("jual", "menjual"), ("hitung", "menghitung"),
    ("transfer", "mentransfer"), ("protes", "memprotes"), ("kritik", "mengkritik"),
    ("pakai", "memakai"),
])
def test_preprocess_men_form(root, form):
    assert men_form(root) == form


def test_preprocess_nasal_roots_order():
    assert list(nasal_roots("ngurus")) == ["urus", "kurus", "hurus"]
    assert list(nasal_roots("nyari")) == ["cari", "sari"]
    assert list(nasal_roots("mbayar")) == ["bayar"]
    assert list(nasal_roots("nari")) == []  # under five letters: not analysed


def test_preprocess_morphology_needs_a_known_root():
    morphology = ColloquialMorphology({"urus", "kurus", "dengar"}, {"denger": "dengar"})
    assert morphology.analyze("ngurusin").root == "urus"
    analysis = morphology.analyze("dengerin")
    assert (analysis.root, analysis.via_lexicon, analysis.pattern) == ("dengar", True, "-in")
    assert morphology.analyze("ngobrol") is None


@pytest.mark.parametrize("word", ["mobile", "orange", "online", "private", "pancake",
                                  "stroke", "diajeng", "dibanjur"])
def test_preprocess_loanwords_are_not_javanese_affixes(pre, word):
    assert pre.analyze(word)[0].norm == word
