"""Read access to a workspace folder: every artifact loads lazily, typed."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer import store
from explorer.config import config_from_dict
from explorer.embedding.encoders import TfidfFit
from explorer.errors import InputError
from explorer.mapping.cluster import ClusterConfig
from explorer.mapping.index import VectorIndex
from explorer.mapping.topics import TopicTree
from explorer.types import Clustering, ClusterKeywords, Embeddings, Neighbors
from explorer.workspace import files
from explorer.workspace.manifest import Manifest


@dataclass(frozen=True, eq=False)
class SavedClustering:
    """A workspace's current clustering: HDBSCAN's result, its clusters' keywords and the parameters used."""

    clustering: Clustering
    keywords: ClusterKeywords
    config: ClusterConfig


@dataclass(frozen=True, eq=False)
class SavedFlags:
    """The flags table (one row per point) and the duplicate threshold and outlier k it was computed with."""

    table: pd.DataFrame
    threshold: float
    k: int


def _same_build(read):
    """Check, after an artifact is read, that the folder still holds the build the workspace was opened on: a
    rebuild swapped in meanwhile would mix two builds' files (refused in one line, never a traceback later)."""
    @functools.wraps(read)
    def checked(workspace: Workspace, *args, **kwargs):
        try:
            value = read(workspace, *args, **kwargs)
        except FileNotFoundError:
            _check_build(workspace)  # the file went with a rebuild's swap: say that, not which file is missing
            raise
        _check_build(workspace)
        return value
    return checked


def _check_build(workspace: Workspace) -> None:
    if workspace.build_id and workspace.manifest.build_id != workspace.build_id:
        raise InputError(f"The workspace '{workspace.path.name}' was built again while it was being read; open it "
                         "again.")


@dataclass(frozen=True)
class Workspace:
    """A workspace folder, opened for reading.

    Attributes:
        build_id: the build it held when opened (``Manifest.build_id``): edits write only into that build.
    """

    path: Path
    build_id: str = ""

    @classmethod
    def open(cls, path: Path) -> Workspace:
        """Open a workspace; a folder that is not one, one of a newer format, or one whose files disagree (a
        write interrupted or torn) is refused with a sentence saying what to do."""
        path = Path(path)
        if not (path / files.MANIFEST).is_file():
            raise InputError(f"'{path}' is not a workspace (no {files.MANIFEST}); build one with "
                             "'explorer build'.")
        manifest = Manifest.from_json(store.load_json(path / files.MANIFEST))
        check_rows_agree(path, manifest.n_points)
        return cls(path, manifest.build_id)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def manifest(self) -> Manifest:
        return Manifest.from_json(store.load_json(self.path / files.MANIFEST))

    @_same_build
    def points(self) -> pd.DataFrame:
        return store.load_frame(self.path / files.POINTS)

    def texts(self) -> list[str]:
        return self.points()["text"].tolist()

    @_same_build
    def embeddings(self) -> Embeddings:
        meta = store.load_sidecar(self.path / files.EMBEDDINGS)
        return Embeddings(store.load_array(self.path / files.EMBEDDINGS), meta["model"], meta["fingerprint"],
                          meta["normalized"])

    @_same_build
    def index(self) -> VectorIndex:
        return VectorIndex.read(self.path / files.INDEX, store.load_sidecar(self.path / files.INDEX))

    def index_recall(self) -> float | None:
        """The approximate index's recall@10 against exact search, measured at build time (None for an exact
        index, or one built before it was measured)."""
        return store.load_sidecar(self.path / files.INDEX).get("recall_at_10")

    @_same_build
    def knn(self) -> Neighbors:
        meta = store.load_sidecar(self.path / files.KNN_INDICES)
        return Neighbors(store.load_array(self.path / files.KNN_INDICES),
                         store.load_array(self.path / files.KNN_SCORES), meta["metric"])

    @_same_build
    def layout(self, n_components: int) -> np.ndarray | None:
        path = self.path / files.layout(n_components)
        return store.load_array(path) if path.exists() else None

    @_same_build
    def map_sample(self) -> np.ndarray | None:
        """(s,) the rows the layouts and clusters were fitted on, or None when they were fitted on every point."""
        path = self.path / files.MAP_SAMPLE
        return store.load_array(path) if path.exists() else None

    @_same_build
    def clustering(self) -> SavedClustering:
        frame = store.load_frame(self.path / files.CLUSTERS)
        keywords_file = self.path / files.KEYWORDS
        if not keywords_file.exists():  # format 1
            keywords_file = self.path / files.FORMAT1_KEYWORDS
        record = store.load_json(keywords_file)
        clustering = Clustering(frame["cluster"].to_numpy(np.int64), frame["probability"].to_numpy(np.float32),
                                frame["outlier_score"].to_numpy(np.float32))
        return SavedClustering(clustering, ClusterKeywords({int(k): v for k, v in record["keywords"].items()}),
                               config_from_dict(ClusterConfig, record["config"]))

    @_same_build
    def topics(self) -> TopicTree | None:
        """The topic tree (None for workspaces built before it was made)."""
        path = self.path / files.TOPICS
        if not path.exists():
            return None
        frame, record = store.load_frame(path), store.load_sidecar(path)
        levels = record["levels"]
        return TopicTree(np.stack([frame[f"level_{level}"].to_numpy(np.int64) for level in range(len(levels))]),
                         frame["weak"].to_numpy(bool),
                         [np.array([row["parent"] for row in rows], np.int64) for rows in levels],
                         [[list(row["keywords"]) for row in rows] for rows in levels])

    @_same_build
    def flags(self) -> SavedFlags | None:
        """Duplicate and outlier flags per point, or None for workspaces without them."""
        path = self.path / files.FLAGS
        if not path.exists():
            return None
        record = store.load_sidecar(path)
        return SavedFlags(store.load_frame(path), float(record["threshold"]), int(record["k"]))

    @_same_build
    def tfidf_fit(self) -> TfidfFit | None:
        """The TF-IDF + SVD fit of a ``tfidf-svd`` workspace (None for other models)."""
        if not (self.path / files.TFIDF_COMPONENTS).exists():
            return None
        vocabulary = store.load_json(self.path / files.TFIDF_VOCABULARY)["vocabulary"]
        return TfidfFit({word: int(column) for word, column in vocabulary.items()},
                        store.load_array(self.path / files.TFIDF_IDF),
                        store.load_array(self.path / files.TFIDF_COMPONENTS))

    def reopened(self) -> Workspace:
        """The folder as it is now (after an edit or a rebuild)."""
        return Workspace.open(self.path)

    def version(self) -> float:
        """Changes whenever an artifact is rewritten: a cache key for the UI."""
        return max(path.stat().st_mtime for path in self.path.iterdir())


ROWS_PER_POINT = (files.POINTS, files.EMBEDDINGS, files.KNN_INDICES, files.KNN_SCORES, files.layout(2),
                  files.layout(5), files.layout(3), files.CLUSTERS, files.FLAGS, files.TOPICS)
"""The artifacts with one row per point: a workspace whose files disagree on the count was torn by a write."""


def check_rows_agree(path: Path, n_points: int) -> None:
    """Refuse, in one sentence, a workspace whose per-point files do not all hold the manifest's ``n_points`` rows
    (read from the files' headers: nothing is loaded)."""
    import pyarrow.parquet as parquet

    for name in ROWS_PER_POINT:
        file = path / name
        if not file.exists():
            continue
        try:
            rows = (parquet.read_metadata(file).num_rows if file.suffix == ".parquet"
                    else np.load(file, mmap_mode="r", allow_pickle=False).shape[0])
        except (OSError, ValueError) as error:
            raise InputError(f"The workspace '{path.name}' cannot be read: {name} is damaged ({error}). Build it "
                             "again.") from None
        if rows != n_points:
            raise InputError(f"The workspace '{path.name}' is inconsistent: {name} holds {rows:,} rows where the "
                             f"manifest says {n_points:,} points (a write was interrupted). Build it again.")
