"""Benchmark corpus generator (issue 9 item 1): N transcripts of real Indonesian sentences.

Writes, into OUT, a corpus in the bundled formats (see ``corpus/kajigelem/README.md``):

- ``transcripts/desa_XXXX/<name>``: N transcripts, 500 per folder ("village"), in the four
  label styles A-D (``.txt`` and ``.md``), about one in ten a focus group with 3-4
  informants, some with header lines (``Informan:``, ``Kelompok:``, ``Tanggal:``,
  ``Lokasi:``), 20-30 turns each (about 25 segments per transcript, so N = 40,000 gives
  about 1M segments);
- ``informants.csv``: one row per informant speaker label per transcript, in the bundled
  columns; groups are the six bundled groups, each once in every block of six
  transcripts (shuffled per block), so every group has informants from N = 12 on;
- ``codes.csv``: gold codes (the bundled codebook's themes, or ``none``) for every
  informant turn of a reproducible subset of transcripts (``--coded-share``, default 0.2);
- ``config.yaml``: a run config pointing at these files and at the bundled codebook,
  preprocessing resources and model ``models/kajigelem-themes``.

Every informant turn recombines 2-3 sentences, and every interviewer turn 2 sentences plus
a short question, taken from *different* source texts of the IndoNLU training splits in ``../shared/data/indonlu`` (Wilie et al., AACL-IJCNLP 2020;
read from there, never copied into the project), so that nearly every segment text is
distinct; the measured distinct share is printed.  Gold codes are random (group-dependent
rates), not a reading of the text: the corpus measures speed and memory, not accuracy.

Reproducible: transcript ``i`` is drawn from its own generator seeded with
``(seed, i)``, so the same N and seed give byte-identical files, and a smaller N gives a
prefix of a larger one.  Streaming: each transcript is written as soon as it is drawn;
only the sentence pool (a few MB) and one 8-byte hash per segment (for the distinct
share) stay in memory.

    python bench/make_corpus.py N OUT [--seed S] [--coded-share F] [--indonlu DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import sys
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDONLU = ROOT.parent / "shared" / "data" / "indonlu"
PER_FOLDER = 500
THEMES = ["sosialisasi", "perencanaan", "politis", "sinkronisasi", "respon_masyarakat",
          "sdm_pengurus"]
GROUPS = ["pemerintah_desa", "pemerintah_daerah", "dinas_instansi", "pengurus_kajigelem",
          "anggota_kajigelem", "pengrajin_lokal"]
#: Theme weights per group (which obstacles a group tends to talk about), for gold codes.
GROUP_THEME_WEIGHTS = {
    "pemerintah_desa": [3, 2, 2, 4, 2, 1],
    "pemerintah_daerah": [2, 4, 2, 3, 1, 1],
    "dinas_instansi": [2, 3, 1, 4, 2, 2],
    "pengurus_kajigelem": [2, 2, 2, 1, 3, 4],
    "anggota_kajigelem": [4, 1, 3, 1, 2, 3],
    "pengrajin_lokal": [4, 1, 2, 1, 4, 1],
}
JABATAN = {
    "pemerintah_desa": ["Lurah", "Carik", "Dukuh", "Kaur Perencanaan", "Kaur Keuangan"],
    "pemerintah_daerah": ["Staf Bappeda", "Kabag Perekonomian Setda", "Kasi Ekbang Kecamatan"],
    "dinas_instansi": ["Staf Disperindag", "Staf Dinas Koperasi UKM", "Staf Dinas Pariwisata",
                       "Pendamping PLUT"],
    "pengurus_kajigelem": ["Ketua", "Sekretaris", "Bendahara", "Seksi Pemasaran"],
    "anggota_kajigelem": ["Pengrajin gerabah", "Penganyam pandan", "Pengrajin kayu",
                          "Pengrajin finishing"],
    "pengrajin_lokal": ["Pengrajin gerabah", "Penganyam bambu", "Pengrajin batik kayu",
                        "Pengrajin celengan"],
}
DUSUN = ["Kalisoka", "Jipurwo", "Gelaran", "Lemahputih"]
FIRST_L = ["Agus", "Bambang", "Budi", "Darmo", "Eko", "Fajar", "Giyanto", "Hadi", "Joko",
           "Karno", "Kusno", "Marsudi", "Paiman", "Rudi", "Slamet", "Sugeng", "Teguh",
           "Tukimin", "Wagiman", "Wahyu", "Yanto", "Yusuf", "Harjo", "Suparno"]
FIRST_P = ["Dewi", "Endang", "Lasiyem", "Ngatinah", "Nur", "Ponirah", "Rubiyah", "Sri",
           "Suparmi", "Tri", "Warsini", "Yuli", "Sumarni", "Wartini", "Rini", "Siti"]
LAST = ["Hartanto", "Lestari", "Nugroho", "Prasetyo", "Riyanto", "Santoso", "Susilo",
        "Wibisono", "Wiryawan", "Astuti", "Purwanti", "Kurniawan", "Hidayati", "Sumarto"]
HONORIFIC = {"L": ["Pak", "Mas"], "P": ["Bu", "Mbak"]}
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember"]
QUESTIONS = ["Bagaimana menurut {h}?", "Boleh diceritakan lagi, {h}?", "Lalu bagaimana, {h}?",
             "Maksudnya bagaimana, {h}?", "Apakah itu sering terjadi, {h}?",
             "Kalau dari pengalaman {h} sendiri?", "Siapa yang biasanya mengurus itu, {h}?"]
INFORMANT_COLUMNS = ["transcript", "speaker_label", "informant_id", "name", "group", "dusun",
                     "gender", "jabatan"]
BAD = re.compile(r"[\[\]:#@*<>|_]|https?|\s-\s|^\W")
#: Insults and slurs that tweets and comments contain; sentences with them are dropped.
RUDE = re.compile(r"\b(bangsat|anjing|anjir|bajingan|goblok|tolol|kampret|brengsek|bego|"
                  r"kafir|pki|cina|asu|tai|setan|sialan|bodoh|idiot|laknat|jancuk)\b",
                  re.IGNORECASE)


def source_texts(folder: Path):
    """Yield every source text of the four IndoNLU training splits, in a fixed order."""
    with open(folder / "smsa_doc-sentiment-prosa" / "train_preprocess.tsv",
              encoding="utf-8") as handle:
        for line in handle:
            yield line.split("\t")[0]
    for name, column in (("emot_emotion-twitter", "tweet"), ("casa_absa-prosa", "sentence"),
                         ("hoasa_absa-airy", "review")):
        with open(folder / name / "train_preprocess.csv", encoding="utf-8", newline="") as h:
            for row in csv.DictReader(h):
                yield row[column]


def tidy(sentence: str) -> str:
    """Join detached punctuation (``kata , kata .``), capitalise, end with a full stop."""
    sentence = re.sub(r"\s+([,.!?;])", r"\1", " ".join(sentence.split()))
    sentence = sentence[0].upper() + sentence[1:]
    return sentence if sentence[-1] in ".!?" else sentence + "."


def sentence_pool(folder: Path) -> tuple[list[str], list[int]]:
    """Distinct usable sentences and the index of the source text each came from.

    A source text is split after ``.``, ``!`` or ``?``; sentences of 4-40 words without
    markup, user names, links or colons (which could look like speaker labels) are kept.
    """
    sentences, origin, seen = [], [], set()
    for number, text in enumerate(source_texts(folder)):
        for part in re.split(r"(?<=[.!?])\s+", text.strip()):
            words = part.split()
            if not 4 <= len(words) <= 40 or BAD.search(part) or RUDE.search(part):
                continue
            part = tidy(part)
            if part not in seen:
                seen.add(part)
                sentences.append(part)
                origin.append(number)
    return sentences, origin


class Generator:
    """Draws transcripts from the sentence pool; one transcript per call of :meth:`draw`."""

    def __init__(self, sentences: list[str], origin: list[int], seed: int,
                 coded_share: float) -> None:
        self.sentences, self.origin = sentences, origin
        self.seed, self.coded_share = seed, coded_share

    def speech(self, rng: random.Random, k: int) -> str:
        """``k`` sentences from ``k`` different source texts, joined by spaces."""
        picked: list[int] = []
        while len(picked) < k:
            i = rng.randrange(len(self.sentences))
            if all(self.origin[i] != self.origin[j] for j in picked):
                picked.append(i)
        return " ".join(self.sentences[i] for i in picked)

    def person(self, rng: random.Random, group: str, pid: str) -> dict:
        gender = rng.choice("LP")
        first = rng.choice(FIRST_L if gender == "L" else FIRST_P)
        return {"informant_id": pid, "name": f"{first} {rng.choice(LAST)}", "group": group,
                "dusun": "luar" if group in GROUPS[1:3] else rng.choice(DUSUN),
                "gender": gender, "jabatan": rng.choice(JABATAN[group]),
                "short": f"{rng.choice(HONORIFIC[gender])} {first}"}

    def draw(self, i: int) -> tuple[str, str, list[dict], list[tuple[int, str]], list[str]]:
        """Transcript ``i``: (relative name, file text, informant rows, codes, segment texts).

        ``codes`` holds (turn_index, themes) for every informant turn when the transcript
        belongs to the coded subset, else nothing.
        """
        rng = random.Random(f"{self.seed}:{i}")
        fgd = rng.random() < 0.1
        style = "B" if fgd else rng.choice("ABCD")
        # groups balanced in blocks of six transcripts, shuffled per block
        group = random.Random(f"{self.seed}:groups:{i // 6}").sample(GROUPS, 6)[i % 6]
        kind = "fgd" if fgd else "wawancara"
        suffix = ".md" if style == "C" else ".txt"
        name = f"desa_{i // PER_FOLDER:04d}/{kind}_{i:05d}{suffix}"
        people = [self.person(rng, group, f"inf{i:05d}{chr(97 + k)}")
                  for k in range(rng.randint(3, 4) if fgd else 1)]
        labels: list[str] = []
        for k, p in enumerate(people):
            if style in "AD" and not fgd:
                label = "Narasumber"
            elif style == "C":
                label = p["short"]
            else:
                label = f"{p['short']} ({p['jabatan'].split()[-1]})"
            while label in labels:  # two members with the same short name
                label = f"{label} {k + 1}"
            labels.append(label)
        interviewer = {"A": "P", "B": "Peneliti", "C": "Pewawancara"}.get(
            style, rng.choice(["P", "Peneliti"]))
        coded = rng.random() < self.coded_share
        lines: list[str] = []
        if rng.random() < 0.4:
            p = people[0]
            lines += [f"Informan: {p['short']} ({p['jabatan']})" if not fgd else
                      f"Informan: diskusi kelompok terfokus, {len(people)} peserta",
                      f"Kelompok: {group.replace('_', ' ')}",
                      f"Tanggal: {rng.randint(1, 28)} {rng.choice(MONTHS)} "
                      + str(rng.randint(2016, 2024)),
                      f"Lokasi: Dusun {rng.choice(DUSUN)}", ""]
        seconds = rng.randint(0, 30)
        codes: list[tuple[int, str]] = []
        texts: list[str] = []
        weights = GROUP_THEME_WEIGHTS[group]
        for turn in range(rng.randint(20, 30)):
            asks = turn % 2 == 0
            who = rng.randrange(len(people))
            if asks:
                label = interviewer
                h = "Bapak" if people[who]["gender"] == "L" else "Ibu"
                text = self.speech(rng, 2) + " " + rng.choice(QUESTIONS).format(h=h)
            else:
                label = labels[who]
                text = self.speech(rng, rng.randint(2, 3))
                if rng.random() < 0.1:  # a second paragraph in the same turn
                    text += "\n\n" + self.speech(rng, 2)
                if coded:
                    r = rng.random()
                    n = 0 if r < 0.45 else 1 if r < 0.85 else 2
                    themes: list[str] = []
                    while len(themes) < n:
                        theme = rng.choices(THEMES, weights)[0]
                        if theme not in themes:
                            themes.append(theme)
                    codes.append((turn, ";".join(sorted(themes, key=THEMES.index))
                                  or "none"))
            texts.append(text)
            if style == "C":
                prefix = f"**{label}:**"
            elif style == "D":
                prefix = (f"[{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
                          f"{seconds % 60:02d}] {label}:")
                seconds += rng.randint(5, 90)
            else:
                prefix = f"{label}:"
            lines.append(f"{prefix} {text}")
            if style == "C":
                lines.append("")
        body = "\n".join(lines).rstrip("\n") + "\n"
        rows = [{"transcript": name, "speaker_label": label,
                 **{k: p[k] for k in INFORMANT_COLUMNS[2:]}}
                for label, p in zip(labels, people)]
        return name, body, rows, codes, texts


def write_config(out: Path) -> None:
    """The run config: generated files relative to it, bundled resources absolute."""
    configs, model = ROOT / "configs", ROOT / "models" / "kajigelem-themes"
    out.joinpath("config.yaml").write_text(f"""\
# Benchmark corpus made by bench/make_corpus.py (not shipped).  Paths are relative to
# this file; the codebook, preprocessing resources and model are the bundled ones.
corpus:
  path: transcripts
  format: transcripts
  informants: informants.csv
  codes: codes.csv
  include: ["*.txt", "*.md"]
  interviewer_labels: [P, Peneliti, Pewawancara]
  header_keys: [Informan, Kelompok, Tanggal, Lokasi]
  encoding: utf-8
codebook: {configs / 'codebook.yaml'}
groups: [{', '.join(GROUPS)}]
segment: {{unit: turn, max_sentences: 0}}
preprocess:
  stem: true
  lexicon: {configs / 'lexicon.tsv'}
  protected_words: {configs / 'protected_words.txt'}
  stem_overrides: {configs / 'stem_overrides.tsv'}
  stop_words: {configs / 'stop_words.txt'}
  note_patterns: {configs / 'notes.txt'}
topics: {{model: nmf, num_topics: 9, seeded: true, random_state: 0, anchor_weight: 1.0,
         seed_fields: [label, example]}}
classifier: {{model: {model}, version: latest, random_state: 0}}
compare: {{by: [group], bootstrap: 2000, permutations: 5000, random_state: 0}}
privacy: {{redact: true}}
report: {{html: true, xlsx: true, qdpx: false}}
executor: {{kind: local, n_process: 1}}
""", encoding="utf-8")


def make_corpus(n: int, out: Path, seed: int = 0, coded_share: float = 0.2,
                indonlu: Path = INDONLU) -> dict:
    """Write the corpus; return counts and the distinct share of segment texts."""
    sentences, origin = sentence_pool(indonlu)
    gen = Generator(sentences, origin, seed, coded_share)
    hashes = array("Q")
    n_informant_rows = n_codes = 0
    (out / "transcripts").mkdir(parents=True, exist_ok=True)
    with open(out / "informants.csv", "w", encoding="utf-8", newline="") as inf_handle, \
            open(out / "codes.csv", "w", encoding="utf-8", newline="") as code_handle:
        informants = csv.DictWriter(inf_handle, INFORMANT_COLUMNS, lineterminator="\n")
        informants.writeheader()
        codes = csv.writer(code_handle, lineterminator="\n")
        codes.writerow(["transcript", "turn_index", "themes", "coder"])
        for i in range(n):
            name, body, rows, turn_codes, texts = gen.draw(i)
            path = out / "transcripts" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(body.encode("utf-8"))
            informants.writerows(rows)
            codes.writerows([(name, turn, themes, "pengkode_a")
                             for turn, themes in turn_codes])
            n_informant_rows += len(rows)
            n_codes += len(turn_codes)
            hashes.extend(int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(),
                                         "little") for t in texts)
    write_config(out)
    distinct = len(set(hashes)) if len(hashes) < 2_000_000 else _distinct_sorted(hashes)
    return {"transcripts": n, "segments": len(hashes), "distinct": distinct,
            "distinct_share": distinct / max(len(hashes), 1), "informant_rows":
            n_informant_rows, "coded_turns": n_codes, "pool_sentences": len(sentences)}


def _distinct_sorted(hashes: array) -> int:
    import numpy as np

    values = np.sort(np.frombuffer(hashes, dtype=np.uint64))
    return int(1 + np.count_nonzero(values[1:] != values[:-1])) if len(values) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, help="number of transcripts (about 25 segments each)")
    parser.add_argument("out", type=Path, help="output folder (created)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--coded-share", type=float, default=0.2,
                        help="share of transcripts with gold codes (default 0.2)")
    parser.add_argument("--indonlu", type=Path, default=INDONLU,
                        help=f"IndoNLU data folder (default {INDONLU})")
    args = parser.parse_args(argv)
    if args.n < 1:
        print("error: N must be at least 1", file=sys.stderr)
        return 2
    if not (args.indonlu / "smsa_doc-sentiment-prosa").is_dir():
        print(f"error: IndoNLU data not found at {args.indonlu}; this generator needs "
              "../shared/data/indonlu (or pass --indonlu DIR)", file=sys.stderr)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} exists and is not empty; choose a new folder",
              file=sys.stderr)
        return 2
    stats = make_corpus(args.n, args.out, args.seed, args.coded_share, args.indonlu)
    print(f"wrote {stats['transcripts']} transcripts, {stats['segments']} segments "
          f"({stats['informant_rows']} informant rows, {stats['coded_turns']} coded turns) "
          f"to {args.out}; distinct segment texts: {stats['distinct']} "
          f"({100 * stats['distinct_share']:.2f}%); sentence pool {stats['pool_sentences']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
