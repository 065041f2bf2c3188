"""A workspace folder: every computed artifact of one corpus + model, each with a JSON sidecar.

Layout::

    workspace.json            manifest: source, configs, counts, timings
    points.parquet            id, chunk, text, metadata
    embeddings.npy            (n, d) float32
    index.faiss, index.json   FAISS index + model fingerprint and metric
    knn_indices.npy, knn_scores.npy   (n, k) neighbour graph from the index
    layout_2d.npy, layout_5d.npy, layout_3d.npy (on demand)
    clusters.parquet, clusters.json   labels, probabilities, outlier scores; keywords + parameters
    flags.parquet             near-duplicate groups and decisions, outlier scores and rank
    tfidf_*.json/.npy         the TF-IDF + SVD fit (tfidf-svd workspaces), to embed typed queries
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer import store
from explorer.encoders import TfidfFit
from explorer.errors import InputError
from explorer.index import VectorIndex
from explorer.types import Clustering, ClusterKeywords, Embeddings, Neighbors

MANIFEST = "workspace.json"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def data_root() -> Path:
    """The app's data folder: $EXPLORER_DATA_DIR, or data/ in the repository."""
    return Path(os.environ.get("EXPLORER_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))


def workspaces_root() -> Path:
    return data_root() / "workspaces"


def embeddings_cache() -> Path:
    return data_root() / "cache" / "embeddings"


def safe_name(name: str) -> str:
    cleaned = _NAME.sub("-", name.strip()).strip("-.")
    if not cleaned:
        raise InputError("Give the workspace a name made of letters, digits, '-', '_' or '.'.")
    return cleaned[:80]


def list_workspaces(root: Path | None = None) -> list[Path]:
    """Complete workspaces under ``root``, newest first."""
    root = root or workspaces_root()
    if not root.is_dir():
        return []
    found = [path for path in root.iterdir() if (path / MANIFEST).is_file() and not path.name.startswith(".")]
    return sorted(found, key=lambda path: (path / MANIFEST).stat().st_mtime, reverse=True)


@dataclass(frozen=True)
class Workspace:
    """Read access to a workspace folder; artifacts load lazily."""

    path: Path

    @classmethod
    def open(cls, path: Path) -> Workspace:
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise InputError(f"'{path}' is not a workspace (no {MANIFEST}); build one with 'python -m explorer build'.")
        return cls(path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def manifest(self) -> dict:
        return store.load_json(self.path / MANIFEST)

    def points(self):
        return store.load_frame(self.path / "points.parquet")

    def embeddings(self) -> Embeddings:
        meta = store.load_json(self.path / "embeddings.json")
        return Embeddings(store.load_array(self.path / "embeddings.npy"), meta["model"], meta["fingerprint"],
                          meta["normalized"])

    def index(self) -> VectorIndex:
        return VectorIndex.load(self.path)

    def knn(self) -> Neighbors:
        meta = store.load_json(self.path / "knn_indices.json")
        return Neighbors(store.load_array(self.path / "knn_indices.npy"),
                         store.load_array(self.path / "knn_scores.npy"), meta["metric"])

    def layout(self, n_components: int) -> np.ndarray | None:
        path = self.path / f"layout_{n_components}d.npy"
        return store.load_array(path) if path.exists() else None

    def clustering(self) -> tuple[Clustering, ClusterKeywords, dict]:
        frame = store.load_frame(self.path / "clusters.parquet")
        meta = store.load_json(self.path / "clusters.json")
        keywords = ClusterKeywords({int(k): v for k, v in meta["keywords"].items()})
        clustering = Clustering(frame["cluster"].to_numpy(np.int64), frame["probability"].to_numpy(np.float32),
                                frame["outlier_score"].to_numpy(np.float32))
        return clustering, keywords, meta

    def flags(self):
        """Duplicate and outlier flags per point (``flags.parquet``), or None for workspaces without them."""
        path = self.path / "flags.parquet"
        return store.load_frame(path) if path.exists() else None

    def tfidf_fit(self) -> TfidfFit | None:
        """The TF-IDF + SVD fit of a ``tfidf-svd`` workspace (None for other models and older workspaces)."""
        if not (self.path / "tfidf_components.npy").exists():
            return None
        vocabulary = store.load_json(self.path / "tfidf_vocabulary.json")["vocabulary"]
        return TfidfFit({word: int(column) for word, column in vocabulary.items()},
                        store.load_array(self.path / "tfidf_idf.npy"), store.load_array(self.path / "tfidf_components.npy"))

    def version(self) -> float:
        """Changes whenever an artifact is rewritten: a cache key for the UI."""
        return max(path.stat().st_mtime for path in self.path.iterdir())
