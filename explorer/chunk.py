"""Split long documents into overlapping token windows; each chunk keeps its document id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pandas as pd

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


def chunk_corpus(corpus: Corpus, report: IngestReport, token_spans: TokenSpans, *,
                 model_limit: int | None, config: ChunkConfig = ChunkConfig()) -> tuple[Corpus, IngestReport]:
    """Split texts longer than the window into overlapping chunks numbered 0, 1, ...

    With chunking off, texts stay whole and the report counts how many the model will truncate.
    """
    window = config.window(model_limit)
    if window is None:
        return corpus, _with_truncation(corpus, report, token_spans, model_limit)
    all_spans = token_spans(corpus.texts)
    rows = []
    n_split = 0
    for record, spans in zip(corpus.points.to_dict("records"), all_spans):
        windows = chunk_windows(spans, max_tokens=window, overlap=config.overlap)
        n_split += len(windows) > 1
        for number, (start, end) in enumerate(windows):
            text = record[TEXT] if end == -1 else record[TEXT][start:end]
            rows.append({**record, CHUNK: number, TEXT: text})
    points = pd.DataFrame(rows, columns=corpus.points.columns)
    chunked = Corpus(points, corpus.metadata_columns)
    return chunked, replace(report, n_split_documents=n_split, n_chunks=len(points))


def _with_truncation(corpus: Corpus, report: IngestReport, token_spans: TokenSpans,
                     model_limit: int | None) -> IngestReport:
    if model_limit is None:
        return report
    n_long = sum(len(spans) > model_limit for spans in token_spans(corpus.texts))
    return replace(report, n_truncated=n_long, truncation_limit=model_limit)
