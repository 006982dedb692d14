"""Pseudonymisation: names and honorific mentions replaced, offsets mapped exactly."""

import io
import re
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
          "Pak Lurah", "sri", "é", "Mbah Joyo", "Suparmi-nya", "  ", "Agus", ".", "ning"]


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
