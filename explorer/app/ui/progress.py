"""Progress bars for work that happens while a page waits (embedding a file with a model, building)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from explorer.workspace.progress import BuildProgress

RATE_AFTER_S = 1.0
"""Seconds of embedding before the rate (and the time left) is measured well enough to show."""


@contextmanager
def embedding_progress(what: str, model_id: str, *,
                       clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[int, int], None]]:
    """A (done, total) callback that draws a bar naming what is embedded with which model, texts done, the measured
    rate and the time left. The bar appears only while texts are really being embedded (a result read from the
    embeddings cache reports only its end, and draws nothing), and goes when the block ends."""
    slot = st.empty()
    started: list[float] = []
    stage = f"Embedding {what} with {model_id}"

    def report(done: int, total: int) -> None:
        if done >= total and not started:
            return
        now = clock()
        if not started:
            started.append(now)
        elapsed = now - started[0]
        rate = done / elapsed if elapsed >= RATE_AFTER_S and done else None
        sentence = BuildProgress(stage, done / max(total, 1), done, total, rate,
                                 (total - done) / rate if rate else None).sentence()
        slot.progress(min(done / max(total, 1), 1.0), text=sentence)

    try:
        yield report
    finally:
        slot.empty()
