"""Split long documents into overlapping token windows; each chunk keeps its document id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from explorer.errors import InputError
from explorer.types import CHUNK, TEXT, Corpus, IngestReport

TokenSpans = Callable[[Sequence[str]], list[list[tuple[int, int]]]]
"""Maps texts to the (start, end) character offsets of each of their tokens."""


@dataclass(frozen=True)
class ChunkConfig:
    """Token windows: ``max_tokens`` per chunk, consecutive chunks sharing ``overlap`` tokens.

    ``max_tokens=None`` means the model's own limit. ``enabled=False`` keeps texts whole.
    """

    enabled: bool = True
    max_tokens: int | None = None
    overlap: int = 32

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 8:
            raise InputError("Chunk size must be at least 8 tokens.")
        if self.overlap < 0:
            raise InputError("Chunk overlap cannot be negative.")
        if self.max_tokens is not None and self.overlap >= self.max_tokens:
            raise InputError(f"Chunk overlap ({self.overlap}) must be smaller than the chunk size "
                             f"({self.max_tokens} tokens).")

    def window(self, model_limit: int | None) -> int | None:
        """Tokens per chunk for a model with this token limit (None: no chunking needed)."""
        if not self.enabled:
            return None
        return self.max_tokens if self.max_tokens is not None else model_limit


def chunk_windows(spans: list[tuple[int, int]], *, max_tokens: int, overlap: int) -> list[tuple[int, int]]:
    """Character ranges of overlapping windows of at most ``max_tokens`` tokens.

    Windows start and end on whole words (a token that follows a gap starts a word), so a chunk
    re-tokenises to the same tokens; ``(0, -1)`` means the whole text fits in one window.
    """
    n = len(spans)
    if n <= max_tokens:
        return [(0, -1)]
    word_start = [i == 0 or spans[i][0] > spans[i - 1][1] for i in range(n)]
    windows, first = [], 0
    while True:
        stop = min(first + max_tokens, n)  # one past the window's last token
        if stop < n:
            stop = next((i for i in range(stop, first, -1) if word_start[i]), stop)
        windows.append((spans[first][0], spans[stop - 1][1]))
        if stop == n:
            return windows
        following = max(stop - overlap, first + 1)
        first = next((i for i in range(following, stop) if word_start[i]), stop)


SPAN_BATCH = 4096
"""Texts tokenised at once: the tokenizer's output for a batch is dropped before the next, so memory stays
bounded however many texts there are (all at once, 100,000 tweets took 1.5 GB)."""


def may_exceed(texts: Sequence[str], limit: int) -> np.ndarray:
    """(n,) bool: which texts could have more than ``limit`` tokens, so only those need tokenising.

    Every tokenizer here emits at most one token per UTF-8 byte of the text, plus one (SentencePiece's word-start
    marker before the first character): WordPiece and word tokens cover at least one character, byte-level BPE at
    least one byte. Tested on real and adversarial texts for each model.
    """
    return np.fromiter((len(text.encode("utf-8")) + 1 > limit for text in texts), dtype=bool, count=len(texts))


def token_counts(texts: Sequence[str], token_spans: TokenSpans, *, limit: int) -> np.ndarray:
    """(n,) each text's token count where it may exceed ``limit``, else 0 (shorter than the limit for sure)."""
    counts = np.zeros(len(texts), dtype=np.int64)
    for row in _long_rows_spans(texts, token_spans, limit):
        counts[row[0]] = len(row[1])
    return counts


def _long_rows_spans(texts: Sequence[str], token_spans: TokenSpans, limit: int):
    """(row, spans) for each text with more than ``limit`` tokens, tokenising in batches of candidates."""
    candidates = np.flatnonzero(may_exceed(texts, limit))
    for start in range(0, len(candidates), SPAN_BATCH):
        rows = candidates[start:start + SPAN_BATCH]
        for row, spans in zip(rows.tolist(), token_spans([texts[row] for row in rows])):
            if len(spans) > limit:
                yield row, spans


def chunk_corpus(corpus: Corpus, report: IngestReport, token_spans: TokenSpans, *,
                 model_limit: int | None, config: ChunkConfig = ChunkConfig()) -> tuple[Corpus, IngestReport]:
    """Split texts longer than the window into overlapping chunks numbered 0, 1, ...

    With chunking off, texts stay whole and the report counts how many the model will truncate.
    """
    window = config.window(model_limit)
    if window is None:
        return corpus, _with_truncation(corpus, report, token_spans, model_limit)
    texts = corpus.texts
    pieces = {row: [texts[row][start:end] for start, end in
                    chunk_windows(spans, max_tokens=window, overlap=config.overlap)]
              for row, spans in _long_rows_spans(texts, token_spans, window)}
    if not pieces:
        return corpus, replace(report, n_chunks=len(corpus))
    counts = np.ones(len(texts), dtype=np.int64)
    counts[list(pieces)] = [len(chunks) for chunks in pieces.values()]
    # The text column is left out before the rows are repeated: repeating it copied a long text once per chunk
    # (a 2 MB line in 2,000 chunks took 4.6 GB). Memory stays about the text's pieces (the text plus its overlaps).
    points = corpus.points.drop(columns=[TEXT]).iloc[np.repeat(np.arange(len(texts)), counts)].reset_index(drop=True)
    first_of_row = np.repeat(np.cumsum(counts) - counts, counts)
    points[CHUNK] = np.arange(len(points)) - first_of_row
    points[TEXT] = [piece for row, text in enumerate(texts) for piece in pieces.get(row, (text,))]
    return Corpus(points, corpus.metadata_columns), replace(report, n_split_documents=len(pieces), n_chunks=len(points),
                                                            n_split_chunks=sum(map(len, pieces.values())))


def _with_truncation(corpus: Corpus, report: IngestReport, token_spans: TokenSpans,
                     model_limit: int | None) -> IngestReport:
    if model_limit is None:
        return report
    n_long = int((token_counts(corpus.texts, token_spans, limit=model_limit) > model_limit).sum())
    return replace(report, n_truncated=n_long, truncation_limit=model_limit)
