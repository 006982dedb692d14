"""Multi-process transform in which every new chunk and word type is analysed once.

:meth:`Preprocessor.transform_texts` caches ``(tokens, stems)`` per whitespace-separated
chunk and analyses per word type.  On a fresh vocabulary that per-chunk and per-type
work dominates, and a plain process pool would repeat all of it in every worker.  So
the workers talk to the parent in four rounds over pipes:

1. each worker splits its contiguous share of the texts into chunks and sends the
   chunks that the parent's cache lacks;
2. the parent sorts the union and deals it out; each worker tokenises its chunks with
   spaCy and sends their token texts, and the token texts that are new word types;
3. the parent deals out the union of new word types; each worker analyses its share;
4. the parent computes the columns of the new chunks and sends them to every worker;
   each builds its rows from cached lookups and sends them.

A text with a transcriber note (which may span spaces) is done whole by its worker.
The output is identical for any number of processes, because the columns of a chunk
are a pure function of the chunk and the config.  The parent keeps every analysed chunk
and word type, so the next call (the next partition) starts warm.
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


def _gather(workers) -> list:
    return [_receive(conn) for _, conn in workers]


def _deal(workers, items: set) -> None:
    ordered = sorted(items)
    for i, (_, conn) in enumerate(workers):
        conn.send(ordered[i::len(workers)])


def transform_parallel(pre, texts: list[str], n_process: int) -> list[tuple[str, str]]:
    """``(tokens, stems)`` per text, computed by ``n_process`` worker processes.

    Parameters
    ----------
    pre : Preprocessor
        Its caches are read by the workers (fork) and extended with theirs.
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
    from .pipeline import _join

    n = max(1, min(n_process, len(texts)))
    bounds = [round(i * len(texts) / n) for i in range(n + 1)]
    context = _context()
    fork = context.get_start_method() == "fork"
    freeze = fork and gc.get_freeze_count() == 0
    if fork:
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
        _deal(workers, set().union(*_gather(workers)))                 # round 1
        chunk_tokens: dict[str, tuple[str, ...]] = {}
        new_words: set[str] = set()
        for tokens, unknown in _gather(workers):                        # round 2
            chunk_tokens.update(tokens)
            new_words.update(unknown)
        _deal(workers, new_words)
        for analysed in _gather(workers):                               # round 3
            for surface, info in analysed:
                pre._words.setdefault(surface, info)
        words = pre._words
        new_chunks = {chunk: _join([words[t] for t in tokens])
                      for chunk, tokens in chunk_tokens.items()}
        for _, conn in workers:
            conn.send(new_chunks)
        rows = []
        for n_rows, tokens_column, stems_column in _gather(workers):    # round 4
            if n_rows:
                rows.extend(zip(tokens_column.split("\n"), stems_column.split("\n")))
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
    pre._chunks.update(new_chunks)
    return rows


def _work(pre, texts: list[str], conn) -> None:
    """Worker side of the four rounds (see the module docstring)."""
    gc.disable()  # a short-lived process that makes no reference cycles
    try:
        from .pipeline import _join_parts

        has_notes = pre.notes.spans
        # None marks a text with a transcriber note, done whole in round 4
        splits = [None if has_notes(text) else text.split() for text in texts]
        chunks: set[str] = set()
        for split in splits:
            if split is not None:
                chunks.update(split)
        known = pre._chunks
        conn.send(("ok", {chunk for chunk in chunks if chunk not in known}))
        tokenizer, words = pre.nlp.tokenizer, pre._words
        tokens = {chunk: tuple(token.text for token in tokenizer(chunk))
                  for chunk in conn.recv()}
        unknown = {t for chunk_tokens in tokens.values() for t in chunk_tokens
                   if t not in words}
        conn.send(("ok", (tokens, unknown)))
        conn.send(("ok", [(surface, pre.word_info(surface)) for surface in conn.recv()]))
        known.update(conn.recv())
        get = known.get
        rows = [pre.columns(text) if split is None else
                _join_parts([get(chunk) or pre.chunk_columns(chunk) for chunk in split])
                for text, split in zip(texts, splits)]
        # two newline-joined strings pickle much faster than many small tuples; the
        # columns never contain a newline (tokens hold no whitespace)
        conn.send(("ok", (len(rows), "\n".join([row[0] for row in rows]),
                          "\n".join([row[1] for row in rows]))))
    except Exception as exc:  # noqa: BLE001 - any failure goes to the parent as T442
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
    finally:
        conn.close()
