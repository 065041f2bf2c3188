"""New texts on a workspace's map, which stays as it was: embedded with the workspace's own model, searched in its
index and placed on its saved layout (UMAP's transform), never refitting anything.

The coverage of real queries (``coverage.py``) and the drift of a new batch of documents (``drift.py``) both start
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.analysis.similarity import unit_rows
from explorer.embedding.embed import PRECOMPUTED, embed_texts
from explorer.embedding.encoders import Encoder, Progress
from explorer.errors import InputError
from explorer.ingest.corpus import choose_text_column
from explorer.mapping.index import IndexConfig, VectorIndex
from explorer.mapping.reduce import place_points
from explorer.types import Embeddings
from explorer.workspace import Workspace

DEFAULT_K = 10
TEXT_COLUMNS = {"queries": ("query", "text"), "documents": ("text",)}
"""Column names read first, before the column with the longest texts."""


@dataclass(frozen=True, eq=False)
class PlacedTexts:
    """New texts embedded in a workspace's space and placed on its map.

    Attributes:
        texts: (m,) the new texts, in file order.
        embeddings: (m, d) their vectors, from the workspace's model.
        hits: (m, k) int64 the workspace's rows nearest each text through its own index, best first.
        hit_cosine: (m, k) float32 the cosine of each text with each of those rows.
        coords: (m, 2) float32 where each text lands on the saved 2-D map.
    """

    texts: np.ndarray
    embeddings: Embeddings
    hits: np.ndarray
    hit_cosine: np.ndarray
    coords: np.ndarray

    @property
    def k(self) -> int:
        return int(self.hits.shape[1])


def default_text_column(table: pd.DataFrame, *, kind: str) -> str:
    """The column of texts of a file of ``kind`` ``queries`` or ``documents``: the first of TEXT_COLUMNS present,
    else the column with the longest texts."""
    named = next((name for name in TEXT_COLUMNS[kind] if name in table.columns), None)
    return named if named is not None else choose_text_column(table).name


def new_texts(table: pd.DataFrame, *, kind: str, column: str | None = None) -> list[str]:
    """The texts of ``column`` (default: ``default_text_column``) of an uploaded file, empty cells left out; a file
    with no text is refused."""
    column = default_text_column(table, kind=kind) if column is None else column
    if column not in table.columns:
        raise InputError(f"The file has no column '{column}' (it has {', '.join(map(str, table.columns))}).")
    texts = table[column].dropna().astype(str).str.strip()
    texts = texts[texts != ""].tolist()
    if not texts:
        raise InputError(f"The file's '{column}' column holds no text: every cell is empty.")
    return texts


def check_same_model(own: str, model_id: str | None) -> None:
    """Refuse another model than ``own``, the workspace's (its vectors would land in a space the map does not
    show), and a workspace of uploaded vectors (there is no model to embed new texts with)."""
    if own == PRECOMPUTED:
        raise InputError("This workspace was built from uploaded vectors, so there is no model here to embed new "
                         "texts with. Build the workspace with one of the explorer's models to place new texts on "
                         "its map.")
    if model_id is not None and model_id != own:
        raise InputError(f"This workspace's map was made from {own} vectors; texts embedded with {model_id} would "
                         f"not land in the same space (cosines across models mean nothing). Embed them with {own}: "
                         "leave the model out.")


def place_texts(workspace: Workspace, texts: list[str], encoder: Encoder, *, queries: bool, k: int = DEFAULT_K,
                cache_dir: Path | None = None, progress: Progress | None = None) -> PlacedTexts:
    """Embed ``texts`` with ``encoder`` (the workspace's model: its index refuses any other), find their k nearest
    rows in the workspace's index and place them on its 2-D map."""
    index = workspace.index()
    if not 1 <= k <= len(index):
        raise InputError(f"k must be between 1 and {len(index):,} (the workspace's points); got {k}.")
    embeddings = embed_texts(texts, encoder, cache_dir=cache_dir, progress=progress, queries=queries)
    found = index.search(embeddings, max(k, workspace.manifest.config.layout.n_neighbors))
    layout = workspace.layout(2)
    if layout is None:
        raise InputError("This workspace has no saved 2-D map to place new texts on; build it again.")
    coords = place_points(found, layout, config=workspace.manifest.config.layout)
    hits = found.indices[:, :k]
    found_rows = workspace.embeddings().vectors[np.maximum(hits, 0).ravel()]  # only the hits, not the whole corpus
    cosine = np.einsum("qd,qkd->qk", unit_rows(embeddings.vectors), unit_rows(found_rows).reshape(*hits.shape, -1))
    cosine[hits < 0] = np.nan  # an approximate index may find fewer than k
    return PlacedTexts(np.array(texts, dtype=object), embeddings, hits, cosine.astype(np.float32), coords)


def cosine_index(workspace: Workspace) -> VectorIndex:
    """The workspace's own index when it scores by cosine, else a cosine index of its vectors."""
    saved = workspace.index()
    return saved if saved.metric == "cosine" else VectorIndex.build(workspace.embeddings(), IndexConfig("cosine"))
