"""Multi-process transform in which every new word type is analysed exactly once.

Tokenising is split evenly, but so must be the per-type work (normalisation and
PySastrawi stemming), which dominates on a fresh vocabulary: with a plain process pool
every worker would analyse the whole vocabulary again.  So the workers talk to the
parent in three rounds over pipes:

1. each worker tokenises its contiguous share of the texts, keeps the token ids, and
   sends the word types it has not seen;
2. the parent sorts the union and deals it out; each worker analyses its share and
   sends the results back;
3. the parent sends every worker all the results; each builds its ``(tokens, stems)``
   rows from cached lookups and sends them.

The output is identical for any number of processes, because the analysis of a word
type is a pure function of the word and the config.  The parent keeps the analysed
types, so the next call (the next partition) starts warm.
"""

from __future__ import annotations

import gc
import multiprocessing

from ..errors import StageError


def _context():
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _receive(conn):
    try:
        status, payload = conn.recv()
    except EOFError:
        raise StageError("T442", "a preprocess worker process stopped unexpectedly "
                         "(out of memory?); retry with executor.n_process: 1") from None
    if status != "ok":
        raise StageError("T442", f"a preprocess worker failed: {payload}; retry with "
                         "executor.n_process: 1 to see the full error")
    return payload


def transform_parallel(pre, texts: list[str], n_process: int) -> list[tuple[str, str]]:
    """``(tokens, stems)`` per text, computed by ``n_process`` worker processes.

    Parameters
    ----------
    pre : Preprocessor
        Its word-type cache is read by the workers (fork) and extended with theirs.
    texts : list of str, length n_texts
    n_process : int
        Worker processes (at most one per text).

    Returns
    -------
    list of (str, str), length n_texts
        As :meth:`Preprocessor.transform_texts` with one process.

    Raises
    ------
    StageError
        T442 when a worker fails or dies.
    """
    n = max(1, min(n_process, len(texts)))
    bounds = [round(i * len(texts) / n) for i in range(n + 1)]
    context = _context()
    freeze = context.get_start_method() == "fork" and gc.get_freeze_count() == 0
    if context.get_start_method() == "fork":
        _ = pre.nlp  # build the tokenizer once, before forking, so that children share it
    if freeze:
        # keep the children's garbage collector off the parent's objects, which would
        # otherwise be copied page by page (copy-on-write) as the collector touches them
        gc.freeze()
    workers = []
    try:
        for i in range(n):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=_work,
                                      args=(pre, texts[bounds[i]:bounds[i + 1]], child_end),
                                      daemon=True)
            process.start()
            child_end.close()
            workers.append((process, parent_end))
        unknown: set[str] = set()
        for _, conn in workers:
            unknown.update(_receive(conn))
        ordered = sorted(unknown)
        for i, (_, conn) in enumerate(workers):
            conn.send(ordered[i::n])
        analysed: dict = {}
        for _, conn in workers:
            analysed.update(_receive(conn))
        for _, conn in workers:
            conn.send(analysed)
        rows: list[tuple[str, str]] = []
        for _, conn in workers:
            rows.extend(_receive(conn))
        for process, _ in workers:
            process.join()
    finally:
        for process, conn in workers:
            if process.is_alive():
                process.terminate()
                process.join()
            conn.close()
        if freeze:
            gc.unfreeze()
    for surface, info in analysed.items():
        pre._words.setdefault(surface, info)
    return rows


def _work(pre, texts: list[str], conn) -> None:
    """Worker side of the three rounds (see the module docstring)."""
    gc.disable()  # a short-lived process that makes no reference cycles
    try:
        from spacy.attrs import ORTH

        nlp = pre.nlp
        strings = nlp.vocab.strings
        types, words = pre._types, pre._words
        items: list[list[int] | None] = []
        seen: set[int] = set()
        for text, doc in zip(texts, nlp.tokenizer.pipe(texts)):
            orths = doc.to_array(ORTH).tolist() if len(doc) else []
            items.append(None if orths and pre.notes.spans(text) else orths)
            seen.update(orths)
        unseen = {orth: strings[orth] for orth in seen if orth not in types}
        missing = set()
        for orth, surface in unseen.items():
            info = words.get(surface)
            if info is None:
                missing.add(surface)
            else:
                types[orth] = info
        conn.send(("ok", sorted(missing)))
        share = conn.recv()
        conn.send(("ok", [(surface, pre.word_info(surface)) for surface in share]))
        for surface, info in conn.recv().items():
            words.setdefault(surface, info)
        rows = [pre.columns(text) if orths is None else
                pre.columns_of_orths(orths, strings) if orths else ("", "")
                for text, orths in zip(texts, items)]
        conn.send(("ok", rows))
    except Exception as exc:  # noqa: BLE001 - any failure goes to the parent as T442
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
    finally:
        conn.close()
