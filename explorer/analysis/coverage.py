"""Query coverage: do real users' queries land where the documents are?

Each query is searched in the workspace's own index (its top k, as a retrieval system built on it would answer).
Three findings: the clusters no query ever reaches, the queries left unanswered (outside the corpus's domain, by
the rule :mod:`explorer.analysis.domain` shares with drift), and the hubs (documents in the top k of far more queries
than chance would put them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom

from explorer.analysis.domain import IN_DOMAIN_SHARE, DomainLine, domain_line
from explorer.analysis.flags import cosine_neighbours
from explorer.analysis.placement import PlacedTexts
from explorer.types import ClusterKeywords
from explorer.workspace import Workspace

MOSTLY_UNANSWERED = 0.5


@dataclass(frozen=True, eq=False)
class QueryCoverage:
    """Attributes:
        placed: the queries, embedded, searched and placed on the map.
        domain: the corpus's domain line: a query is answered when its best document is at least as close as
            the nearest distinct neighbour of 95% of the corpus's own points.
        clusters: one row per cluster (noise left out): cluster, name, size, hits (top-k places it takes),
            queries (queries with at least one of their top k in it), largest first.
        hit_counts: (n,) int64 how many queries have each point in their top k.
        hub_threshold: the fewest queries that make a hub: under random top-k lists, fewer than one point of the
            corpus would be expected to reach that many.
    """

    placed: PlacedTexts
    domain: DomainLine
    clusters: pd.DataFrame
    hit_counts: np.ndarray
    hub_threshold: int

    @property
    def best(self) -> np.ndarray:
        """(q,) each query's best cosine with a document."""
        return np.nanmax(self.placed.hit_cosine, axis=1)

    @property
    def relevance_line(self) -> float:
        return self.domain.line

    def answered(self) -> np.ndarray:
        """(q,) bool: the query is in the corpus's domain (its best document reaches the line)."""
        return self.domain.in_domain(self.best)

    def uncovered(self) -> pd.DataFrame:
        """The clusters no query reaches, largest first."""
        return self.clusters[self.clusters["queries"] == 0]

    def hubs(self) -> np.ndarray:
        """Rows in the top k of at least ``hub_threshold`` queries, the most reached first."""
        rows = np.flatnonzero(self.hit_counts >= self.hub_threshold)
        return rows[np.argsort(-self.hit_counts[rows], kind="stable")]

    def mostly_unanswered(self) -> bool:
        return float((~self.answered()).mean()) > MOSTLY_UNANSWERED

    def sentences(self) -> list[str]:
        """What the page and the CLI say, in order of importance."""
        n_queries, unanswered = len(self.best), int((~self.answered()).sum())
        said = []
        if self.mostly_unanswered():
            said.append(f"{unanswered:,} of {n_queries:,} queries score below the model's relevance line against "
                        "every document: the queries may be in a language the model does not handle, or about "
                        "something the corpus does not hold.")
        said.append(f"{unanswered:,} of {n_queries:,} queries are unanswered: their best document is below cosine "
                    f"{self.relevance_line:.3f}, the nearest distinct neighbour of {IN_DOMAIN_SHARE:.0f}% of the "
                    "corpus's own points (texts held out of a corpus fail this about 5% of the time).")
        uncovered = self.uncovered()
        said.append(f"{len(uncovered):,} of {len(self.clusters):,} clusters ({int(uncovered['size'].sum()):,} points) "
                    f"are in no query's top {self.placed.k}.")
        said.append(f"{len(self.hubs()):,} points are hubs: each in the top {self.placed.k} of at least "
                    f"{self.hub_threshold} queries, where chance would put fewer than one point of the corpus.")
        return said

    def summary(self) -> dict:
        return {"n_queries": int(len(self.best)), "k": self.placed.k, "relevance_line": self.relevance_line,
                "in_domain_share": IN_DOMAIN_SHARE, "n_unanswered": int((~self.answered()).sum()),
                "mostly_unanswered": self.mostly_unanswered(), "n_clusters": int(len(self.clusters)),
                "n_uncovered_clusters": int(len(self.uncovered())), "hub_threshold": self.hub_threshold,
                "n_hubs": int(len(self.hubs()))}


def query_coverage(workspace: Workspace, placed: PlacedTexts) -> QueryCoverage:
    """The coverage of the placed queries over the workspace's clusters and points."""
    saved = workspace.clustering()
    line = domain_line(cosine_neighbours(workspace.embeddings(), workspace.knn()).scores)
    n = workspace.manifest.n_points
    found = placed.hits[placed.hits >= 0]
    hit_counts = np.bincount(found, minlength=n).astype(np.int64)
    return QueryCoverage(placed, line, cluster_coverage(saved.clustering.labels, placed.hits, saved.keywords),
                         hit_counts, hub_threshold(n, len(placed.hits), placed.k))


def cluster_coverage(labels: np.ndarray, hits: np.ndarray, keywords: ClusterKeywords) -> pd.DataFrame:
    """cluster, name, size, hits, queries of each cluster (noise left out), largest first."""
    clusters = np.unique(labels[labels >= 0])
    hit_labels = np.where(hits >= 0, labels[np.maximum(hits, 0)], -2)
    rows = [{"cluster": int(cluster), "name": keywords.name(int(cluster)), "size": int((labels == cluster).sum()),
             "hits": int((hit_labels == cluster).sum()),
             "queries": int((hit_labels == cluster).any(axis=1).sum())} for cluster in clusters]
    table = pd.DataFrame(rows, columns=["cluster", "name", "size", "hits", "queries"])
    return table.sort_values(["size", "cluster"], ascending=[False, True], ignore_index=True)


def hub_threshold(n_points: int, n_queries: int, k: int) -> int:
    """The fewest top-k appearances (at least 2) that fewer than one of ``n_points`` would reach if each of
    ``n_queries`` queries drew its k results at random: a binomial tail; ``n_queries + 1`` when none qualifies."""
    share = min(k / n_points, 1.0)
    for count in range(2, n_queries + 1):
        if n_points * binom.sf(count - 1, n_queries, share) < 1.0:
            return count
    return n_queries + 1


def queries_table(coverage: QueryCoverage, points: pd.DataFrame, labels: np.ndarray,
                  keywords: ClusterKeywords) -> pd.DataFrame:
    """One row per query: the query, its best cosine, answered or not, its best document and that one's cluster;
    the unanswered first, then the weakest."""
    placed = coverage.placed
    first = placed.hits[:, 0]
    table = pd.DataFrame({"query": placed.texts, "best_cosine": coverage.best, "answered": coverage.answered(),
                          "best_id": points["id"].to_numpy()[first], "best_text": points["text"].to_numpy()[first],
                          "cluster": [keywords.name(int(label)) for label in labels[first]]})
    return table.sort_values(["answered", "best_cosine"], kind="stable", ignore_index=True)


def hubs_table(coverage: QueryCoverage, points: pd.DataFrame, labels: np.ndarray,
               keywords: ClusterKeywords) -> pd.DataFrame:
    """One row per hub: row, id, the number of queries it answers, its cluster and text."""
    rows = coverage.hubs()
    return pd.DataFrame({"row": rows, "id": points["id"].to_numpy()[rows], "queries": coverage.hit_counts[rows],
                         "cluster": [keywords.name(int(label)) for label in labels[rows]],
                         "text": points["text"].to_numpy()[rows]})
