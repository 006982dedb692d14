"""Tests for themepipe.speakers: header blocks, speaker labels, turns and offsets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themepipe.config import DEFAULT_HEADER_KEYS, DEFAULT_INTERVIEWER_LABELS
from themepipe.errors import ConfigError, ThemepipeError
from themepipe.sources import read_source
from themepipe.speakers import (
    LabelProblem,
    ParsedTranscript,
    Turn,
    compile_label_pattern,
    label_key,
    parse_simple_toml,
    parse_transcript,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TRANSCRIPTS = FIXTURES / "transcripts"

KIKI = ("Kiki (K)", "Kiki", "K")
KIKI_REVERSED = ("K (Kiki)", "K", "Kiki")
DARMO = ("Pak Darmo (Kadus)", "Pak Darmo", "Kadus")

# file -> (informant labels for known-label mode, [(label, aliases, speech), ...])
EXPECTED = {
    "label_p_i.txt": (["I"], [
        ("P", ("P",), "Selamat pagi, Bu. Boleh saya mulai rekamannya?"),
        ("I", ("I",), "Boleh, Mas. Silakan."),
        ("P", ("P",), "Sejak kapan Ibu membuat gerabah?"),
        ("I", ("I",), "Wah, sudah lama sekali. Dari kecil saya sudah ikut simbah di "
         "dapur.\n\nWaktu itu tanahnya masih ambil dari sawah sendiri, belum beli seperti "
         "sekarang."),
        ("P", ("P",), "Terima kasih, Bu."),
    ]),
    "label_peneliti_narasumber.txt": (["Narasumber"], [
        ("Peneliti", ("Peneliti",), "Bapak pernah dengar soal klaster Kajigelem?"),
        ("Narasumber", ("Narasumber",), "Pernah, tapi cuma dengar-dengar saja.\nJadi "
         "begini: dulu ada rapat di balai desa, saya tidak diundang."),
        ("Peneliti", ("Peneliti",), "Kenapa tidak diundang?"),
        ("Narasumber", ("Narasumber",), "Ya mungkin karena saya bukan anggota.\n"
         "Catatan: narasumber tertawa."),
    ]),
    "label_pewawancara_informan.txt": (["Informan"], [
        ("Pewawancara", ("Pewawancara",), "Ibu ikut pameran tahun kemarin?"),
        ("Informan", ("Informan",), "Ikut sekali, di Jogja Expo Center."),
        ("Pewawancara", ("Pewawancara",), "Bagaimana hasilnya?"),
        ("Informan", ("Informan",), ""),
        ("Pewawancara", ("Pewawancara",), "Ibu?"),
        ("Informan", ("Informan",), "Eh, maaf. Hasilnya lumayan, ada pesanan dari Bali."),
    ]),
    "label_penanya_responden.txt": (["Responden"], [
        ("Penanya", ("Penanya",), "Menurut Bapak, pengurus paguyuban sekarang aktif?"),
        ("Responden", ("Responden",), "Yang aktif paling dua orang. Lainnya sibuk di "
         "bengkel sendiri."),
        ("Penanya", ("Penanya",), "Ada regenerasi?"),
        ("Responden", ("Responden",), "Belum ada. Anak muda lebih suka kerja di pabrik."),
    ]),
    "label_tanya_jawab.txt": (["Jawab"], [
        ("Tanya", ("Tanya",), "Pernah ada sosialisasi program klaster di dusun ini?"),
        ("Jawab", ("Jawab",), "Seingat saya sekali, waktu awal. Setelah itu tidak ada "
         "lagi."),
        ("Tanya", ("Tanya",), "Yang datang siapa saja?"),
        ("Jawab", ("Jawab",), "Pak Dukuh, beberapa pengrajin. Saya sendiri tidak datang, "
         "lagi ada pesanan."),
    ]),
    "label_t_j.txt": (["J"], [
        ("T", ("T",), "Rencana kerja paguyuban ada, Pak?"),
        ("J", ("J",), "Tertulis tidak ada. Ya jalan saja, kalau ada bantuan baru rapat."),
        ("T", ("T",), "Target penjualan?"),
        ("J", ("J",), "Tidak pernah dibuat."),
    ]),
    "label_honorifik.txt": (["Pak Darmo (Kadus)", "Bu Sri"], [
        ("Peneliti", ("Peneliti",), "Pak Darmo, sebagai kepala dusun, bagaimana peran "
         "dusun dalam klaster?"),
        ("Pak Darmo (Kadus)", DARMO, "Dusun itu hanya membantu, Mbak. Anggaran semua dari "
         "kabupaten."),
        ("Bu Sri", ("Bu Sri",), "Nyuwun sewu, saya tambahi sedikit."),
        ("Pak Darmo", DARMO, "Monggo, Bu."),
        ("Bu Sri", ("Bu Sri",), "Pelatihan terakhir itu tahun 2016, setelah itu sepi."),
    ]),
    "label_alias.txt": (["K"], [
        ("P", ("P",), "Mbak Kiki sudah berapa lama jadi pengurus?"),
        ("Kiki (K)", KIKI, "Sejak 2009, Mas. Waktu itu diajak Pak Lurah."),
        ("P", ("P",), "Sekarang masih aktif?"),
        ("K", KIKI, "Masih, tapi sendirian. Yang lain sibuk dengan bengkel "
         "masing-masing."),
    ]),
    "label_alias_terbalik.txt": (["Kiki (K)"], [
        ("Peneliti", ("Peneliti",), "Mas Kiki jualan lewat mana sekarang?"),
        ("K (Kiki)", KIKI_REVERSED, "Lewat pengepul dari Kasongan, Mbak. Kadang ada tamu "
         "langsung."),
        ("Peneliti", ("Peneliti",), "Lewat paguyuban tidak?"),
        ("K", KIKI_REVERSED, "Tidak pernah."),
        ("Kiki", KIKI_REVERSED, "Eh, pernah sekali, waktu pameran di Jakarta."),
    ]),
    "label_markdown.md": (["Pak Darmo", "K"], [
        ("Tanya", ("Tanya",), "Bagaimana penjualan bulan ini?"),
        ("Pak Darmo", ("Pak Darmo",), "Sepi, Mas. Pembeli dari luar kota berkurang."),
        ("Tanya", ("Tanya",), "Kenapa begitu?"),
        ("K", ("K",), "Kalau menurut saya karena jalannya rusak."),
        ("Pak Darmo", ("Pak Darmo",), "Betul itu."),
    ]),
    "label_escaped.md": (["K"], [
        ("P", ("P",), "Apakah pengurus pernah membuat laporan kegiatan?"),
        ("K", ("K",), "Pernah, untuk dinas. Tapi isinya daftar hadir saja."),
        ("P", ("P",), "Laporan keuangan?"),
        ("K", ("K",), "Itu yang belum."),
    ]),
    "label_timestamp.txt": (["Informan", "I"], [
        ("Pewawancara", ("Pewawancara",), "Bisa diceritakan awal mula klaster?"),
        ("Informan", ("Informan",), "Awalnya setelah gempa tahun 2006."),
        ("P", ("P",), "Siapa yang mengusulkan?"),
        ("I", ("I",), "Dari dinas, katanya biar kerajinan bangkit lagi."),
        ("P", ("P",), "Lalu?"),
        ("I", ("I",), "Lalu dibentuk pengurus. Rapatnya jam 10:30 di balai desa."),
    ]),
    "encoding_utf8_bom.txt": (["Narasumber"], [
        ("Peneliti", ("Peneliti",), "Harga tanah liat sekarang berapa, Bu?"),
        ("Narasumber", ("Narasumber",), "Satu rit Rp 350.000 \u2013 kadang lebih\u2026 "
         "tergantung musim."),
    ]),
    "encoding_cp1252_crlf.txt": (["I"], [
        ("P", ("P",), "Apa yang paling sulit buat pengrajin?"),
        ("I", ("I",), "\u201cModal\u201d, kata orang-orang \u2013 tapi menurut saya "
         "pemasaran\u2026 caf\u00e9-caf\u00e9 di Jogja jarang ambil.\n\nKalau pameran, "
         "yang berangkat itu-itu saja."),
    ]),
    "encoding_utf16.txt": (["Jawab"], [
        ("Tanya", ("Tanya",), "Kapan terakhir ada rapat paguyuban?"),
        ("Jawab", ("Jawab",), "Wah, lupa. Mungkin dua tahun lalu."),
    ]),
    "header_yaml.md": (["Bu Sri"], [
        ("Peneliti", ("Peneliti",), "Bu Sri, sudah berapa lama jadi anggota?"),
        ("Bu Sri", ("Bu Sri",), "Kira-kira delapan tahun."),
    ]),
    "header_toml.md": (["Pak Harjo"], [
        ("Pewawancara", ("Pewawancara",), "Bapak kenal paguyuban Kajigelem?"),
        ("Pak Harjo", ("Pak Harjo",), "Belum pernah dengar, Mas."),
    ]),
    "header_keys.txt": (["Informan"], [
        ("Peneliti", ("Peneliti",), "Dinas punya program apa saja untuk klaster?"),
        ("Informan", ("Informan",),
         "Banyak, Mas. Pelatihan desain, bantuan alat, pameran."),
        ("Peneliti", ("Peneliti",), "Koordinasinya dengan desa bagaimana?"),
        ("Informan", ("Informan",), "Jujur saja, kurang."),
    ]),
}


def _load_make_docx():
    spec = importlib.util.spec_from_file_location("make_docx", FIXTURES / "make_docx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _known(informant_labels):
    return [*DEFAULT_INTERVIEWER_LABELS, *informant_labels]


def _summary(text: str, parsed: ParsedTranscript):
    return [(turn.speaker_label, turn.aliases, text[turn.start_char:turn.end_char])
            for turn in parsed.turns]


@pytest.mark.parametrize("mode", ["heuristic", "known"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_speakers_fixture_turns(name, mode):
    informants, expected = EXPECTED[name]
    text = read_source(TRANSCRIPTS / name).text
    known = _known(informants) if mode == "known" else None
    parsed = parse_transcript(text, known_labels=known, name=name)
    assert _summary(text, parsed) == expected
    assert parsed.problems == []


def test_speakers_fixture_lines_and_offsets():
    text = read_source(TRANSCRIPTS / "label_p_i.txt").text
    parsed = parse_transcript(text)
    assert [turn.line for turn in parsed.turns] == [1, 2, 3, 4, 7]
    assert parsed.turns[0] == Turn("P", ("P",), 3, 49, 1)
    assert parsed.body_start == 0 and parsed.metadata == {}


@pytest.mark.parametrize("mode", ["heuristic", "known"])
def test_speakers_docx_fixture(tmp_path, mode):
    make_docx = _load_make_docx()
    text = read_source(make_docx.build_docx(tmp_path / "wawancara.docx")).text
    known = _known(["Pak Darmo (Kadus)"]) if mode == "known" else None
    parsed = parse_transcript(text, known_labels=known)
    assert parsed.metadata == {"Informan": "Pak Darmo", "Kelompok": "pemerintah_desa"}
    assert _summary(text, parsed) == [
        ("Peneliti", ("Peneliti",), "Sugeng siang, Pak. Kita mulai, nggih."),
        ("Pak Darmo (Kadus)", DARMO, "Monggo, Mbak."),
        ("Peneliti", ("Peneliti",), "Klaster itu sekarang bagaimana?"),
        ("Pak Darmo", DARMO, "Sudah jarang kumpul.\nPengurusnya sibuk sendiri.\n"
         "(rekaman terputus)"),
        ("Peneliti", ("Peneliti",), "Baik, matur nuwun, Pak."),
    ]
    assert parsed.problems == []


def test_speakers_yaml_header():
    text = read_source(TRANSCRIPTS / "header_yaml.md").text
    parsed = parse_transcript(text)
    assert parsed.metadata == {
        "informan": "Bu Sri Wahyuni", "kelompok": "anggota_kajigelem",
        "tanggal": "2017-03-14", "lokasi": "Dusun Kasongan", "pewawancara": "Rina; Budi"}
    assert text[:parsed.body_start].endswith("pewawancara: [Rina, Budi]\n---\n")
    assert parsed.turns[0].line == 9


def test_speakers_toml_header():
    text = read_source(TRANSCRIPTS / "header_toml.md").text
    parsed = parse_transcript(text)
    assert parsed.metadata == {"informan": "Pak Harjo", "kelompok": "pengrajin_lokal",
                               "tanggal": "2017-03-15", "rekaman.durasi_menit": "38"}
    assert text[parsed.body_start:].startswith("\nPewawancara:")


def test_speakers_key_value_header():
    text = read_source(TRANSCRIPTS / "header_keys.txt").text
    parsed = parse_transcript(text, header_keys=DEFAULT_HEADER_KEYS)
    assert parsed.metadata == {"Informan": "Mbak Ratna", "Kelompok": "dinas_instansi",
                               "Tanggal": "16 Maret 2017",
                               "Lokasi": "Kantor Dinas Perindustrian"}
    assert parsed.body_start == text.index("\nPeneliti:")
    assert all(turn.start_char > parsed.body_start for turn in parsed.turns)


def test_speakers_key_value_header_keys_any_case_and_markdown():
    text = "**informan:** Pak Harjo\nLOKASI: Kasongan\n\nP: Monggo, Pak.\nI: Nggih.\n"
    parsed = parse_transcript(text, header_keys=["Informan", "Lokasi"])
    assert parsed.metadata == {"Informan": "Pak Harjo", "Lokasi": "Kasongan"}
    assert _summary(text, parsed) == [("P", ("P",), "Monggo, Pak."), ("I", ("I",),
                                                                       "Nggih.")]


def test_speakers_key_value_lines_with_other_keys_are_not_a_header():
    text = "Informan: Pak Harjo\nDurasi: 40 menit\n\nP: Monggo.\n"
    parsed = parse_transcript(text, header_keys=["Informan"])
    assert parsed.metadata == {}
    assert parsed.body_start == 0
    assert [(p.line, p.kind, p.suggestion) for p in parsed.problems] == [
        (1, "incomplete_header", "add 'Durasi' to corpus.header_keys")]
    assert _summary(text, parsed) == [
        ("Informan", ("Informan",), "Pak Harjo\nDurasi: 40 menit"),
        ("P", ("P",), "Monggo.")]


def test_speakers_transcript_starting_with_header_key_label_is_not_a_header():
    text = "Informan: Iya, betul.\nPeneliti: Sejak kapan?\nInforman: Lama.\n"
    parsed = parse_transcript(text)
    assert (parsed.metadata, parsed.problems) == ({}, [])
    assert [t.speaker_label for t in parsed.turns] == ["Informan", "Peneliti", "Informan"]


def test_speakers_single_header_line_used_as_label_is_a_turn():
    text = "Informan: Iya, saya sudah lama di sini.\n\nPeneliti: Sejak kapan?\n" \
           "Informan: Sejak 1998.\n"
    parsed = parse_transcript(text)
    assert parsed.metadata == {}
    assert _summary(text, parsed)[0] == ("Informan", ("Informan",),
                                         "Iya, saya sudah lama di sini.")
    assert [(p.line, p.kind) for p in parsed.problems] == [(1, "ambiguous_header")]


def test_speakers_single_header_line_not_used_as_label_is_a_header():
    text = "Lokasi: Kasongan\n\nP: Monggo.\nI: Nggih.\n"
    parsed = parse_transcript(text)
    assert parsed.metadata == {"Lokasi": "Kasongan"}
    assert parsed.problems == []
    assert len(parsed.turns) == 2


@pytest.mark.parametrize("block", [
    "---\nP: Apa kabar: baik\n  - x\n---\nP: Monggo.\n",
    "---\n- satu\n- dua\n---\nP: Monggo.\n",
    "+++\ninforman = \n+++\nP: Monggo.\n",
])
def test_speakers_invalid_front_matter_is_read_as_text(block):
    parsed = parse_transcript(block)
    assert parsed.metadata == {}
    assert parsed.body_start == 0
    assert parsed.problems[0].kind == "invalid_header"
    assert parsed.problems[0].line == 1
    assert parsed.turns[-1].speaker_label == "P"


def test_speakers_front_matter_must_open_on_first_line():
    text = "\n---\ninforman: Bu Sri\n---\nP: Monggo.\n"
    parsed = parse_transcript(text)
    assert parsed.metadata == {}
    assert parsed.problems[0].kind == "text_before_first_label"


def test_speakers_simple_toml_reader():
    block = ('# komentar\ninforman = "Pak \\"Harjo\\"" # nama samaran\n'
             'kelompok = \'pengrajin_lokal\'\n'
             'tanggal = 2017-03-15 # tanggal rekaman\n[rekaman]\ndurasi = 38\n')
    assert parse_simple_toml(block) == {
        "informan": 'Pak "Harjo"', "kelompok": "pengrajin_lokal", "tanggal": "2017-03-15",
        "rekaman": {"durasi": "38"}}
    for bad in ("bukan pasangan", "informan = ", 'informan = "Pak', "a = 1\n[a]"):
        with pytest.raises(ValueError, match="line"):
            parse_simple_toml(bad)


def test_speakers_front_matter_expansion_is_bounded():
    bomb = "---\nlapis0: &lapis0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"lapis{i + 1}: &lapis{i + 1} [{', '.join([f'*lapis{i}'] * 10)}]\n"
        for i in range(8)) + "---\nP: Monggo.\n"
    parsed = parse_transcript(bomb)
    assert parsed.metadata == {}
    assert [p.kind for p in parsed.problems][0] == "invalid_header"
    assert [t.speaker_label for t in parsed.turns] == ["P"]
    recursive = parse_transcript("---\na: &a [*a]\n---\nP: Monggo.\n")
    assert recursive.problems[0].kind == "invalid_header"


def test_speakers_unclosed_front_matter_is_text():
    text = "---\n" + "- catatan lapangan\n" * 5000 + "---\nP: Monggo.\n"
    parsed = parse_transcript(text)
    assert parsed.metadata == {} and parsed.body_start == 0
    assert [t.speaker_label for t in parsed.turns] == ["P"]


@pytest.mark.parametrize("line, label", [
    ("**Tanya:** ya", "Tanya"),
    ("**Pak Darmo**: ya", "Pak Darmo"),
    ("**Pak Darmo** (Kadus): ya", "Pak Darmo (Kadus)"),
    ("**Pak Darmo (Kadus):** ya", "Pak Darmo (Kadus)"),
    ("\\*\\*K:\\*\\* ya", "K"),
    ("\\*\\*K\\*\\*: ya", "K"),
    ("**K** ya", "K"),
    ("__P:__ ya", "P"),
    ("*P:* ya", "P"),
    ("P : ya", "P"),
    ("  P: ya", "P"),
    ("P:ya", "P"),
    ("PENELITI: ya", "PENELITI"),
    ("narasumber: ya", "narasumber"),
    ("Pak  Darmo (Kadus): ya", "Pak Darmo (Kadus)"),
    ("[00:03:15] Pewawancara: ya", "Pewawancara"),
    ("[00:03:15] - P: ya", "P"),
    ("00:03:15 P: ya", "P"),
    ("(00:03:15) P: ya", "P"),
    ("[03:15.5] P: ya", "P"),
    ("**[00:03:15] P:** ya", "P"),
    ("[00:03:15] **P:** ya", "P"),
    ("Informan 2: ya", "Informan 2"),
    ("P1: ya", "P1"),
    ("Bu Sri: ya", "Bu Sri"),
    ("Mbak Ratna (Dinas): ya", "Mbak Ratna (Dinas)"),
    ("Ketua Paguyuban: ya", "Ketua Paguyuban"),
])
def test_speakers_label_variants(line, label):
    text = f"{line}\n"
    parsed = parse_transcript(text)
    assert [(t.speaker_label, text[t.start_char:t.end_char]) for t in parsed.turns] == [
        (label, "ya")]
    assert parsed.problems == []


@pytest.mark.parametrize("speech", [
    "Jadi begini: harganya naik terus.",
    "Catatan: narasumber menunjuk ke arah timur.",
    "Misalnya: gerabah, topeng, wayang.",
    "Jam 10:30 kami berangkat ke dinas.",
    "Https://contoh.id itu alamat tokonya.",
    "Harganya: lima ribu sebiji.",
    "Kata Pak Lurah: nanti dibantu.",
    "Sekitar 10:30: rapat dimulai.",
    "**Penting** sekali itu, Mbak.",
    "Lokasi: di belakang balai desa.",
])
@pytest.mark.parametrize("mode", ["heuristic", "known"])
def test_speakers_speech_lines_are_not_labels(speech, mode):
    text = f"P: Bagaimana?\nI: Begini.\n{speech}\nP: Oh, begitu.\n"
    known = _known(["I"]) if mode == "known" else None
    parsed = parse_transcript(text, known_labels=known)
    assert _summary(text, parsed) == [
        ("P", ("P",), "Bagaimana?"), ("I", ("I",), f"Begini.\n{speech}"),
        ("P", ("P",), "Oh, begitu.")]
    assert parsed.problems == []


def test_speakers_recurring_capitalised_name_is_a_label():
    text = "P: Siapa yang datang?\nDarmo: Saya.\nRatna: Saya juga.\nDarmo: Terus?\n" \
           "Ratna: Ya sudah.\n"
    parsed = parse_transcript(text)
    assert [t.speaker_label for t in parsed.turns] == ["P", "Darmo", "Ratna", "Darmo",
                                                       "Ratna"]
    once = parse_transcript("P: Siapa?\nDarmo: Saya.\n")
    assert [t.speaker_label for t in once.turns] == ["P"]


def test_speakers_known_labels_filter_candidates():
    text = ("Peneliti: Siapa saja yang hadir?\nPak Budi: Saya, Mbak.\n"
            "Pak Darmi: Saya juga.\nPak Darmo: Dan saya.\n")
    parsed = parse_transcript(text, known_labels=["Peneliti", "Pak Darmo"])
    assert _summary(text, parsed) == [
        ("Peneliti", ("Peneliti",), "Siapa saja yang hadir?\nPak Budi: Saya, Mbak.\n"
         "Pak Darmi: Saya juga."),
        ("Pak Darmo", ("Pak Darmo",), "Dan saya.")]
    assert [(p.line, p.kind, p.suggestion) for p in parsed.problems] == [
        (2, "unknown_label", None), (3, "unknown_label", "Pak Darmo")]


def test_speakers_known_labels_case_insensitive():
    text = "PENELITI: Monggo.\nnarasumber: Nggih.\n"
    parsed = parse_transcript(text, known_labels=["Peneliti", "Narasumber"])
    assert [t.speaker_label for t in parsed.turns] == ["PENELITI", "narasumber"]


def test_speakers_known_labels_empty_means_nothing_is_a_label():
    parsed = parse_transcript("P: Monggo.\nI: Nggih.\n", known_labels=[])
    assert parsed.turns == []
    assert [(p.line, p.kind) for p in parsed.problems] == [
        (1, "unknown_label"), (1, "text_before_first_label"), (2, "unknown_label")]


def test_speakers_problems_fixture():
    text = read_source(TRANSCRIPTS / "masalah.txt").text
    for known in (None, _known(["Narasumber"])):
        parsed = parse_transcript(text, known_labels=known)
        assert _summary(text, parsed) == [
            ("Peneliti", ("Peneliti",), "Ibu tahu soal paguyuban?"),
            ("Narasumber", ("Narasumber",), "Tahu, tapi tidak ikut.\nNarasumbr: Soalnya "
             "jauh dari rumah."),
            ("Peneliti", ("Peneliti",), "Pernah diajak? Narasumber: Pernah sekali."),
            ("Narasumber", ("Narasumber",), "Sudah, itu saja."),
        ]
        assert [(p.line, p.kind, p.suggestion) for p in parsed.problems] == [
            (1, "text_before_first_label", "add 'Durasi' to corpus.header_keys"),
            (6, "unknown_label", "Narasumber"),
            (7, "two_labels_on_line", "start a new line before 'Narasumber:'"),
        ]
        assert "did you mean Narasumber?" in parsed.problems[1].message
        assert "2 non-blank lines" in parsed.problems[0].message
        assert all("\n" not in p.message for p in parsed.problems)


def test_speakers_near_miss_reported_once_per_label():
    text = "P: a\nNarasumbr: b\nP: c\nNarasumbr: d\nNarasumber: e\n"
    parsed = parse_transcript(text, known_labels=["P", "Narasumber"])
    assert parsed.problems == [LabelProblem(
        2, "unknown_label", "'Narasumbr:' looks like a speaker label but is not a known "
        "label (lines 2, 4); did you mean Narasumber? Its lines were read as speech of the "
        "turn before", "Narasumber")]


def test_speakers_short_labels_attract_no_suggestions():
    parsed = parse_transcript("P: a\nPi: b\nIya: c\n", known_labels=["P", "I"])
    assert parsed.problems == []


def test_speakers_ambiguous_alias():
    text = ("Peneliti: Silakan.\nPak Darmo (Warga): Saya dulu.\nBu Sri (Warga): Lalu saya."
            "\nWarga: Kami setuju.\nPak Darmo: Betul.\n")
    parsed = parse_transcript(text)
    assert [(t.speaker_label, t.aliases) for t in parsed.turns] == [
        ("Peneliti", ("Peneliti",)),
        ("Pak Darmo (Warga)", ("Pak Darmo (Warga)", "Pak Darmo")),
        ("Bu Sri (Warga)", ("Bu Sri (Warga)", "Bu Sri")),
        ("Warga", ("Warga",)),
        ("Pak Darmo", ("Pak Darmo (Warga)", "Pak Darmo")),
    ]
    assert [(p.line, p.kind) for p in parsed.problems] == [(4, "ambiguous_alias")]
    assert "Pak Darmo (Warga), Bu Sri (Warga)" in parsed.problems[0].message


def test_speakers_alias_used_before_introduction():
    text = "P: Siapa?\nK: Saya.\nKiki (K): Maksudnya saya, Kiki.\n"
    parsed = parse_transcript(text, known_labels=["P", "Kiki"])
    assert [(t.speaker_label, t.aliases) for t in parsed.turns] == [
        ("P", ("P",)), ("K", KIKI), ("Kiki (K)", KIKI)]


def test_speakers_empty_turns_keep_span():
    text = "P:\nI: Nggih.\nP:"
    parsed = parse_transcript(text)
    assert [(t.speaker_label, t.start_char, t.end_char) for t in parsed.turns] == [
        ("P", 2, 2), ("I", 6, 12), ("P", 15, 15)]


@pytest.mark.parametrize("text", ["", " ", "\n\n  \n\t"])
def test_speakers_blank_text(text):
    assert parse_transcript(text) == ParsedTranscript({}, 0, [], [])


def test_speakers_text_without_labels():
    parsed = parse_transcript("Rekaman rusak.\nTidak ada suara.\n")
    assert parsed.turns == []
    assert [(p.line, p.kind, p.suggestion) for p in parsed.problems] == [
        (1, "text_before_first_label", None)]
    assert "no speaker label was found" in parsed.problems[0].message


def test_speakers_leading_bom_is_ignored():
    text = "\ufeffP: Monggo.\nI: Nggih.\n"
    parsed = parse_transcript(text, known_labels=["P", "I"])
    assert _summary(text, parsed) == [("P", ("P",), "Monggo."), ("I", ("I",), "Nggih.")]


def test_speakers_tab_separated_rows():
    text = "Peneliti\tApa kabar?\nNarasumber\tBaik.\n"
    parsed = parse_transcript(text)
    assert _summary(text, parsed) == [("Peneliti", ("Peneliti",), "Apa kabar?"),
                                      ("Narasumber", ("Narasumber",), "Baik.")]


def test_speakers_label_pattern_override():
    text = "Darmo > Iya, Mbak.\nRina > Terus?\nbukan label > ini ucapan\nDarmo >\n"
    parsed = parse_transcript(text, label_pattern=r"(?P<label>[A-Z][a-z]+)\s*>[ \t]*")
    assert _summary(text, parsed) == [
        ("Darmo", ("Darmo",), "Iya, Mbak."),
        ("Rina", ("Rina",), "Terus?\nbukan label > ini ucapan"),
        ("Darmo", ("Darmo",), "")]
    known = parse_transcript(text, known_labels=["Rina"],
                             label_pattern=r"(?P<label>[A-Z][a-z]+)\s*>[ \t]*")
    assert [t.speaker_label for t in known.turns] == ["Rina"]


def test_speakers_label_pattern_speech_group():
    text = "<Darmo> [00:01] Iya.\n<Rina> [00:02] Terus?\n"
    parsed = parse_transcript(text,
                              label_pattern=r"<(?P<label>\w+)>\s*\[[\d:]+\]\s*(?P<speech>)")
    assert _summary(text, parsed) == [("Darmo", ("Darmo",), "Iya."),
                                      ("Rina", ("Rina",), "Terus?")]


@pytest.mark.parametrize("pattern, fragment", [
    ("(?P<label>\\w+", "not a valid regular expression"),
    ("\\w+:", "no named group 'label'"),
])
def test_speakers_label_pattern_errors(pattern, fragment):
    with pytest.raises(ConfigError) as info:
        parse_transcript("P: ya\n", label_pattern=pattern)
    assert info.value.code == "T011"
    assert fragment in info.value.message
    with pytest.raises(ConfigError):
        compile_label_pattern(pattern)


def test_speakers_label_key():
    assert label_key("Pak  Darmo(Kadus)") == label_key("pak darmo ( kadus )")
    assert label_key(" PENELITI ") == "peneliti"


# ------------------------------------------------------------------ property test

_LABELS = ["P", "I", "Peneliti", "Narasumber", "Pak Darmo (Kadus)", "Kiki (K)", "K",
           "Bu Sri", "Narasumbr", "Jadi begini", "Catatan"]
_label_line = st.builds(
    lambda ts, open_, label, close, speech: f"{ts}{open_}{label}{close}{speech}",
    st.sampled_from(["", "[00:03:15] ", "00:03:15 ", "(00:03:15) "]),
    st.sampled_from(["", "**", "\\*\\*", "*", "__"]),
    st.sampled_from(_LABELS),
    st.sampled_from([":", ":**", "**:", "**", "\\*\\*:", "\t", " :", ": "]),
    st.text(max_size=30),
)
_line = st.one_of(_label_line, st.text(max_size=40),
                  st.sampled_from(["", "---", "+++", "...", "Informan: X", "a = 1"]))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_line, max_size=15),
       known=st.one_of(st.none(), st.lists(st.sampled_from(_LABELS), max_size=4)),
       separator=st.sampled_from(["\n", "\r\n"]))
def test_speakers_random_text_gives_bounded_stripped_turns(lines, known, separator):
    text = separator.join(lines)
    try:
        parsed = parse_transcript(text, known_labels=known)
    except ThemepipeError:
        return
    previous_end = parsed.body_start
    for turn in parsed.turns:
        assert previous_end <= turn.start_char <= turn.end_char <= len(text)
        speech = text[turn.start_char:turn.end_char]
        assert speech == speech.strip()
        assert turn.speaker_label and turn.speaker_label in turn.aliases
        assert 1 <= turn.line <= text.count("\n") + 1
        previous_end = turn.end_char
    assert all(problem.line >= 1 and "\n" not in problem.message
               for problem in parsed.problems)


def test_speakers_key_value_header_ends_at_first_turn_without_blank_line():
    text = "Informan: Bu Sri\nKelompok: anggota_kajigelem\nPeneliti: Selamat pagi, Bu.\n" \
           "Bu Sri: Pagi, Mas.\n"
    for known in (["Peneliti", "Bu Sri"], None):
        parsed = parse_transcript(text, header_keys=["Informan", "Kelompok"],
                                  known_labels=known)
        assert parsed.metadata == {"Informan": "Bu Sri", "Kelompok": "anggota_kajigelem"}
        assert parsed.body_start == text.index("Peneliti:")
        assert parsed.problems == []
        assert _summary(text, parsed) == [("Peneliti", ("Peneliti",), "Selamat pagi, Bu."),
                                          ("Bu Sri", ("Bu Sri",), "Pagi, Mas.")]


def test_speakers_text_before_first_label_does_not_suggest_a_configured_header_key():
    text = "Informan: Bu Sri\nInforman: Bu Suparmi\n\nP: Monggo.\nI: Nggih.\n"
    parsed = parse_transcript(text, header_keys=["Informan"], known_labels=["P", "I"])
    assert parsed.metadata == {}
    [problem] = [p for p in parsed.problems if p.kind == "text_before_first_label"]
    assert problem.suggestion is None
    assert "add 'Informan' to corpus.header_keys" not in problem.message
    assert "'Informan' is in corpus.header_keys" in problem.message
    assert not any("header_keys" in (p.suggestion or "") for p in parsed.problems)


@pytest.mark.parametrize("speech, reported", [
    ("Rapatnya jam 10:30, di balai desa.", False),       # a time is not a label colon
    ("Lihat https://desa.id/kajigelem saja.", False),  # nor a URL
    ("Sudah. Narasumber: Pernah sekali.", True),
    ("Sudah. **Narasumber**: Pernah sekali.", True),
    ("Sudah. Narasumber :", True),                      # the colon ends the line
    ("Sudah. Narasumberku: bukan label.", False),
])
def test_speakers_second_label_needs_a_label_colon(speech, reported):
    text = f"Peneliti: Ibu tahu soal paguyuban?\nNarasumber: {speech}\nPeneliti: Nggih.\n"
    for known in (None, ["Peneliti", "Narasumber"]):
        parsed = parse_transcript(text, known_labels=known)
        kinds = [(p.line, p.kind) for p in parsed.problems]
        assert kinds == ([(2, "two_labels_on_line")] if reported else [])
        assert len(parsed.turns) == 3
