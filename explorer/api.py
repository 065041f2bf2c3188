"""The main jobs from a notebook: build a workspace from a DataFrame, then search it, ask for a point's neighbours,
its duplicates and outliers, audit labelled pairs, and draw the map inline.

    import explorer.api as ex
    workspace = ex.build(frame, text_column="text", name="tweets")
    ex.search(workspace, "vaccine side effects", k=5)
    ex.map_figure(workspace)            # a plotly figure: Jupyter, VS Code, Colab and Marimo draw it inline

Each function returns a pandas DataFrame, a dict or a figure, and raises ``explorer.errors.InputError`` with a
sentence saying what to change when its input cannot be used. The same workspace opens in the app.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from explorer.errors import InputError
from explorer.workspace import MANIFEST, Workspace, safe_name, workspaces_root


def build(frame: pd.DataFrame, *, text_column: str | None = None, name: str = "notebook",
          id_column: str | None = None, metadata: tuple[str, ...] = (), model: str | None = None,
          out: str | Path | None = None, replace: bool = False) -> Workspace:
    """Embed ``frame``'s texts and write a workspace (in the data folder under ``name``, or at ``out``).

    ``text_column`` defaults to the column with the longest texts; ``model`` to all-MiniLM-L6-v2. An existing
    workspace is replaced only with ``replace=True``.
    """
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.embedding.encoders import DEFAULT_MODEL
    from explorer.ingest.corpus import IngestConfig, choose_text_column

    target = Path(out) if out is not None else workspaces_root() / safe_name(name)
    if (target / MANIFEST).is_file() and not replace:
        raise InputError(f"A workspace already exists at {target}: open it with open_workspace(), or pass "
                         "replace=True to build it again.")
    column = text_column or choose_text_column(frame).name
    config = BuildConfig(IngestConfig(column, id_column, tuple(metadata)), model_id=model or DEFAULT_MODEL)
    return build_workspace(frame, config, target, source="a DataFrame (explorer.api.build)")


def open_workspace(name_or_path: str | Path) -> Workspace:
    """A saved workspace, by its name in the data folder or by its path."""
    path = Path(name_or_path)
    if not (path / MANIFEST).is_file():
        path = workspaces_root() / str(name_or_path)
    if not (path / MANIFEST).is_file():
        raise InputError(f"No workspace named {name_or_path!s} (looked in {workspaces_root()}).")
    return Workspace.open(path)


def search(workspace: Workspace, query: str, *, k: int = 10, mode: str = "hybrid", encoder=None,
           keywords=None) -> pd.DataFrame:
    """The top ``k`` points for ``query``: rank, id, chunk, score, each one's rank by vector and by keyword, text,
    metadata, cluster name. ``mode``: ``vector``, ``keyword`` or ``hybrid``. A caller asking many queries passes
    the workspace's query ``encoder`` and BM25 ``keywords`` (``KeywordIndex``) it keeps, else they are made here."""
    from explorer.analysis.search import KeywordIndex, hits_table, query_encoder
    from explorer.analysis.search import search as run_search

    points = workspace.points()
    if encoder is None and mode != "keyword":
        encoder = query_encoder(workspace)
    if keywords is None:
        keywords = KeywordIndex.build(points["text"].tolist())
    hits = run_search(query, mode=mode, k=k, index=workspace.index(), encoder=encoder, keywords=keywords)
    return hits_table(hits, points).assign(cluster=_cluster_names(workspace, hits.rows))


def neighbours(workspace: Workspace, point_id, *, k: int = 10) -> pd.DataFrame:
    """The ``k`` true nearest neighbours of the point with id ``point_id`` (its first chunk), each with its rank by
    distance on the 2-D map (a large map rank: UMAP tore them apart)."""
    from explorer.analysis.search import neighbours_table, point_neighbours

    points = workspace.points()
    matches = (points["id"].astype(str) == str(point_id)).to_numpy().nonzero()[0]
    if len(matches) == 0:
        raise InputError(f"No point has the id {point_id!s}.")
    index = workspace.index()
    found = point_neighbours(int(matches[0]), index=index, embeddings=workspace.embeddings(),
                             layout_2d=workspace.layout(2), k=k)
    return neighbours_table(found, points, index.metric).assign(cluster=_cluster_names(workspace, found.rows))


def _cluster_names(workspace: Workspace, rows) -> list[str]:
    saved = workspace.clustering()
    return list(saved.keywords.names(saved.clustering.labels[rows]))


def duplicates(workspace: Workspace, *, threshold: float = 0.95) -> pd.DataFrame:
    """Near-duplicate pairs at cosine >= ``threshold``: both ids and texts, their cosine, their group."""
    from explorer.analysis.flags import pairs_table
    from explorer.analysis.quality import find_duplicates

    return pairs_table(find_duplicates(workspace, threshold), workspace.points())


def outliers(workspace: Workspace, *, top: int = 20) -> pd.DataFrame:
    """The ``top`` most outlying points with their three scores (k-NN distance, GLOSH, LOF) and combined rank."""
    from explorer.analysis.quality import find_outliers, outlier_table

    return outlier_table(find_outliers(workspace), workspace.points(), top=top)


def clusters(workspace: Workspace) -> pd.DataFrame:
    """One row per cluster, largest first: cluster, name (its keywords), size; noise is cluster -1."""
    saved = workspace.clustering()
    labels = pd.Series(saved.clustering.labels)
    sizes = labels.value_counts()
    table = pd.DataFrame({"cluster": sizes.index.astype(int), "size": sizes.to_numpy()})
    table.insert(1, "name", [saved.keywords.name(int(cluster)) for cluster in table["cluster"]])
    return table.sort_values(["size", "cluster"], ascending=[False, True], ignore_index=True)


def audit_pairs(pairs: pd.DataFrame, *, model: str | None = None) -> dict:
    """The calibration audit of labelled pairs (``text_a, text_b`` and ``label`` 1/0 or a graded ``score``) under
    ``model``: ROC AUC, the best threshold and its F1, Spearman for graded scores."""
    from explorer.audits.pairs import audit_pairs as run_audit
    from explorer.audits.pairs import pair_scores, read_pairs
    from explorer.embedding.encoders import DEFAULT_MODEL
    from explorer.embedding.loading import load_encoder

    model = model or DEFAULT_MODEL
    labelled = read_pairs(pairs)
    return run_audit(labelled, pair_scores(labelled, load_encoder(model)), model=model).summary()


def map_figure(workspace: Workspace, *, color_by: str = "cluster"):
    """The 2-D map as a static plotly figure (hover labels, clusters named), coloured by cluster or by a metadata
    column; above 100,000 points a fixed random sample is drawn."""
    from explorer.figures.charts import HoverLabels, drawn_rows
    from explorer.figures.charts import map_figure as draw

    points, saved = workspace.points(), workspace.clustering()
    labels = saved.clustering.labels
    names = list(saved.keywords.names(labels))
    if color_by == "cluster":
        colour, keywords = pd.Series(labels, name="cluster"), saved.keywords
    elif color_by in points.columns:
        colour, keywords = points[color_by], None
    else:
        raise InputError(f"Colour by 'cluster' or one of the columns: {', '.join(map(str, points.columns))}.")
    rows = drawn_rows(len(points))
    return draw(workspace.layout(2), HoverLabels(points, clusters=names), colour,
                title=f"{workspace.manifest.name}: {len(rows):,} of {len(points):,} points", keywords=keywords,
                rows=rows)
