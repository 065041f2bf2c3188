"""Artifacts on disk: arrays, tables and JSON sidecars, written atomically, never pickled."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SIDECAR_SUFFIX = ".json"
_LIBRARIES = ("numpy", "faiss-cpu", "umap-learn", "fast_hdbscan", "scikit-learn", "sentence-transformers")


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_bytes(path: Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as temporary:
        writer(temporary)


def save_json(path: Path, payload: dict[str, Any]) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, default=_json_default)
    write_bytes(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def sidecar(step: str, *, upstream: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """The record written beside every artifact: what made it, from what, with which libraries."""
    return {"step": step, "upstream": upstream or [], "created": datetime.now(timezone.utc).isoformat(),
            "versions": library_versions(), **fields}


def library_versions(names: tuple[str, ...] = _LIBRARIES) -> dict[str, str]:
    """The installed version of each named distribution ("missing" where it is not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def sidecar_path(artifact: Path) -> Path:
    """The JSON record beside an artifact: ``points.parquet`` -> ``points.json``."""
    return artifact.with_suffix(SIDECAR_SUFFIX)


def load_sidecar(artifact: Path) -> dict[str, Any]:
    return load_json(sidecar_path(artifact))


def save_array(path: Path, array: np.ndarray, meta: dict[str, Any]) -> None:
    """Save ``array`` as .npy with a JSON sidecar (sidecar last, so it marks a complete artifact)."""
    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.save(handle, np.ascontiguousarray(array), allow_pickle=False)

    write_bytes(path, write)
    save_json(sidecar_path(path), meta)


def load_array(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def save_frame(path: Path, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Save a table as Parquet; object columns of mixed types are stored as text."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(lambda value: value if value is None else str(value))
    write_bytes(path, lambda temporary: safe.to_parquet(temporary, index=False))
    save_json(sidecar_path(path), meta)


def load_frame(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def text_hash(texts: list[str]) -> str:
    """Content hash of an ordered list of texts."""
    digest = hashlib.sha256()
    for text in texts:
        encoded = text.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()[:32]
