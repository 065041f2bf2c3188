"""A build's progress, written beside the workspace it builds, so any process (the app serving another user, or
the app while the command line builds the bundled sample) can show how far it is and how long it has left."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from explorer import store
from explorer.workspace.files import PROGRESS_SUFFIX as _SUFFIX

WRITE_EVERY = 0.5
"""Seconds between writes of the progress file."""


@dataclass(frozen=True)
class BuildProgress:
    """How far a build is: its stage, the fraction of that stage done, and for the embedding stage the texts done,
    the measured rate and the seconds left at that rate (None before they can be measured)."""

    stage: str
    fraction: float
    texts_done: int | None = None
    texts_total: int | None = None
    rate: float | None = None
    seconds_left: float | None = None

    def sentence(self) -> str:
        text = f"{self.stage}… {self.fraction:.0%}"
        if self.texts_done is not None and self.texts_total:
            text += f" ({self.texts_done:,} of {self.texts_total:,} texts"
            if self.rate:
                text += f", {self.rate:,.0f} texts/s, about {self.seconds_left:,.0f} s left"
            text += ")"
        return text


Counts = tuple[int, int]
"""(done, total) items of a stage that counts them: texts embedded, points indexed, searched or placed."""


def stage_sentence(stage: str, fraction: float, *, elapsed: float, counts: Counts | None = None) -> str:
    """One progress line: the stage and its share done, then the items done of all and their rate where the stage
    counts them, and the time left at the measured pace (or, when done, the time it took)."""
    text = f"{stage}… {fraction:.0%}"
    details = []
    if counts is not None and fraction < 1:
        done, total = counts
        details.append(f"{done:,} of {total:,}")
        if elapsed > 1.0 and done:
            details.append(f"{done / elapsed:,.0f}/s")
    if 0 < fraction < 1 and elapsed > 1.0:
        details.append(f"about {elapsed * (1 - fraction) / fraction:,.0f} s left")
    elif fraction >= 1:
        details.append(f"{elapsed:,.1f} s")
    return text + (f" ({', '.join(details)})" if details else "")


def progress_path(out: Path) -> Path:
    return out.with_name(f".{out.name}{_SUFFIX}")


def read_progress(out: Path) -> BuildProgress | None:
    """The progress of a build of ``out`` in any process, or None when none is written."""
    try:
        return BuildProgress(**json.loads(progress_path(out).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def file_progress(out: Path, n_texts: int, *, also: Callable[[str, float], None] | None = None,
                  clock: Callable[[], float] = time.monotonic) -> Callable[[str, float], None]:
    """A stage-progress callback that writes ``out``'s progress file (and calls ``also``); the embedding stage
    ("Embedding texts") gets texts done, rate and time left from the measured pace."""
    started: dict[str, float] = {}
    last_write = [float("-inf")]

    def report(stage: str, fraction: float, counts: Counts | None = None) -> None:
        if also is not None:
            also(stage, fraction, *([counts] if counts is not None else []))
        now = clock()
        started.setdefault(stage, now)
        if now - last_write[0] < WRITE_EVERY and fraction < 1.0:
            return
        last_write[0] = now
        progress = BuildProgress(stage, float(fraction))
        if stage.startswith("Embedding"):
            done, elapsed = round(fraction * n_texts), now - started[stage]
            rate = done / elapsed if elapsed > 1.0 and done else None
            progress = BuildProgress(stage, float(fraction), done, n_texts, rate,
                                     (n_texts - done) / rate if rate else None)
        store.save_json(progress_path(out), progress.__dict__)

    return report


def clear_progress(out: Path) -> None:
    progress_path(out).unlink(missing_ok=True)
