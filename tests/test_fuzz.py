"""Property tests: the transcript readers, the speaker-label parser and preprocess.

On any input only the project's own errors (:class:`ThemepipeError`) may be raised, and
every offset slices back to its text.  Profiles live in ``tests/conftest.py`` (``ci``:
500 examples per property, derandomized).
"""

import codecs
import itertools
import re
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import assume, given
from hypothesis import strategies as st

from themepipe.errors import ThemepipeError
from themepipe.preprocess import Preprocessor
from themepipe.segment import segment_turns
from themepipe.sources import decode_bytes, normalise_newlines, read_source
from themepipe.speakers import label_key, parse_transcript

ENCODINGS = ["auto", "utf-8", "cp1252", "latin-1", "utf-16-le", "utf-16", "utf-32",
             "ascii", "iso-8859-15"]
LABELS = ["P", "Narasumber", "Pak Darmo (Kadus)", "Bu Rini", "Kiki (K)", "K", "Tanya",
          "Informan 2", "Mbak Sri"]
LABEL_LIKE = st.one_of(
    st.sampled_from(LABELS),
    st.sampled_from(["Narasumbr", "narasumber", "P1", "Kiki", "Jadi begini", "Catatan",
                     "https", "10", "Warga (K)", "Bu  Rini"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)
DECORATION = st.sampled_from(["{}:", "**{}:**", "**{}**:", "**{}**", "[00:03:15] {}:",
                              "(00:01) {}:", "00:12:01 - {}:", "\\*\\*{}:\\*\\*", "{}\t",
                              "_{}_:", "{} :", " {}:"])
SPEECH = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
WORDS = st.sampled_from(["pengurus", "nggak", "ngurusin", "paguyuban", "Pak.", "dll.",
                         "(tertawa)", "[tidak jelas]", "10.000", "2007", "e-mail", "mbak-mbak",
                         "kerja2", "...", "?!", "—", "'", "\u00a0", "\t", "\n", "\n\n",
                         "ꦲꦤ", "ß", "İ", "\u0301", "\ufffd", "👍🏽", "\u200b", ":"])

_PRE = None


def preprocessor() -> Preprocessor:
    """One Preprocessor with the bundled resources (built once: it is slow)."""
    global _PRE
    if _PRE is None:
        from themepipe.config import load_config

        root = Path(__file__).resolve().parents[1]
        _PRE = Preprocessor.from_config(load_config(root / "configs" / "kajigelem.yaml")
                                        .preprocess)
    return _PRE


@st.composite
def transcripts(draw) -> str:
    """Transcript-like text: label lines, speech, blank lines, the odd header."""
    lines = []
    if draw(st.booleans()):
        lines += draw(st.sampled_from([["---", "judul: x", "---"], ["Informan: Pak Joyo", ""],
                                       ["+++", 'a = "b"', "+++"], ["---", "[", "---"]]))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind <= 1:
            label = draw(DECORATION).format(draw(LABEL_LIKE))
            lines.append(label + draw(st.sampled_from(["", " "])) + draw(SPEECH))
        elif kind == 2:
            lines.append(draw(SPEECH))
        else:
            lines.append("")
    return draw(st.sampled_from(["\n", "\n", "\r\n"])).join(lines)


# ---------------------------------------------------------------------- readers


@given(data=st.binary(max_size=300), encoding=st.sampled_from(ENCODINGS))
def test_fuzz_decode_random_bytes(data, encoding):
    try:
        decoded = decode_bytes(data, encoding=encoding, name="acak.txt")
    except ThemepipeError as error:
        assert "\n" not in error.format()
        return
    assert "\r" not in decoded.text and "\x00" not in decoded.text
    assert not decoded.text.startswith("\ufeff")


@given(text=st.text(max_size=200), encoding=st.sampled_from(
    ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252"]))
def test_fuzz_decode_auto_round_trips_text(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    try:
        decoded = decode_bytes(data, encoding="auto", name="acak.txt")
    except ThemepipeError as error:
        # refused only as "not text" (NUL, a file signature) or undecodable cp1252
        assert error.code in ("T103", "T104"), error
        return
    if encoding == "cp1252":  # may also be valid UTF-8 (then read as such): no claim
        return
    if encoding == "utf-8" and text.startswith("\ufeff"):
        text = text[1:]  # a leading U+FEFF is a byte-order mark in UTF-8
    assert decoded.text == normalise_newlines(text)


@given(data=st.binary(max_size=400), suffix=st.sampled_from([".txt", ".md", ".docx"]),
       prefix=st.sampled_from([b"", b"PK\x03\x04", b"%PDF-", b"\xef\xbb\xbf",
                               b"\xff\xfe", b"{\\rtf1"]))
def test_fuzz_read_source_any_file(data, suffix, prefix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"wawancara{suffix}"
        path.write_bytes(prefix + data)
        try:
            decoded = read_source(path, max_file_mb=0.0003)
        except ThemepipeError as error:
            assert "wawancara" in error.format() and "\n" not in error.format()
            return
    assert "\r" not in decoded.text


# ---------------------------------------------------------------------- speakers


def _check_turns(text: str, parsed) -> None:
    previous_end = parsed.body_start
    for turn in parsed.turns:
        assert previous_end <= turn.start_char <= turn.end_char <= len(text)
        speech = text[turn.start_char:turn.end_char]
        assert speech == speech.strip()
        assert 1 <= turn.line <= text.count("\n", 0, turn.start_char) + 1
        assert turn.speaker_label in turn.aliases
        previous_end = turn.end_char
    lines = text.count("\n") + 1
    assert all(1 <= problem.line <= lines for problem in parsed.problems)


@given(text=transcripts(), known=st.one_of(st.none(), st.lists(st.sampled_from(LABELS),
                                                               max_size=5)))
def test_fuzz_parse_transcript_label_like_lines(text, known):
    text = normalise_newlines(text)
    try:
        parsed = parse_transcript(text, known_labels=known)
    except ThemepipeError:
        return
    _check_turns(text, parsed)
    if known is not None:
        # a label written "Kiki (K)" also names its parts: "Kiki" and "K" (DESIGN.md)
        keys = {label_key(part) for k in known
                for part in (k, *re.split(r"\s*[()]\s*", k)) if part.strip()}
        for turn in parsed.turns:
            assert any(label_key(a) in keys for a in turn.aliases) or "(" in " ".join(
                turn.aliases)


@given(text=st.text(max_size=400))
def test_fuzz_parse_transcript_random_unicode(text):
    text = normalise_newlines(text)
    parsed = parse_transcript(text)
    _check_turns(text, parsed)


@given(text=transcripts(), pattern=st.sampled_from([
    r"(?P<label>[A-Z]\w*)\s*>\s*", r"(?P<label>\w+):", r"(?P<label>", r"[a-z]+:",
    r"(?P<label>.*)(?P<speech>)"]))
def test_fuzz_parse_transcript_label_pattern(text, pattern):
    text = normalise_newlines(text)
    try:
        parsed = parse_transcript(text, label_pattern=pattern)
    except ThemepipeError as error:
        assert error.code == "T011"
        return
    _check_turns(text, parsed)


# ---------------------------------------------------------------------- preprocess


TEXTS = st.one_of(st.text(max_size=200),
                  st.lists(WORDS | st.text(max_size=6), max_size=30).map(" ".join),
                  st.lists(WORDS, max_size=30).map("".join))


@given(text=TEXTS)
def test_fuzz_preprocess_offsets_slice_back(text):
    pre = preprocessor()
    tokens = pre.analyze(text)
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert text[token.start:token.end] == token.text
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)
    spans = pre.sentences(text)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


@given(texts=st.lists(TEXTS, min_size=1, max_size=5))
def test_fuzz_preprocess_transform_columns(texts):
    pre = preprocessor()
    frame = pd.DataFrame({"text": texts})
    out = pre.transform(frame)
    assert list(out["text"]) == texts
    for text, tokens, stems in zip(texts, out["tokens"], out["stems"]):
        assert isinstance(tokens, str) and isinstance(stems, str)
        assert len(stems.split()) <= len(tokens.split())
        assert tokens == " ".join(t.norm for t in pre.analyze(text))


@given(text=transcripts(), max_sentences=st.integers(0, 3))
def test_fuzz_parse_segment_preprocess_offsets(text, max_sentences):
    """Labels -> turns -> sentence windows: every segment slices back to the source."""
    text = normalise_newlines(text)
    parsed = parse_transcript(text, known_labels=LABELS)
    turns = pd.DataFrame([{
        "segment_id": f"a.txt:{i}", "transcript": "a.txt", "informant_id": "i",
        "group": "g", "speaker": t.speaker_label, "role": "informant", "turn_index": i,
        "start_char": t.start_char, "end_char": t.end_char,
        "text": text[t.start_char:t.end_char]} for i, t in enumerate(parsed.turns)],
        columns=["segment_id", "transcript", "informant_id", "group", "speaker", "role",
                 "turn_index", "start_char", "end_char", "text"])
    segments = segment_turns(turns, max_sentences, preprocessor().sentences)
    for row in segments.itertuples(index=False):
        assert text[row.start_char:row.end_char] == row.text
    assert segments["segment_id"].is_unique


def test_fuzz_codecs_listed_are_text_encodings():
    for name in ENCODINGS[1:]:
        assert codecs.lookup(name)._is_text_encoding
