"""A read-only Model Context Protocol server over stdio, so a coding agent can ask saved workspaces what a person
asks the app: search by meaning, keyword or both, a point's true neighbours, the clusters with their names, a
cluster's texts, near-duplicates, outliers, the similarity profile and the label audit.

    explorer mcp data/workspaces/tweets [more workspaces...]

Every argument is validated and bounded (k, limits, the query's length); a bad one is a tool error the agent reads,
never a crash. Nothing is written.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from explorer.errors import InputError
from explorer.workspace import MANIFEST, Workspace

MAX_K = 100
MAX_QUERY = 2_000
MAX_LISTED = 200


def build_server(paths: list[Path]):
    """The server of the workspaces at ``paths`` (refused with InputError when one is not a workspace)."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from explorer import api

    served = {}
    for path in paths:
        if not (Path(path) / MANIFEST).is_file():
            raise InputError(f"{path} is not a workspace (no {MANIFEST}): build it with `explorer build`.")
        served[Path(path).name] = Workspace.open(Path(path))
    server = MCPServer("embedding-explorer", instructions="Read-only questions about saved embedding workspaces. "
                                                          "Call `workspaces` first for their names.")

    def workspace_named(name: str) -> Workspace:
        if name not in served:
            raise ToolError(f"No workspace '{name[:80]}' is served; choose one of: {', '.join(served)}.")
        return served[name]

    def bounded(value: int, low: int, high: int, what: str) -> int:
        if not low <= value <= high:
            raise ToolError(f"{what} must be between {low} and {high}; got {value}.")
        return value

    def answer(call):
        """Run a library call; its InputError (a sentence for the user) becomes the tool's error."""
        try:
            return call()
        except InputError as error:
            raise ToolError(str(error)) from None

    @functools.lru_cache(maxsize=8)
    def keyword_index(name: str):
        """Each workspace's BM25 index, built on its first search (not on every call)."""
        from explorer.analysis.search import KeywordIndex

        return KeywordIndex.build(served[name].texts())

    @functools.lru_cache(maxsize=8)
    def query_model(name: str):
        """Each workspace's query encoder, loaded on its first vector search (not on every call)."""
        from explorer.analysis.search import query_encoder

        return query_encoder(served[name])

    @functools.lru_cache(maxsize=8)
    def cluster_labels(name: str):
        return served[name].clustering().clustering.labels

    @server.tool()
    def workspaces() -> list[dict]:
        """The served workspaces: name, points, model, clusters."""
        return [{"workspace": name, "n_points": ws.manifest.n_points, "model": ws.manifest.model,
                 "n_clusters": ws.manifest.n_clusters} for name, ws in served.items()]

    @server.tool()
    def search(workspace: str, query: str, k: int = 10,
               mode: Literal["vector", "keyword", "hybrid"] = "hybrid") -> list[dict]:
        """The top k texts for a query: by meaning (vector), by words (keyword, BM25) or both fused (hybrid); each
        with its rank in the vector and the keyword ranking and its cluster."""
        ws = workspace_named(workspace)
        if len(query) > MAX_QUERY:
            raise ToolError(f"The query has {len(query):,} characters; at most {MAX_QUERY:,} are taken.")
        table = answer(lambda: api.search(ws, query, k=bounded(k, 1, MAX_K, "k"), mode=mode,
                                          encoder=query_model(workspace) if mode != "keyword" else None,
                                          keywords=keyword_index(workspace)))
        return _records(table, ["rank", "id", table.columns[3], "vector_rank", "keyword_rank", "cluster", "text"])

    @server.tool()
    def neighbours(workspace: str, id: str, k: int = 10) -> list[dict]:
        """The k true nearest neighbours of the point with this id, with each one's rank by distance on the 2-D
        map (a large map rank: the map tore them apart)."""
        ws = workspace_named(workspace)
        table = answer(lambda: api.neighbours(ws, id, k=bounded(k, 1, MAX_K, "k")))
        return _records(table, ["rank", table.columns[1], "map rank", "id", "cluster", "text"])

    @server.tool()
    def clusters(workspace: str) -> list[dict]:
        """Every cluster, largest first: its id, its name (keywords) and size; -1 is the unclustered points."""
        return _records(api.clusters(workspace_named(workspace)), ["cluster", "name", "size"])

    @server.tool()
    def cluster_texts(workspace: str, cluster: int, limit: int = 20) -> list[dict]:
        """The texts of one cluster, its most typical members first (HDBSCAN's membership strength)."""
        ws = workspace_named(workspace)
        labels = cluster_labels(workspace)
        if cluster != -1 and cluster not in set(labels.tolist()):
            raise ToolError(f"There is no cluster {cluster}; the `clusters` tool lists them.")
        strength = ws.clustering().clustering.probabilities
        rows = [row for row in (-strength).argsort(kind="stable") if labels[row] == cluster]
        points = ws.points()
        return [{"id": _plain(points["id"].iloc[row]), "strength": round(float(strength[row]), 4),
                 "text": points["text"].iloc[row]} for row in rows[:bounded(limit, 1, MAX_LISTED, "limit")]]

    @server.tool()
    def duplicates(workspace: str, threshold: float = 0.95, limit: int = 50) -> dict[str, Any]:
        """Near-duplicate pairs at cosine >= threshold (closest to the threshold first), and how many there are."""
        ws = workspace_named(workspace)
        if not 0.5 <= threshold <= 1.0:
            raise ToolError(f"threshold must be between 0.5 and 1.0; got {threshold}.")
        table = answer(lambda: api.duplicates(ws, threshold=threshold))
        listed = table.head(bounded(limit, 1, MAX_LISTED, "limit"))
        return {"n_pairs": int(len(table)), "pairs": [{key: _plain(value) for key, value in row.items()}
                                                     for row in listed.to_dict("records")]}

    @server.tool()
    def outliers(workspace: str, top: int = 20) -> list[dict]:
        """The most outlying points, with their three scores (k-NN distance, GLOSH, LOF) and combined rank."""
        ws = workspace_named(workspace)
        table = answer(lambda: api.outliers(ws, top=bounded(top, 1, MAX_LISTED, "top")))
        return [{key: _plain(value) for key, value in row.items()} for row in table.to_dict("records")]

    @server.tool()
    def similarity_profile(workspace: str) -> dict[str, Any]:
        """How the space is calibrated: random-pair and nearest-neighbour cosine, within and between clusters,
        anisotropy and hubness (the Similarity page's headline figures)."""
        from explorer.analysis.similarity import similarity_profile as profile_of

        ws = workspace_named(workspace)
        return _json(answer(lambda: profile_of(ws.embeddings(), cluster_labels(workspace), knn=ws.knn()).summary()))

    @server.tool()
    def label_audit(workspace: str, column: str, k: int = 10) -> dict[str, Any]:
        """Leave-one-out k-NN votes against a metadata column: accuracy against the majority baseline, per-class
        figures and how many points their neighbours outvote."""
        from explorer.audits.labels import audit_labels

        ws = workspace_named(workspace)
        return _json(answer(lambda: audit_labels(ws, column, k=bounded(k, 1, 50, "k")).summary()))

    return server


def _records(table, columns: list[str]) -> list[dict]:
    return [{column: _plain(row[column]) for column in columns if column in row} for row in table.to_dict("records")]


def _json(value):
    """Plain JSON values (NumPy numbers and arrays made Python ones), as a tool's structured result needs."""
    import json

    return json.loads(json.dumps(value, default=lambda item: item.tolist() if hasattr(item, "tolist") else str(item)))


def _plain(value):
    """JSON-ready: NumPy scalars as Python numbers, missing values as None."""
    import math

    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def serve(paths: list[Path]) -> None:
    """Serve the workspaces over stdio until the client closes the connection."""
    build_server(paths).run("stdio")
