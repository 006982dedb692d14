"""``themepipe run`` on real text: a segment table built from the HoASA hotel reviews.

Builds, in a temporary folder, a ``format: table`` corpus from
``../shared/data/indonlu/hoasa_absa-airy/train_preprocess.csv``: each review is one
segment and one informant; the aspects it mentions (label not ``neut``) are its themes
(``none`` when it mentions none); group = ``mostly_positive`` when its non-neutral aspect
labels are at least half positive, else ``mostly_negative``.  A codebook of the ten
aspects is written beside it.  Then ``themepipe train`` and ``themepipe run`` are called
as a user would, and the resulting ``theme_distribution.csv`` is printed.

    python bench/real_input.py [--out DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
HOASA = ROOT.parent / "shared" / "data" / "indonlu" / "hoasa_absa-airy" / "train_preprocess.csv"
ASPECT_SEEDS = {
    "ac": ["ac", "dingin", "pendingin"], "air_panas": ["air", "panas", "shower"],
    "bau": ["bau", "wangi", "apek"], "general": ["hotel", "bagus", "nyaman"],
    "kebersihan": ["bersih", "kotor", "debu"], "linen": ["handuk", "sprei", "bantal"],
    "service": ["pelayanan", "ramah", "resepsionis"], "sunrise_meal": ["sarapan", "makan", "menu"],
    "tv": ["tv", "televisi", "channel"], "wifi": ["wifi", "internet", "sinyal"],
}


def build(folder: Path) -> Path:
    """Write the table, codebook and config into ``folder``; return the config path."""
    reviews = pd.read_csv(HOASA)
    aspects = [c for c in reviews.columns if c != "review"]
    themes, groups = [], []
    for _, row in reviews.iterrows():
        mentioned = [a for a in aspects if row[a] != "neut"]
        themes.append(";".join(mentioned) if mentioned else "none")
        pos = sum(row[a] == "pos" for a in mentioned)
        groups.append("mostly_positive" if 2 * pos >= max(len(mentioned), 1)
                      else "mostly_negative")
    table = pd.DataFrame({"text": reviews["review"], "informant_id":
                          [f"r{i:05d}" for i in range(len(reviews))], "group": groups,
                          "themes": themes})
    table.to_csv(folder / "hoasa.csv", index=False)
    codebook = [{"id": a, "label": a.replace("_", " "), "short_definition":
                 f"the review mentions {a.replace('_', ' ')}", "seed_words": ASPECT_SEEDS[a]}
                for a in aspects]
    (folder / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False))
    config = {"corpus": {"path": "hoasa.csv", "format": "table"}, "codebook": "codebook.yaml",
              "topics": {"num_topics": len(aspects) + 2},
              "classifier": {"model": "models/hoasa"}}
    path = folder / "hoasa.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not HOASA.is_file():
        raise SystemExit(f"skipped: {HOASA} not found (needs ../shared beside the repo)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = build(folder)
        out = args.out or folder / "run"
        for command in (["train", str(config)], ["run", str(config), "--out", str(out)]):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "themepipe.cli", *command],
                                  capture_output=True, text=True)
            print(f"themepipe {command[0]}: exit {proc.returncode}, "
                  f"{time.perf_counter() - start:.1f} s")
            if proc.returncode not in (0, 1):
                raise SystemExit(proc.stderr)
            print(proc.stderr.strip())
        outputs = sorted(p.name for p in Path(out).iterdir())
        print("outputs:", ", ".join(outputs))
        dist = pd.read_csv(Path(out) / "theme_distribution.csv")
        with pd.option_context("display.width", 160, "display.max_rows", 100):
            print(dist.to_string(index=False))


if __name__ == "__main__":
    main()
