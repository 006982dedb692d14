"""Topic-model benchmark on real Indonesian text (issue 5, item 5).

Part 1 — SmSA (IndoNLU document sentiment, train split, 11,000 reviews and comments):
K topics (default 10), top 10 terms, R random states (default 5).  For each themepipe
topic model with its default parameters and for gensim ``LdaModel`` with default
arguments, all on the same preprocessed corpus and the same filtered dictionary: mean,
standard deviation and range over random states of the run's mean topic NPMI (gensim
``c_npmi`` through :func:`themepipe.topics.npmi_coherence`), stability (mean top-10
Jaccard after optimal matching, over all pairs of runs) and fit time.  Then the rule
that picks the default model: among the models whose mean NPMI is at least the
baseline's + 0.05 and whose stability is at least 0.6, the one with the highest mean
NPMI.  Also the time of one fit on 1,000 segments (the size of the pipeline's corpus).

Part 2 — seeded topics on HoASA (IndoNLU hotel-review aspects, 2,283 reviews, multi-label
like thematic coding): the nine aspects are seeded with a few seed words each (chosen
here, stemmed like the reviews), K = 9 seeded + 3 residual.  For each aspect: the share
of reviews mentioning it (label not ``neut``) that contain none of its seed words, and
the ROC AUC of the seeded topic's proportion for separating those reviews from the rest,
for each model over 3 random states.  This is the check the issue asks for on the
bundled corpus, run on real text written by others.

Part 3 (optional, ``--segments``): the same seeded check on a run folder's
``segments.csv`` — informant segments, gold codes from ``gold_themes``, seeds,
preprocessing and topic parameters from the run config (``--config``) — i.e. the
issue's acceptance check on the bundled corpus (ROC AUC >= 0.70 for every theme).  It
compares "before" (the codebook's seed words, seeded start only: ``seed_fields: []``,
``anchor_weight: 0``, ``expand_terms: 0``), the previous default (seed words plus
label/example words, ``anchor_weight: 1``, no corpus expansion), "after" (the config:
by default also ``expand_terms: 10`` and ``anchor_weight: 3``, chosen on CASA/HoASA by
``bench/seeded_dev.py``), and LDA with the same seeds; per theme it prints the share of
theme-coded turns containing none of the seed stems of each variant (and none of the
seed stems nor the terms added from the corpus, for the expanding variants).  The gold
codes score the topics; they are never used to fit them.

Preprocessing: :class:`themepipe.preprocess.Preprocessor` when it can be imported, else a
fallback (lowercase letter runs, spaCy's Indonesian stop words, PySastrawi with a
per-word cache); the header says which.

    python bench/topics.py [--seeds 5] [--k 10] [--fallback] [--skip-seeded]
    python bench/topics.py --only-segments --segments RUN/segments.csv [--config C]

Needs ../shared/data/indonlu next to the repository (exits with a message otherwise).
Parts 1 and 2 take about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from gensim.models import LdaModel
from sklearn.metrics import roc_auc_score

from themepipe.topics import (
    SeededTopicModel,
    npmi_coherence,
    topic_stability,
    umass_coherence,
)

ROOT = Path(__file__).resolve().parents[1]
INDONLU = ROOT.parent / "shared" / "data" / "indonlu"
SMSA = INDONLU / "smsa_doc-sentiment-prosa" / "train_preprocess.tsv"
HOASA = INDONLU / "hoasa_absa-airy" / "train_preprocess.csv"
TOPN = 10

#: Seed words per HoASA aspect, written for this benchmark (surface forms; stemmed below).
HOASA_SEEDS = {
    "ac": ["ac", "dingin", "pendingin"],
    "air_panas": ["air", "panas", "shower", "mandi"],
    "bau": ["bau", "apek", "wangi", "rokok"],
    "kebersihan": ["bersih", "kotor", "debu", "kecoa"],
    "linen": ["handuk", "sprei", "selimut", "bantal", "kasur"],
    "service": ["pelayanan", "ramah", "staf", "resepsionis"],
    "sunrise_meal": ["sarapan", "makan", "pagi"],
    "tv": ["tv", "televisi", "channel", "siaran"],
    "wifi": ["wifi", "internet", "sinyal", "koneksi"],
}


class FallbackPreprocessor:
    """Lowercase letter runs, spaCy Indonesian stop words, PySastrawi stems (cached)."""

    name = "fallback (regex words, spaCy id stop words, PySastrawi)"

    def __init__(self) -> None:
        from Sastrawi.Stemmer.StemmerFactory import StemmerFactory
        from spacy.lang.id.stop_words import STOP_WORDS

        self.stop_words = STOP_WORDS
        self._stemmer = StemmerFactory().create_stemmer()
        self.stem_word = lru_cache(maxsize=None)(self._stem)

    def _stem(self, word: str) -> str:
        return self._stemmer.stem(word.strip().lower())

    def stems(self, texts: list[str]) -> list[list[str]]:
        docs = []
        for text in texts:
            words = [w for w in re.findall(r"[^\W\d_]+", text.lower())
                     if w not in self.stop_words]
            stems = (self.stem_word(w) for w in words)
            docs.append([s for s in stems if len(s) > 1 and s not in self.stop_words])
        return docs


class ThemepipePreprocessor:
    """The project's own preprocess stage."""

    name = "themepipe.preprocess.Preprocessor (defaults)"

    def __init__(self) -> None:
        from themepipe.preprocess import Preprocessor

        self._pre = Preprocessor()
        self.stem_word = self._pre.stem_word

    def stems(self, texts: list[str]) -> list[list[str]]:
        table = self._pre.transform(pd.DataFrame({"text": texts}))
        return [s.split() for s in table["stems"].fillna("")]


def make_preprocessor(fallback: bool):
    if not fallback:
        try:
            return ThemepipePreprocessor()
        except ImportError as exc:
            print(f"note: themepipe.preprocess unavailable ({exc}); using the fallback")
    return FallbackPreprocessor()


def summary(values: list[float]) -> str:
    arr = np.asarray(values)
    return (f"{arr.mean():7.3f} {arr.std(ddof=1) if len(arr) > 1 else 0.0:6.3f} "
            f"[{arr.min():6.3f}, {arr.max():6.3f}]")


def run_smsa(pre, n_seeds: int, k: int) -> dict:
    texts = [line.rstrip("\n").split("\t")[0]
             for line in SMSA.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = time.perf_counter()
    docs = pre.stems(texts)
    n_tokens = sum(map(len, docs))
    print(f"SmSA: {len(docs)} documents, {n_tokens} stems "
          f"({n_tokens / len(docs):.1f} per document), preprocessed in "
          f"{time.perf_counter() - start:.1f} s")

    results: dict[str, dict] = {}
    dictionary = None
    for model in ("nmf", "lda"):
        npmi, umass, runs, fit_s, score_s = [], [], [], [], []
        for seed in range(n_seeds):
            start = time.perf_counter()
            tm = SeededTopicModel(num_topics=k, model=model, random_state=seed).fit(docs)
            total = time.perf_counter() - start
            top = tm.top_terms(TOPN)
            start = time.perf_counter()
            npmi_coherence(top, docs, topn=TOPN)
            umass_coherence(top, docs, topn=TOPN)
            score = time.perf_counter() - start
            fit_s.append(total - score)
            score_s.append(score)
            npmi.append(float(tm.npmi_.mean()))
            umass.append(float(tm.umass_.mean()))
            runs.append(top)
            if dictionary is None:
                dictionary = tm.dictionary_
            assert tm.dictionary_.token2id == dictionary.token2id, "dictionaries differ"
        results[f"themepipe {model} (defaults)"] = {
            "npmi": npmi, "umass": umass, "stability": topic_stability(runs, TOPN),
            "fit_s": fit_s, "score_s": score_s, "example": runs[0]}

    bow = [dictionary.doc2bow(doc) for doc in docs]
    npmi, umass, runs, fit_s, score_s = [], [], [], [], []
    for seed in range(n_seeds):
        start = time.perf_counter()
        lda = LdaModel(bow, id2word=dictionary, num_topics=k, random_state=seed)
        fit_s.append(time.perf_counter() - start)
        top = [[dictionary[i] for i, _ in lda.get_topic_terms(t, topn=TOPN)]
               for t in range(k)]
        start = time.perf_counter()
        npmi.append(float(npmi_coherence(top, docs, topn=TOPN).mean()))
        umass.append(float(umass_coherence(top, docs, topn=TOPN).mean()))
        score_s.append(time.perf_counter() - start)
        runs.append(top)
    baseline = "gensim LdaModel (defaults)"
    results[baseline] = {"npmi": npmi, "umass": umass,
                         "stability": topic_stability(runs, TOPN),
                         "fit_s": fit_s, "score_s": score_s, "example": runs[0]}

    print(f"dictionary: {len(dictionary)} terms (themepipe defaults: no_below 3, "
          f"no_above 0.2, keep_n 100000), shared by every model")
    print(f"K={k}, top {TOPN} terms, random states 0..{n_seeds - 1}\n")
    print(f"{'model':30s} {'NPMI mean':>9s} {'sd':>6s} {'[min, max]':>16s} "
          f"{'UMass':>7s} {'stability':>9s} {'fit s':>6s} {'score s':>7s}")
    for name, r in results.items():
        print(f"{name:30s} {summary(r['npmi'])} {np.mean(r['umass']):7.2f} "
              f"{r['stability']:9.3f} {np.mean(r['fit_s']):6.1f} "
              f"{np.mean(r['score_s']):7.1f}")
    base = np.mean(results[baseline]["npmi"])
    eligible = {name: np.mean(r["npmi"]) for name, r in results.items()
                if name != baseline and np.mean(r["npmi"]) >= base + 0.05
                and r["stability"] >= 0.6}
    print(f"\nrule: NPMI >= baseline + 0.05 = {base + 0.05:.3f} and stability >= 0.6, "
          "then highest NPMI")
    if eligible:
        print(f"default model: {max(eligible, key=eligible.get)}")
    else:
        print("no themepipe model meets the targets")
    for name, r in results.items():
        print(f"\n{name}, random state 0, top {TOPN} terms:")
        for t, terms in enumerate(r["example"]):
            print(f"  {t:2d} {' '.join(terms)}")

    subset = docs[:1000]
    print("\none fit (incl. NPMI + UMass scoring) on the first 1,000 SmSA documents:")
    for model in ("nmf", "lda"):
        start = time.perf_counter()
        SeededTopicModel(num_topics=9, model=model, random_state=0).fit(subset)
        print(f"  themepipe {model}: {time.perf_counter() - start:.2f} s")
    return results


Variant = tuple[str, dict[str, list[str]], dict]  # (name, seeds, model parameters)


def no_seed_share(docs: list[list[str]], has_theme: np.ndarray, seeds: list[str]) -> float:
    """Share of the theme's documents that contain none of its seed stems."""
    if not has_theme.any():
        return float("nan")
    words = set(seeds)
    has_seed = np.array([bool(words.intersection(doc)) for doc in docs])
    return float(1 - has_seed[has_theme].mean())


def report_seeded(docs: list[list[str]], coded: np.ndarray, themes: dict[str, np.ndarray],
                  variants: list[Variant], num_topics: int, n_states: int = 3) -> None:
    """Fit each seeded variant on all ``docs``; score each theme's topic on the coded ones.

    ``coded`` is a boolean mask of the documents that carry codes; ``themes[t]`` is the
    boolean "has theme t" vector over the coded documents.  The codes are used for
    scoring only, never for fitting.  Per theme: the share of its documents with none of
    the seed stems of each variant, and the ROC AUC of the seeded topic's proportion
    (mean and minimum over ``n_states`` random states).
    """
    aspects = list(themes)
    coded_docs = [doc for doc, keep in zip(docs, coded) if keep]
    names = [name for name, _, _ in variants]
    print("\nvariants: " + "; ".join(f"[{i}] {name}" for i, name in enumerate(names)))
    aucs, summaries, seed_terms = {}, {}, {}
    for name, seeds, params in variants:
        per_state, runs, npmi, fit_s = [], [], [], []
        for seed in range(n_states):
            start = time.perf_counter()
            tm = SeededTopicModel(num_topics=num_topics, seed_words=seeds,
                                  random_state=seed, **params).fit(docs)
            fit_s.append(time.perf_counter() - start)
            proportions = tm.transform(coded_docs)
            per_state.append([roc_auc_score(themes[a], proportions[:, i])
                              if 0 < themes[a].sum() < len(coded_docs) else np.nan
                              for i, a in enumerate(aspects)])
            runs.append(tm.top_terms(TOPN))
            npmi.append(float(tm.npmi_.mean()))
        aucs[name] = np.array(per_state)
        # the seed terms the model used: seed words plus the terms added from the corpus
        seed_terms[name] = {a: list(seeds.get(a, [])) + tm.expanded_terms_.get(a, [])
                            for a in aspects}
        summaries[name] = (np.mean(npmi), topic_stability(runs, TOPN), np.mean(fit_s),
                           tm.topics_table(8), tm.missing_seed_words_, tm.expanded_terms_)
    expanding = [i for i, n in enumerate(names)
                 if any(seed_terms[n][a] != list(variants[i][1].get(a, [])) for a in aspects)]
    print("\nno seed[i]: share of the theme's documents with none of variant i's seed "
          "stems; +exp[i]: none of its seed stems nor of the terms it added from the "
          "corpus")
    print(f"\n{'theme':18s} {'n':>5s} " + " ".join(f"{'no seed[' + str(i) + ']':>11s}"
                                                  for i in range(len(variants)))
          + " " + " ".join(f"{'+exp[' + str(i) + ']':>8s}" for i in expanding)
          + " " + " ".join(f"{'AUC[' + str(i) + '] (min)':>16s}"
                           for i in range(len(variants))))
    for i, a in enumerate(aspects):
        shares = " ".join(f"{no_seed_share(coded_docs, themes[a], seeds[a]):11.0%}"
                          for _, seeds, _ in variants)
        shares += " " + " ".join(
            f"{no_seed_share(coded_docs, themes[a], seed_terms[names[j]][a]):8.0%}"
            for j in expanding)
        cells = " ".join(f"{aucs[n][:, i].mean():8.3f} ({aucs[n][:, i].min():.2f})"
                         for n in names)
        print(f"{a:18s} {themes[a].sum():5d} {shares} {cells}")
    for i, (n, (npmi, stability, fit_s, topics, missing, added)) in enumerate(
            summaries.items()):
        theme_means = aucs[n].mean(axis=0)
        print(f"\n[{i}] {n}: themes with mean AUC >= 0.70: "
              f"{int((theme_means >= 0.70).sum())}/{len(aspects)}; min AUC over themes "
              f"and random states {np.nanmin(aucs[n]):.3f}; mean NPMI {npmi:.3f}, "
              f"stability {stability:.3f}, fit {fit_s:.2f} s; seed stems not in the "
              f"corpus: {missing or 'none'}; topics of random state {n_states - 1}:")
        if any(added.values()):
            print("terms added from the corpus: " + "; ".join(
                f"{a}: {' '.join(w)}" for a, w in added.items()))
        print(topics.to_string(index=False))


def run_hoasa(pre) -> None:
    table = pd.read_csv(HOASA)
    docs = pre.stems(table["review"].fillna("").tolist())
    seeds = {aspect: list(dict.fromkeys(s for s in map(pre.stem_word, words) if s))
             for aspect, words in HOASA_SEEDS.items()}
    print(f"\nHoASA: {len(docs)} reviews; seeded K = {len(seeds)} aspects + 3 residual; "
          "an aspect is present when its label is not 'neut'")
    print("seed stems: " + "; ".join(f"{a}: {' '.join(w)}" for a, w in seeds.items()))
    themes = {a: (table[a] != "neut").to_numpy() for a in seeds}
    variants = [("nmf, seeded start only (anchor_weight 0, expand_terms 0)", seeds,
                 {"model": "nmf", "anchor_weight": 0.0, "expand_terms": 0}),
                ("nmf, seed words + anchoring (anchor_weight 1, expand_terms 0)", seeds,
                 {"model": "nmf", "anchor_weight": 1.0, "expand_terms": 0}),
                ("nmf defaults (anchor_weight 3, expand_terms 10)", seeds,
                 {"model": "nmf"}),
                ("lda defaults", seeds, {"model": "lda"})]
    report_seeded(docs, np.ones(len(docs), dtype=bool), themes, variants, len(seeds) + 3)


def run_segments(segments_csv: Path, config_path: Path) -> None:
    """The same check on a run folder's segments.csv (e.g. the bundled corpus).

    Seeds, preprocessing and topic parameters come from the run's config, as in
    ``themepipe run``: "before" is the codebook's seed words with a seeded start only
    (``seed_fields: []``, ``anchor_weight: 0``), "after" the config's topics section.
    """
    from themepipe.codebook import load_codebook
    from themepipe.config import load_config
    from themepipe.preprocess import Preprocessor
    from themepipe.topics import theme_seed_stems

    config = load_config(config_path, [])
    codebook = load_codebook(config.codebook)
    pre = Preprocessor.from_config(config.preprocess)
    table = pd.read_csv(segments_csv, dtype=str, keep_default_na=False)
    table = table[table["role"] == "informant"]
    docs = [s.split() for s in table["stems"]]
    coded = (table["gold_themes"] != "").to_numpy()
    cells = [set(c.split(";")) for c in table.loc[coded, "gold_themes"]]
    themes = {t: np.array([t in c for c in cells]) for t in codebook.ids}
    params = config.topics.model_dump(exclude={"seeded", "seed_fields", "fit_sample",
                                               "num_topics", "random_state"})
    seed_only = theme_seed_stems(codebook, pre)
    expanded = theme_seed_stems(codebook, pre, config.topics.seed_fields)
    print(f"\n{segments_csv}: {len(docs)} informant segments, {int(coded.sum())} coded; "
          f"seeded K = {config.topics.num_topics} (config {config_path.name}); "
          f"seed fields {config.topics.seed_fields}")
    print("added seed stems: " + "; ".join(
        f"{t}: {' '.join(w[len(seed_only[t]):])}" for t, w in expanded.items()))
    fields = "/".join(config.topics.seed_fields)
    previous = (f"previous default: seed words + {fields} words + anchoring 1, no "
                "corpus expansion")
    after = (f"after: seed words + {fields} words + corpus expansion "
             f"{config.topics.expand_terms} + anchoring {config.topics.anchor_weight:g} "
             "(config)")
    variants = [("before: seed words, seeded start only",
                 seed_only, dict(params, anchor_weight=0.0, expand_terms=0)),
                (previous, expanded, dict(params, anchor_weight=1.0, expand_terms=0)),
                (after, expanded, params),
                ("after, lda", expanded, dict(params, model="lda"))]
    report_seeded(docs, coded, themes, variants, config.topics.num_topics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="random states per model")
    parser.add_argument("--k", type=int, default=10, help="number of topics on SmSA")
    parser.add_argument("--fallback", action="store_true",
                        help="use the fallback preprocessing even if themepipe's exists")
    parser.add_argument("--skip-seeded", action="store_true", help="skip the HoASA part")
    parser.add_argument("--segments", type=Path,
                        help="also check seeded topics on a run folder's segments.csv")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "kajigelem.yaml",
                        help="run config of --segments: codebook, preprocessing, topics "
                             "(default configs/kajigelem.yaml)")
    parser.add_argument("--only-segments", action="store_true",
                        help="run only the --segments check")
    args = parser.parse_args()
    if args.only_segments:
        if args.segments is None:
            sys.exit("--only-segments needs --segments PATH")
        run_segments(args.segments, args.config)
        return
    if not SMSA.is_file():
        sys.exit(f"SmSA not found at {SMSA}; this benchmark needs ../shared/data/indonlu")
    pre = make_preprocessor(args.fallback)
    print(f"preprocessing: {pre.name}")
    run_smsa(pre, args.seeds, args.k)
    if not args.skip_seeded and HOASA.is_file():
        run_hoasa(pre)
    if args.segments is not None:
        run_segments(args.segments, args.config)


if __name__ == "__main__":
    main()
