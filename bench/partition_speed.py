"""Per-partition speed of ingest, segment, preprocess and classify (issue 9, task D).

Times, in one worker-like process, the per-partition stages of a streaming run on
consecutive partitions of about ``--partition-size`` segments (planned as
:func:`themepipe.stream.plan_partitions` plans them): ingest of the partition's
transcripts (``ingest_transcripts(corpus, names=..., informants=...)``),
``segment_turns``, ``Preprocessor.transform`` and ``classify_segments`` with the config's
model.
Ingest and classify are each timed twice on the same partition, the outputs checked equal:

- ``ingest (before)``: ``_transcript_turns`` and the second-label scan of
  :mod:`themepipe.speakers` as they were before task D (kept here);
- ``classify (before)``: the implementation before task D, kept here as the reference:
  scikit-learn's ``CountVectorizer.transform`` for the n-gram counts and the former
  pandas body of ``classify_segments``;
- ``classify``: the current code (:class:`themepipe.classify.NgramCounter`, numpy body);

equality is ``np.array_equal`` on the probabilities and equal ``pred_themes`` (classify),
equal turn tables, sources and problems (ingest), on every partition.

``ingest (own rows)`` is ``ingest`` given only the partition's rows of informants.csv:
``ingest_transcripts`` groups the whole informants table it is given by transcript on
every call, which costs in proportion to the corpus, not to the partition (0.5 s at 4,000
transcripts, 7 s at 40,000), so a caller should pass the partition's rows.

Figures are CPU seconds of this process per 1,000 segments (robust to other load on a
shared machine), for each partition, so partition 1 vs partition N shows whether the cost
per segment grows with what the process has already done (garbage collector, caches).
Each setting runs in a fresh child process: without and with ``gc.freeze()`` after
start-up (the streaming workers freeze after loading the preprocessor and the model).

    python bench/make_corpus.py 4000 /tmp/D/c4k        # about 100k segments
    python bench/partition_speed.py /tmp/D/c4k/config.yaml [--partitions 5]
                                    [--partition-size 20000] [--no-before]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

STEPS = ["ingest (before)", "ingest", "ingest (own rows)", "segment", "preprocess",
         "classify (before)", "classify"]


def transcript_turns_before(name, text, corpus, speakers):
    """``ingest._transcript_turns`` as it was before task D (pandas ``itertuples``)."""
    from themepipe.errors import InformantError, InputError, Problem
    from themepipe.speakers import label_key, parse_transcript

    interviewer = {label_key(x) for x in corpus.interviewer_labels}
    by_label = {label_key(row.speaker_label): row for row in speakers.itertuples()}
    known = list(corpus.interviewer_labels) + list(speakers["speaker_label"])
    parsed = parse_transcript(text, header_keys=corpus.header_keys, known_labels=known,
                              label_pattern=corpus.label_pattern, name=name)
    problems = [Problem(name, p.line, "T120", p.message, "warning") for p in parsed.problems]
    rows = []
    for index, turn in enumerate(parsed.turns):
        keys = [label_key(a) for a in (turn.speaker_label, *turn.aliases)]
        informant = next((by_label[k] for k in keys if k in by_label), None)
        if informant is not None:
            role, informant_id, group = "informant", informant.informant_id, informant.group
        elif any(k in interviewer for k in keys):
            role, informant_id, group = "interviewer", "", ""
        else:
            raise InformantError("T205", f"speaker '{turn.speaker_label}' is unknown",
                                 path=name, line=turn.line)
        rows.append({
            "segment_id": f"{name}:{index}", "transcript": name,
            "informant_id": informant_id, "group": group, "speaker": turn.speaker_label,
            "role": role, "turn_index": index, "start_char": turn.start_char,
            "end_char": turn.end_char, "text": text[turn.start_char:turn.end_char],
        })
    if not rows:
        raise InputError("T121", "no speaker turn found", path=name)
    if not any(r["role"] == "informant" and r["text"].strip() for r in rows):
        raise InputError("T122", "no informant speech found", path=name)
    return rows, parsed.metadata, problems


def ingest_before(config, names, informants):
    """``ingest_transcripts`` with the pre-task-D turn building and label scan."""
    import re

    from themepipe import ingest, speakers

    saved = ingest._transcript_turns, speakers._COLON_RE
    # an empty pattern always matches: the second-label pattern is compiled as before
    ingest._transcript_turns, speakers._COLON_RE = transcript_turns_before, re.compile("")
    try:
        return ingest.ingest_transcripts(config.corpus, names=names, informants=informants)
    finally:
        ingest._transcript_turns, speakers._COLON_RE = saved


def sklearn_transform(counter, texts):
    """The n-gram counts as ``ThemeClassifier`` computed them before task D."""
    import numpy as np
    import scipy.sparse as sp

    counts = sp.hstack([vec.transform(texts) for vec in (counter.word, counter.char)
                        if vec is not None], format="csr", dtype=np.float64)
    counts.sum_duplicates()
    counts.sort_indices()
    return counts


def classify_before(config, themes, segments, model):
    """``classify_segments`` as it was before task D (pandas body, sklearn counts)."""
    import numpy as np

    from themepipe import classify
    from themepipe.codebook import NO_THEME
    from themepipe.pipeline import classifier_input

    estimator, _card = model
    fast_transform = classify.NgramCounter.transform
    classify.NgramCounter.transform = sklearn_transform
    try:
        out = segments.copy()
        informant = (out["role"] == "informant").to_numpy()
        mask = informant & (out["stems"].fillna("").str.strip() != "").to_numpy()
        X = classifier_input(out.loc[mask], config.classifier.inputs)
        proba = estimator.predict_proba(X) if X else np.zeros((0, len(themes)))
        predicted = estimator.decide(proba) if X else np.zeros((0, len(themes)), int)
    finally:
        classify.NgramCounter.transform = fast_transform
    out["pred_themes"] = ""
    out.loc[informant, "pred_themes"] = NO_THEME
    out.loc[mask, "pred_themes"] = [";".join(t for t, hit in zip(themes, row) if hit)
                                    or NO_THEME for row in predicted]
    for j, theme in enumerate(themes):
        out[f"p_{theme}"] = np.nan
        out.loc[mask, f"p_{theme}"] = proba[:, j]
    return out


def child(args) -> dict:
    """Run the partitions in this process; return per-partition CPU seconds."""
    import numpy as np

    from themepipe.classify_stage import classify_segments, load_classifier
    from themepipe.codebook import load_codebook
    from themepipe.config import load_config
    from themepipe.ingest import discover, ingest_transcripts, load_informants
    from themepipe.preprocess import Preprocessor
    from themepipe.segment import segment_turns
    from themepipe.stream import plan_partitions

    config = load_config(Path(args.config))
    themes = load_codebook(config.codebook).ids
    informants = load_informants(config.corpus.informants)
    names = discover(config.corpus)
    plan = plan_partitions(Path(config.corpus.path), names, args.partition_size)
    pre = Preprocessor.from_config(config.preprocess)
    model = load_classifier(config)
    if args.freeze:
        gc.freeze()
    rows = []
    for part in plan[:args.partitions]:
        cpu = {}
        clock = time.process_time()
        if args.before:
            before = ingest_before(config, list(part.names), informants)
            cpu["ingest (before)"], clock = time.process_time() - clock, time.process_time()
        corpus = ingest_transcripts(config.corpus, names=list(part.names),
                                    informants=informants)
        cpu["ingest"], clock = time.process_time() - clock, time.process_time()
        # the same with only the partition's rows of informants.csv (see the note above)
        own = informants[informants["transcript"].isin(set(part.names))]
        clock = time.process_time()
        ingest_transcripts(config.corpus, names=list(part.names), informants=own)
        cpu["ingest (own rows)"], clock = time.process_time() - clock, time.process_time()
        if args.before:
            if not (before.turns.equals(corpus.turns) and before.sources == corpus.sources
                    and [p.format() for p in before.problems]
                    == [p.format() for p in corpus.problems]):
                raise SystemExit(f"partition {part.index + 1}: ingest outputs differ")
            del before
        segments = segment_turns(corpus.turns, config.segment.max_sentences, pre.sentences)
        cpu["segment"], clock = time.process_time() - clock, time.process_time()
        segments = pre.transform(segments)
        cpu["preprocess"], clock = time.process_time() - clock, time.process_time()
        if args.before:
            before = classify_before(config, themes, segments, model)
            cpu["classify (before)"], clock = time.process_time() - clock, time.process_time()
        after, _info = classify_segments(config, themes, segments, model)
        cpu["classify"] = time.process_time() - clock
        if args.before:
            p = [f"p_{t}" for t in themes]
            same = (np.array_equal(before[p].to_numpy(), after[p].to_numpy(), equal_nan=True)
                    and before["pred_themes"].equals(after["pred_themes"]))
            if not same:
                raise SystemExit(f"partition {part.index + 1}: classify outputs differ")
            del before
        rows.append({"partition": part.index + 1, "segments": len(segments),
                     "informant": int((segments["role"] == "informant").sum()), **cpu})
        del corpus, segments, after
    return {"freeze": args.freeze, "rows": rows}


def table(result: dict) -> str:
    steps = [s for s in STEPS if s in result["rows"][0]]
    head = f"gc.freeze: {'yes' if result['freeze'] else 'no'}"
    lines = [head, "CPU s per 1,000 segments",
             "| partition | segments | " + " | ".join(steps) + " |",
             "|---:|---:|" + "---:|" * len(steps)]
    for row in result["rows"]:
        per = [1000.0 * row[s] / row["segments"] for s in steps]
        lines.append(f"| {row['partition']} | {row['segments']} | "
                     + " | ".join(f"{v:.3f}" for v in per) + " |")
    first, last = result["rows"][0], result["rows"][-1]
    ratios = [(last[s] / last["segments"]) / (first[s] / first["segments"])
              if first[s] else float("nan") for s in steps]
    lines.append("| last/first | | " + " | ".join(f"{r:.2f}x" for r in ratios) + " |")
    for step in ("ingest", "classify"):
        if f"{step} (before)" in steps:
            speedup = sum(r[f"{step} (before)"] for r in result["rows"]) / sum(
                r[step] for r in result["rows"])
            lines.append(f"{step} speed-up (before/after, all partitions): {speedup:.1f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--partitions", type=int, default=5)
    parser.add_argument("--partition-size", type=int, default=20000)
    parser.add_argument("--no-before", dest="before", action="store_false",
                        help="skip the reference (pre-task-D) classify")
    parser.add_argument("--freeze", choices=["both", "yes", "no"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.freeze = args.freeze == "yes"
        print(json.dumps(child(args)))
        return
    for freeze in (["no", "yes"] if args.freeze == "both" else [args.freeze]):
        cmd = [sys.executable, __file__, args.config, "--child", "--freeze", freeze,
               "--partitions", str(args.partitions),
               "--partition-size", str(args.partition_size)]
        if not args.before:
            cmd.append("--no-before")
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(done.stderr or done.stdout)
        print(table(json.loads(done.stdout.strip().splitlines()[-1])))
        print()


if __name__ == "__main__":
    main()
