"""Quotes: gold first, then by probability, ties by segment order; original offsets."""

import numpy as np
import pandas as pd

from themepipe.privacy import Pseudonymiser
from themepipe.quotes import QUOTE_COLUMNS, select_quotes

SOURCE = ("P: Menurut Bapak, kenapa programnya berhenti?\n"
          "A: Pak Darsono bilang dananya habis buat acara kampanye.\n"
          "A: Rapat paguyuban jarang, pengurusnya sibuk sendiri.\n"
          "A: Dulu ramai, sekarang sepi.\n"
          "B: Kampanye lagi, kampanye terus, kami yang kena.\n"
          "B: Pengrajin di sini ndak pernah diajak ngomong.\n"
          "A: Waktu pilihan lurah semua mendadak peduli.\n")


def _segments():
    rows = []
    start = 0
    for k, line in enumerate(SOURCE.splitlines(keepends=True)):
        label, text = line[0], line[3:].rstrip("\n")
        rows.append({"segment_id": f"w1.txt:{k}", "transcript": "w1.txt",
                     "informant_id": {"A": "inf07", "B": "inf08"}.get(label, ""),
                     "group": {"A": "pengurus", "B": "pengrajin"}.get(label, ""),
                     "role": "interviewer" if label == "P" else "informant",
                     "start_char": start + 3, "end_char": start + 3 + len(text),
                     "text": text})
        start += len(line)
    frame = pd.DataFrame(rows)
    frame["gold_themes"] = ["politis", "", "", "none", "", "", ""]
    frame["pred_themes"] = ["", "politis", "sdm_pengurus", "politis", "politis", "none",
                            "politis"]
    frame["p_politis"] = [np.nan, 0.7, 0.1, 0.99, 0.7, 0.2, 0.8]
    return frame


def test_quotes_order_gold_then_probability_then_segment_order():
    frame = _segments()
    frame.loc[1, "gold_themes"] = "politis"  # a human coded segment 1
    quotes = select_quotes(frame, ["politis"], per_cell=3)
    assert list(quotes.columns) == QUOTE_COLUMNS
    assert set(quotes["group"]) == {"pengurus", "pengrajin"}
    pengurus = quotes[quotes.group == "pengurus"]
    # seg 1 gold; then seg 6 (0.8); seg 3 is gold 'none' so never quoted despite 0.99;
    # the interviewer turn (seg 0) is not quoted
    assert list(pengurus["segment_id"]) == ["w1.txt:1", "w1.txt:6"]
    assert list(pengurus["rank"]) == [1, 2]
    assert list(pengurus["source"]) == ["gold", "model"]
    assert pengurus["probability"].tolist() == [0.7, 0.8]


def test_quotes_ties_keep_segment_order_and_cap_per_cell():
    frame = _segments()
    frame["group"] = np.where(frame["role"] == "informant", "semua", "")
    frame["p_politis"] = 0.5
    quotes = select_quotes(frame, ["politis"], per_cell=2)
    assert list(quotes["segment_id"]) == ["w1.txt:1", "w1.txt:4"]


def test_quotes_offsets_point_into_the_original_source_and_text_is_redacted():
    frame = _segments()
    informants = pd.DataFrame({"transcript": ["w1.txt", "w1.txt"],
                               "speaker_label": ["A", "B"],
                               "informant_id": ["inf07", "inf08"],
                               "name": ["Darsono Wibowo", "Painem"],
                               "group": ["pengurus", "pengrajin"]})
    redact = Pseudonymiser.from_informants(informants).redact
    plain = select_quotes(frame, ["politis"])
    redacted = select_quotes(frame, ["politis"], redact=redact)
    for row in plain.itertuples():
        assert SOURCE[row.start_char:row.end_char] == row.text
    assert (plain[["start_char", "end_char"]] == redacted[["start_char", "end_char"]]).all().all()
    assert plain["text"].str.contains("Darsono").any()
    assert not redacted["text"].str.contains("Darsono").any()


def test_quotes_without_model_probabilities():
    frame = _segments().drop(columns=["p_politis", "pred_themes"])
    quotes = select_quotes(frame, ["politis", "sdm_pengurus"])
    # only the gold-coded segment 0 is politis, and it is an interviewer turn
    assert quotes.empty and list(quotes.columns) == QUOTE_COLUMNS
