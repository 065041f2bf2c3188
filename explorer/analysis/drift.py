"""Drift: where a new batch of documents lands on a frozen map, and how new each one is.

Each new document joins the cluster most of its nearest corpus points belong to (ties to the nearer one), unless it
is novel (outside the corpus's domain, by the rule :mod:`explorer.analysis.domain` shares with query coverage): then it
stays unclustered, as HDBSCAN leaves points far from every cluster. So the share of each cluster before and after
the batch can be compared without clustering again.

A document's novelty is measured against the corpus itself: the percentage of corpus points that sit closer to
their own nearest distinct neighbour than the new document sits to its nearest corpus point (99: farther out than
99% of the corpus).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.analysis.domain import IN_DOMAIN_SHARE as NOVEL
from explorer.analysis.domain import domain_line
from explorer.analysis.flags import cosine_neighbours
from explorer.analysis.placement import PlacedTexts, cosine_index
from explorer.types import ClusterKeywords
from explorer.workspace import Workspace


@dataclass(frozen=True, eq=False)
class BatchDrift:
    """Attributes:
        placed: the new documents, embedded, searched and placed on the map.
        nearest_cosine: (m,) float32 each new document's cosine with its nearest corpus point.
        novelty: (m,) float64 the percentage of corpus points closer to their own nearest distinct neighbour than
            that; above ``NOVEL`` the document is novel (outside the domain).
        assigned: (m,) int64 the cluster each new document joins (-1: unclustered, as every novel one is).
        shares: one row per cluster (unclustered last): cluster, name, corpus, batch (counts), before, batch_share,
            after (shares of the corpus, of the batch, of both together), change (batch_share - before), largest
            change first.
    """

    placed: PlacedTexts
    nearest_cosine: np.ndarray
    novelty: np.ndarray
    assigned: np.ndarray
    shares: pd.DataFrame

    @property
    def total_variation(self) -> float:
        """Half the summed absolute difference between the batch's and the corpus's cluster shares: 0 = the same
        mix, 1 = no cluster in common."""
        return float(self.shares["change"].abs().sum() / 2)

    def most_novel(self, top: int = 20) -> np.ndarray:
        """The ``top`` new documents farthest from the corpus, the most novel first."""
        return np.argsort(self.nearest_cosine, kind="stable")[: max(int(top), 0)]

    def sentence(self) -> str:
        novel = int((self.novelty > NOVEL).sum())
        grown = self.shares.iloc[0]
        return (f"{novel:,} of {len(self.novelty):,} new documents are novel (farther from the corpus than "
                f"{NOVEL:.0f}% of its points are from their nearest distinct neighbour). The cluster mix moved by "
                f"{self.total_variation:.1%} (total variation); the largest change: {grown['name']}, "
                f"{grown['before']:.1%} of the corpus against {grown['batch_share']:.1%} of the batch.")

    def summary(self) -> dict:
        return {"n_new": int(len(self.novelty)), "k": self.placed.k, "n_novel": int((self.novelty > NOVEL).sum()),
                "novel_percentile": NOVEL, "total_variation": self.total_variation,
                "median_novelty": float(np.median(self.novelty)),
                "shares": self.shares.to_dict("records")}


def batch_drift(workspace: Workspace, placed: PlacedTexts) -> BatchDrift:
    """The drift of the placed documents against the workspace they were placed on."""
    domain = domain_line(cosine_neighbours(workspace.embeddings(), workspace.knn()).scores)
    nearest = cosine_index(workspace).search(placed.embeddings, 1).scores[:, 0]
    saved = workspace.clustering()
    labels = saved.clustering.labels
    novelty = domain.novelty(nearest)
    assigned = np.where(domain.in_domain(nearest), neighbour_vote(labels, placed.hits), -1)
    return BatchDrift(placed, nearest, novelty, assigned, cluster_shares(labels, assigned, saved.keywords))


def neighbour_vote(labels: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """(m,) the label most of each row's neighbours carry; a tie goes to the label of the nearer neighbour."""
    votes = []
    for row in hits:
        found = labels[row[row >= 0]]
        votes.append(Counter(found.tolist()).most_common(1)[0][0] if len(found) else -1)
    return np.array(votes, dtype=np.int64)


def cluster_shares(labels: np.ndarray, assigned: np.ndarray, keywords: ClusterKeywords) -> pd.DataFrame:
    """Each cluster's count and share in the corpus, in the batch and in both, largest change first."""
    clusters = np.union1d(np.unique(labels), np.unique(assigned))
    corpus = np.array([(labels == cluster).sum() for cluster in clusters])
    batch = np.array([(assigned == cluster).sum() for cluster in clusters])
    table = pd.DataFrame({"cluster": clusters, "name": [keywords.name(int(c)) for c in clusters],
                          "corpus": corpus, "batch": batch, "before": corpus / corpus.sum(),
                          "batch_share": batch / batch.sum(),
                          "after": (corpus + batch) / (corpus.sum() + batch.sum())})
    table["change"] = table["batch_share"] - table["before"]
    order = np.lexsort((table["cluster"].to_numpy(), -table["change"].abs().to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def novel_table(drift: BatchDrift, points: pd.DataFrame, *, top: int = 20) -> pd.DataFrame:
    """The most novel new documents: text, novelty, nearest cosine, the cluster joined and the nearest corpus
    text."""
    rows = drift.most_novel(top)
    nearest = drift.placed.hits[rows, 0]
    names = dict(zip(drift.shares["cluster"], drift.shares["name"]))
    return pd.DataFrame({"text": drift.placed.texts[rows], "novelty": drift.novelty[rows],
                         "nearest_cosine": drift.nearest_cosine[rows],
                         "joins": [names[cluster] for cluster in drift.assigned[rows]],
                         "nearest_id": points["id"].to_numpy()[nearest],
                         "nearest_text": points["text"].to_numpy()[nearest]})
