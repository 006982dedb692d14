"""Pseudonymisation: names and honorific mentions replaced, offsets mapped exactly."""

import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themepipe.privacy import Pseudonymiser

ROOT = Path(__file__).resolve().parents[1]
INFORMANTS = ROOT / "corpus" / "kajigelem" / "informants.csv"

SMALL = pd.DataFrame({
    "transcript": ["a.txt", "a.txt", "b.txt", "c.txt"],
    "speaker_label": ["Pak Tris (Lurah)", "Bu Sri (anyaman)", "Narasumber", "Narasumber"],
    "informant_id": ["inf01", "inf22", "inf04", "inf05"],
    "name": ["Sutrisno Hadi", "Sri Lestari", "Suparmi", "Agus Riyanto"],
    "group": ["desa", "anggota", "desa", "desa"],
    "dusun": ["Jipurwo", "Jipurwo", "Gelaran", "Lemahputih"],
})


def name_words(informants: pd.DataFrame) -> set[str]:
    return {w.casefold() for n in informants["name"].dropna()
            for w in re.findall(r"[^\W\d_]+", n) if len(w) >= 3}


def leaked(text: str, words: set[str]) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]+", text) if w.casefold() in words]


@pytest.fixture(scope="module")
def small():
    return Pseudonymiser.from_informants(SMALL)


def test_privacy_informant_names_and_short_forms(small):
    text = "Kata Pak Tris, Sutrisno Hadi itu lurah. Bu Sri Lestari dan Bu Parmi setuju."
    assert small.redact(text) == ("Kata Pak [inf01], [inf01] itu lurah. Bu [inf22] dan "
                                  "Bu [inf04] setuju.")


def test_privacy_other_people_get_stable_hash_pseudonyms(small):
    out = small.redact("Pak Karto bilang, lalu Pak Karto pergi ke Mbah Joyo.")
    first, second, third = re.findall(r"\[N-\d{5}\]", out)
    assert first == second != third
    assert "Karto" not in out and "Joyo" not in out
    # the same name gives the same pseudonym in any text, independent of position
    assert small.redact("Mbah Joyo.") == f"Mbah {third}."


def test_privacy_titles_places_and_fillers_are_not_names(small):
    text = "Pak Lurah, Pak Dukuh Lemahputih, Bu Anu, Bapak Ibu sekalian, ning Kasongan."
    assert small.redact(text) == text


def test_privacy_title_does_not_hide_following_informant_name(small):
    assert small.redact("Pak Dukuh Agus bilang") == "Pak Dukuh [inf05] bilang"


def with_informant(informant_id: str, name: str) -> Pseudonymiser:
    """A pseudonymiser for SMALL plus one informant."""
    row = pd.DataFrame({"transcript": ["d.txt"], "speaker_label": ["Narasumber"],
                        "informant_id": [informant_id], "name": [name], "group": ["x"],
                        "dusun": ["Ngasem"]})
    return Pseudonymiser.from_informants(pd.concat([SMALL, row]))


def test_privacy_short_forms_in_address():
    p = with_informant("inf17", "Anton Wibisono")
    assert p.redact("Lha iya, Ton. Wis, Lik? Iya, Wah, ora.") == (
        "Lha iya, [inf17]. Wis, Lik? Iya, Wah, ora.")
    assert p.redact("Ton itu satuan berat.") == "Ton itu satuan berat."  # not in address


def test_privacy_name_words_are_case_insensitive(small):
    assert small.redact("SUTRISNO dan sri") == "[inf01] dan [inf22]"


def test_privacy_shared_surname_alone_is_not_attributed():
    p = with_informant("inf21", "Sugeng Riyanto")
    out = p.redact("Riyanto datang, Agus Riyanto juga.")
    assert re.fullmatch(r"\[N-\d{5}\] datang, \[inf05\] juga\.", out)


def test_privacy_pseudonyms_do_not_depend_on_table_order():
    a = Pseudonymiser.from_informants(SMALL)
    b = Pseudonymiser.from_informants(SMALL.iloc[::-1])
    text = "Pak Karto, Bu Sri, Mas Bejo dan Suparmi."
    assert a.redact(text) == b.redact(text)


def test_privacy_bundled_transcripts_lose_every_name_word():
    informants = pd.read_csv(INFORMANTS)
    p = Pseudonymiser.from_informants(informants)
    words = name_words(informants)
    sources = sorted((ROOT / "corpus" / "kajigelem" / "transcripts").iterdir())
    assert len(sources) >= 20
    for path in sources:
        text = path.read_text(encoding="utf-8")
        redacted = p.redact(text)
        assert leaked(redacted, words) == [], path.name
        # short forms from the transcripts, which are in no name column
        for short in ("Pak Tris", "Pak Bagyo", "Mas Yanto", "Bu Parmi", ", Ton.", ", Yem,"):
            assert short not in redacted
    # honorific mentions resolve to the informant the label names
    assert p.redact("Pak Tris") == "Pak [inf01]"
    assert p.redact("Pak Bagyo") == "Pak [inf16]"
    assert p.redact("Mas Yanto") == "Mas [inf25]"


# -- offset maps -------------------------------------------------------------------------
PIECES = ["Pak Tris", "Sutrisno Hadi", " ", ", ", "\n", "Bu Sri", "kata", "Pak Karto",
          "Pak Lurah", "sri", "é", "Mbah Joyo", "Suparmi-nya", "  ", "Agus", ".", "ning",
          # decomposed (NFD) letters and stray combining marks
          "E\u0301lise", "Bu E\u0301lise", "\u0301", "S\u0301ri", "Pak Haji ", "O'Neil",
          "Bpk. ", "Pak\n", "Ñ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25), st.data())
def test_privacy_redact_mapped_maps_untouched_spans_exactly(pieces, data):
    p = Pseudonymiser.from_informants(SMALL)
    text = "".join(pieces)
    r = p.redact_mapped(text)
    assert r.text == p.redact(text) or text == ""
    n = len(text)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    overlaps = any(start < oe and end > os_ for os_, oe, _, _ in r.replacements)
    if not overlaps:
        rs, re_ = r.to_redacted(start), r.to_redacted(end)
        assert r.text[rs:re_] == text[start:end]
        assert (r.to_original(rs), r.to_original(re_)) == (start, end)
    # any span maps onto a span that covers it, whole pseudonyms included
    rs, re_ = r.span_to_redacted(start, end)
    assert 0 <= rs <= re_ <= len(r.text)
    os_, oe = r.span_to_original(rs, re_)
    assert os_ <= start and oe >= end
    # a replaced name is a whole word: no combining mark or letter is left on either side
    for a, b, _, _ in r.replacements:
        assert not (b < n and (text[b].isalpha() or unicodedata.combining(text[b])))
        assert not (a > 0 and text[a - 1].isalpha())


def test_privacy_redact_mapped_replacements_are_consistent(small):
    text = "Kula Sutrisno Hadi. Pak Karto lan Bu Sri."
    r = small.redact_mapped(text)
    assert [text[a:b] for a, b, _, _ in r.replacements] == ["Sutrisno Hadi", "Karto", "Sri"]
    assert [r.text[c:d] for _, _, c, d in r.replacements] == [
        "[inf01]", small.pseudonym("Karto"), "[inf22]"]
    inside = text.index("trisno")
    assert r.to_redacted(inside) == r.replacements[0][2]
    assert r.to_redacted(inside, side="right") == r.replacements[0][3]


# -- outputs meant for sharing ----------------------------------------------------------
def _texts_of(path: Path) -> list[tuple[str, str]]:
    """(member name, text) of a file, unpacking zips (.xlsx, .qdpx)."""
    if path.suffix in {".xlsx", ".qdpx"}:
        with zipfile.ZipFile(path) as archive:
            return [(f"{path.name}!{info.filename}",
                     archive.read(info).decode("utf-8", errors="replace"))
                    for info in archive.infolist() if not info.is_dir()]
    return [(path.name, path.read_text(encoding="utf-8"))]


def test_privacy_no_names_in_shared_outputs(bundled_run, tmp_path):
    from themepipe.qdpx import export_qdpx

    out = Path(bundled_run.out)
    config = bundled_run.manifest["config"]
    assert config["privacy"]["redact"] is True
    expected = ["quotes.csv"]
    expected += ["report.html"] if config["report"]["html"] else []
    expected += ["report.xlsx"] if config["report"]["xlsx"] else []
    missing = [name for name in expected if not (out / name).is_file()]
    assert not missing, f"outputs meant for sharing missing from the run folder: {missing}"
    shared = [out / name for name in expected]
    shared += sorted(out.glob("*.qdpx"))
    qdpx = tmp_path / "project.qdpx"
    export_qdpx(out, qdpx)
    shared.append(qdpx)

    informants = pd.read_csv(INFORMANTS)
    words = name_words(informants)
    assert {"sutrisno", "tris", "sri"} & words == {"sutrisno", "sri"}
    texts = [member for path in shared for member in _texts_of(path)]
    assert any(name.startswith("project.qdpx!sources/") for name, _ in texts)
    found = {name: sorted(set(leaked(text, words)))[:5] for name, text in texts
             if leaked(text, words)}
    assert found == {}
    # and the short forms used in the transcripts (not in any name column): after an
    # honorific only titles and words checked by hand in the bundled corpus remain
    joined = "\n".join(text for _, text in texts)
    assert not re.search(r"\b(Pak Tris|Pak Bagyo|Mas Yanto|Bu Parmi|Pak Karto)\b", joined)
    after_honorific = set(re.findall(r"\b(?:Pak|Bu|Bapak|Ibu|Mas|Mbak|Mbah) ([A-Z][a-z]+)",
                                     joined))
    assert after_honorific <= {"Lurah", "Dukuh", "Carik", "Bupati", "Anu", "Ibu", "Bapak",
                               "Mas", "Mbak", "Kajigelem", "Camat", "Kepala", "Ketua"}
    # the quotes still carry text (redaction replaced names, not whole quotes)
    quotes = pd.read_csv(io.StringIO(_texts_of(out / "quotes.csv")[0][1]))
    assert quotes["text"].str.len().min() > 0


def test_privacy_informant_id_that_spells_a_name_is_not_used_as_pseudonym():
    p = with_informant("darsih", "Darsih Wulandari")
    assert re.fullmatch(r"\[N-\d{5}\] datang", p.redact("Darsih datang"))


# -- labels, attribute values, Unicode and honorific forms -------------------------------
TESTER = pd.DataFrame({
    "transcript": ["t1.txt", "t2.txt", "t3 Pak Budi.txt", "t4.txt", "t5.txt", "t6.txt"],
    "speaker_label": ["Kiki (K)", "Narasumber", "Pak Budi", "Narasumber (Bu Tini)",
                      "Bu Tri (Kadus)", "Responden"],
    "informant_id": ["inf_a", "inf_b", "inf_c", "inf_d", "inf_e", "inf_f"],
    "name": ["Rizki Amelia", "Ma'ruf Al-Amin", "Budi Santoso", "Sutini",
             "Tri Wahyuni", "\u00c9lise Karyo"],
    "group": ["desa", "desa", "pengurus", "pengurus", "anggota", "anggota"],
    "jabatan": ["Ketua", "Anak Mbah Suroto", "Bendahara Kajigelem", "Kadus", "Kadus", ""],
})


@pytest.fixture(scope="module")
def tester():
    return Pseudonymiser.from_informants(TESTER)


def test_privacy_label_without_honorific_is_a_short_form(tester):
    assert tester.aliases["inf_a"] == ["Kiki"]
    assert "inf_b" not in tester.aliases and "inf_f" not in tester.aliases  # role words
    assert tester.redact("Selamat pagi, Mbak Kiki. kiki panggilan saya.") == (
        "Selamat pagi, Mbak [inf_a]. [inf_a] panggilan saya.")
    # the label itself is source text: redacted in the line that carries it
    assert tester.redact("Kiki (K): Pagi.\nK: Iya.") == "[inf_a] (K): Pagi.\nK: Iya."


def test_privacy_label_parentheses_and_attribute_values_do_not_exempt_names(tester):
    assert tester.aliases["inf_d"] == ["Tini"]
    assert tester.redact("Bu Tini bilang.") == "Bu [inf_d] bilang."
    # Suroto is in the jabatan column, but after an honorific there it is a name
    out = tester.redact("Anak Mbah Suroto")
    assert re.fullmatch(r"Anak Mbah \[N-\d{5}\]", out)
    assert tester.redact("Bpk. Suroto datang.") == f"Bpk. {out[-9:]} datang."
    # an organisation named after an office in the table stays; titles stay
    assert tester.redact("Mbak Kajigelem, Pak Lurah, Bu Kadus.") == (
        "Mbak Kajigelem, Pak Lurah, Bu Kadus.")


def test_privacy_unicode_nfd_names_are_found_and_replaced_whole(tester):
    nfd = "Bu E\u0301lise, E\u0301LISE karyo di sini."
    assert tester.redact(nfd) == "Bu [inf_f], [inf_f] di sini."
    r = tester.redact_mapped(nfd)
    assert [nfd[a:b] for a, b, _, _ in r.replacements] == ["E\u0301lise", "E\u0301LISE karyo"]


def test_privacy_titles_between_honorific_and_name(tester):
    out = tester.redact("Pak Haji Karto, Pak Lurah Darsono, Bu Dokter Wati, Bu Haji Tini, "
                        "Pak Dr. Joyo, Ir. Warso.")
    assert re.fullmatch(r"Pak Haji \[N-\d{5}\], Pak Lurah \[N-\d{5}\], Bu Dokter \[N-\d{5}\], "
                        r"Bu Haji \[inf_d\], Pak Dr\. \[N-\d{5}\], Ir\. \[N-\d{5}\]\.", out)
    assert tester.redact("Pak Haji Karto") == f"Pak Haji {tester.pseudonym('Karto')}"
    assert tester.redact("hari H. Setelah itu") == "hari H. Setelah itu"


def test_privacy_honorific_forms_line_breaks_and_spaces(tester):
    warso = tester.pseudonym("Warso")
    assert tester.redact("Pak\nWarso yang urus.") == f"Pak\n{warso} yang urus."
    assert tester.redact("Pak   Warso, Bp. Warso, Sdr. Warso, Sdri. Warso, Ibu Warso") == (
        f"Pak   {warso}, Bp. {warso}, Sdr. {warso}, Sdri. {warso}, Ibu {warso}")
    # a speaker label on the next line is not a name
    assert tester.redact("Terima kasih, Pak\nPeneliti: Oke.") == (
        "Terima kasih, Pak\nPeneliti: Oke.")


def test_privacy_apostrophes_hyphens_and_variant_spellings(tester):
    assert tester.redact("Saya Ma'ruf. Al-Amin itu marga. Ma\u2019ruf dipanggil Maruf.") == (
        "Saya [inf_b]. [inf_b] itu marga. [inf_b] dipanggil [inf_b].")
    out = tester.redact("Pak O'Neil datang. Mas Bejo-nya sibuk. Budi's.")
    assert re.fullmatch(r"Pak \[N-\d{5}\] datang\. Mas \[N-\d{5}\]-nya sibuk\. \[inf_c\]'s\.",
                        out)
    assert tester.pseudonym("Bejo") in out


def test_privacy_lowercase_after_honorific_only_when_known(tester):
    assert tester.redact("Mbak karyo datang") == "Mbak [inf_f] datang"
    assert tester.redact("Mbak kiki datang") == "Mbak [inf_a] datang"
    assert tester.redact("Mbak datang, mas bilang") == "Mbak datang, mas bilang"


def test_privacy_quotes_redact_group_transcript_and_segment_id(tester):
    from themepipe.quotes import select_quotes

    segments = pd.DataFrame({
        "segment_id": ["t3 Pak Budi.txt:1", "t2.txt:1"], "role": ["informant"] * 2,
        "informant_id": ["inf_c", "inf_b"], "transcript": ["t3 Pak Budi.txt", "t2.txt"],
        "start_char": [10, 5], "end_char": [30, 20], "text": ["Budi di sini.", "Saya."],
        "jabatan": ["Anak Mbah Suroto", "Ketua"], "gold_themes": ["a", "a"],
        "pred_themes": ["a", "a"], "a": [1, 1], "p_a": [0.9, 0.8],
    })
    quotes = select_quotes(segments, ["a"], by="jabatan", redact=tester.redact)
    row = quotes[quotes["informant_id"] == "inf_c"].iloc[0]
    assert (row["transcript"], row["segment_id"], row["text"]) == (
        "t3 Pak [inf_c].txt", "t3 Pak [inf_c].txt:1", "[inf_c] di sini.")
    assert sorted(quotes["group"]) == sorted(["Ketua", tester.redact("Anak Mbah Suroto")])
    assert "Suroto" not in " ".join(quotes["group"])
    plain = select_quotes(segments, ["a"], by="jabatan")
    assert "t3 Pak Budi.txt" in set(plain["transcript"])


def test_privacy_informant_id_with_name_word_is_reported():
    from themepipe.privacy import informant_id_problems

    table = pd.concat([TESTER, pd.DataFrame({
        "transcript": ["t7.txt"], "speaker_label": ["Narasumber"], "informant_id": ["wahyuni"],
        "name": ["Wahyuni Lestari"], "group": ["x"], "jabatan": [""]})])
    problems = informant_id_problems(table, "informants.csv")
    message = ("informant id 'wahyuni' contains a name word; shared outputs show ids "
               "\u2014 use neutral ids such as inf01")
    assert [(p.code, p.action, p.message) for p in problems] == [("T707", "warning", message)]
    assert informant_id_problems(TESTER) == []


def test_privacy_report_group_values_go_through_redact(bundled_run, tmp_path):
    import shutil

    from themepipe.report import write_reports

    run_dir = tmp_path / "run"
    shutil.copytree(bundled_run.out, run_dir)
    groups = set(pd.read_csv(run_dir / "theme_distribution.csv")["group"])
    assert "pemerintah_desa" in groups
    written = write_reports(run_dir, redact=lambda t: t.replace("pemerintah_desa", "[N-00001]"))
    assert {p.name for p in written} == {"report.html", "report.xlsx"}
    texts = [text for path in written for _, text in _texts_of(path)]
    assert not any("pemerintah_desa" in text for text in texts)
    assert "[N-00001]" in (run_dir / "report.html").read_text(encoding="utf-8")
