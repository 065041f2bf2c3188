"""A topic tree per map: the clusters merged into coarser levels, from a readable top (8 to 40 topics, whatever the
corpus size) down to the clusters themselves, each level named by what sets a topic apart from its siblings.

The hierarchy is Ward's agglomeration of the clusters' centres in the 5-D clustering layout (the space HDBSCAN
clustered), cut at each level's size: cuts of one dendrogram nest, so every topic has one parent. This is the
documented alternative to walking HDBSCAN's condensed tree, which has no level of a chosen size and does not exist
for the points a sampled map places. At every level but the finest, every point belongs to a topic: a point
HDBSCAN left as noise joins the topic most of its nearest neighbours hold, and is marked as weakly held; at the
finest level "Unclustered" stays as HDBSCAN said.

Names are class-based TF-IDF among siblings (the children of one parent; the top level among all top topics), a
parent's own name words left out of its children's names, so a child is named by what sets it apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.mapping.keywords import DocumentTerms, cluster_keywords
from explorer.types import ClusterKeywords

TOP_LEVEL = (8, 40)
"""The top level holds between these many topics (fewer only when there are fewer clusters)."""
NAME_WORDS = 3
VOTING_NEIGHBOURS = 15


@dataclass(frozen=True, eq=False)
class TopicTree:
    """Topics at each level, coarsest first; the last level is the clustering itself.

    Attributes:
        labels: (L, n) int64 each point's topic at each level, topics numbered largest first (the finest level
            keeps HDBSCAN's cluster ids); -1 only at the finest level (HDBSCAN's noise), or where a noise point has
            no clustered neighbour at all.
        weak: (n,) bool the points held by their neighbours' vote (HDBSCAN's noise) at the coarser levels.
        parents: L arrays, ``parents[l][t]`` the level l-1 topic holding topic t (-1 at level 0).
        keywords: L lists, ``keywords[l][t]`` topic t's words at level l, best first.
    """

    labels: np.ndarray
    weak: np.ndarray
    parents: list[np.ndarray]
    keywords: list[list[list[str]]]

    @property
    def n_levels(self) -> int:
        return len(self.labels)

    def name(self, level: int, topic: int) -> str:
        if topic < 0:
            return "Unclustered"
        words = self.keywords[level][topic][:NAME_WORDS]
        return ", ".join(words) if words else f"topic {topic}"

    def path(self, level: int, topic: int) -> str:
        """The topic's name after its ancestors' (``parent › child``)."""
        names = [self.name(level, topic)]
        while level > 0 and topic >= 0:
            topic, level = int(self.parents[level][topic]), level - 1
            names.insert(0, self.name(level, topic))
        return " › ".join(names)

    def paths(self, level: int) -> np.ndarray:
        """(n,) object: each point's topic path at ``level`` (``parent › child``), "Unclustered" where none."""
        named = np.array([self.path(level, topic) for topic in range(len(self.keywords[level]))] + ["Unclustered"],
                         dtype=object)
        return named[np.where(self.labels[level] >= 0, self.labels[level], len(self.keywords[level]))]

    def table(self, level: int) -> list[dict]:
        """One record per topic of ``level``: topic, name, size (points, weakly held ones included), parent."""
        sizes = np.bincount(self.labels[level][self.labels[level] >= 0], minlength=len(self.keywords[level]))
        return [{"topic": topic, "name": self.name(level, topic), "size": int(sizes[topic]),
                 "parent": int(self.parents[level][topic])} for topic in range(len(self.keywords[level]))]

    def top_ancestor(self, level: int) -> np.ndarray:
        """(t,) the top-level topic holding each topic of ``level``."""
        ancestor = np.arange(len(self.keywords[level]))
        for current in range(level, 0, -1):
            ancestor = np.where(ancestor >= 0, self.parents[current][np.maximum(ancestor, 0)], -1)
        return ancestor

    def level_keywords(self, level: int) -> ClusterKeywords:
        """The level's topics as cluster keywords (its names on the map and in the legend)."""
        return ClusterKeywords({topic: words for topic, words in enumerate(self.keywords[level])})

    def record(self) -> dict:
        """The JSON record saved beside the labels (every level's topics, names, keywords and parents)."""
        return {"n_levels": self.n_levels,
                "levels": [[{**row, "keywords": self.keywords[level][row["topic"]]} for row in self.table(level)]
                           for level in range(self.n_levels)]}


def level_sizes(n_clusters: int) -> list[int]:
    """Topics per level, coarsest first: a top of about twice the square root of the clusters (8 to 40), a middle
    level where the clusters are many times the top, then the clusters themselves."""
    if n_clusters <= TOP_LEVEL[0]:
        return [n_clusters]
    top = int(np.clip(round(2 * np.sqrt(n_clusters)), *TOP_LEVEL))
    if n_clusters <= top:
        return [n_clusters]
    middle = round(np.sqrt(top * n_clusters))
    return [top, middle, n_clusters] if n_clusters >= 3 * top and top < middle < n_clusters else [top, n_clusters]


def topic_tree(labels: np.ndarray, points: np.ndarray, knn: np.ndarray, terms: DocumentTerms) -> TopicTree:
    """The topic tree of a clustering.

    Args:
        labels: (n,) HDBSCAN's cluster of each point, -1 noise.
        points: (n, c) the clustering layout the clusters were found in.
        knn: (n, k) each point's nearest other points (the workspace's neighbour graph).
        terms: the points' word counts, for the names.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    labels = np.asarray(labels, dtype=np.int64)
    clusters = np.unique(labels[labels >= 0])
    sizes = level_sizes(len(clusters))
    levels, joined = [labels], [labels]  # the finest level keeps HDBSCAN's cluster ids
    if len(sizes) > 1:
        centres = np.stack([points[labels == cluster].mean(axis=0) for cluster in clusters])
        tree = linkage(centres, method="ward")
        cluster_rows = np.searchsorted(clusters, np.maximum(labels, 0))
        coarse = [np.where(labels >= 0, fcluster(tree, size, criterion="maxclust")[cluster_rows] - 1, -1)
                  for size in sizes[:-1]]
        levels, joined = [], []
        for level in coarse:
            placed = _join_neighbours(level, knn)
            renumber = _by_size(placed)  # numbered by every point each topic holds, weakly held ones included
            levels.append(renumber(level))
            joined.append(renumber(placed))
        levels.append(labels)
        joined.append(labels)
    parents = [np.full(int(levels[0].max(initial=-1)) + 1, -1, np.int64)]
    for level in range(1, len(levels)):
        parents.append(_parents(levels[level], levels[level - 1]))
    return TopicTree(np.stack(joined), labels < 0, parents, _names(levels, parents, terms))


def _by_size(labels: np.ndarray):
    """A function renumbering topics 0, 1, ... from the largest in ``labels`` (ties: the smaller old id first),
    -1 kept."""
    found, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = found[np.lexsort((found, -counts))]
    new_id = np.full(int(found.max(initial=-1)) + 1, -1, np.int64)
    new_id[order] = np.arange(len(order))

    def renumber(values: np.ndarray) -> np.ndarray:
        return np.where(values >= 0, new_id[np.maximum(values, 0)], -1)

    return renumber


def _join_neighbours(labels: np.ndarray, knn: np.ndarray, *, passes: int = 3) -> np.ndarray:
    """Each unlabelled point takes the topic most of its nearest labelled neighbours hold (a tie: the larger
    topic); repeated so that noise among noise is reached through its neighbours' new topics."""
    import scipy.sparse

    joined = labels.copy()
    neighbours = knn[:, :VOTING_NEIGHBOURS]
    n_topics = int(labels.max(initial=-1)) + 1
    for _ in range(passes):
        missing = np.flatnonzero(joined < 0)
        if len(missing) == 0 or n_topics == 0:
            break
        votes = np.where(neighbours[missing] >= 0, joined[np.maximum(neighbours[missing], 0)], -1)
        valid = (votes >= 0).ravel()
        rows = np.repeat(np.arange(len(missing)), votes.shape[1])[valid]
        counts = scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, votes.ravel()[valid])),
                                         shape=(len(missing), n_topics))
        held = np.asarray(counts.sum(axis=1)).ravel() > 0
        joined[missing[held]] = np.asarray(counts.argmax(axis=1)).ravel()[held]
    return joined


def _parents(children: np.ndarray, parents_of_points: np.ndarray) -> np.ndarray:
    """(t,) each child topic's parent: the parent topic its (clustered) points share."""
    held = children >= 0
    parent = np.full(int(children.max(initial=-1)) + 1, -1, np.int64)
    parent[children[held]] = parents_of_points[held]
    return parent


def _names(levels: list[np.ndarray], parents: list[np.ndarray], terms: DocumentTerms) -> list[list[list[str]]]:
    """Each topic's words among its siblings (HDBSCAN's clustered points only), its parent's name words left out."""
    names: list[list[list[str]]] = []
    for level, labels in enumerate(levels):
        n_topics = int(labels.max(initial=-1)) + 1
        words: list[list[str]] = [[] for _ in range(n_topics)]
        groups = [np.arange(n_topics)] if level == 0 else [np.flatnonzero(parents[level] == parent)
                                                          for parent in range(len(names[level - 1]))]
        for siblings in groups:
            rows = np.flatnonzero(np.isin(labels, siblings))
            if len(rows) == 0:
                continue
            found = cluster_keywords(DocumentTerms(terms.counts[rows], terms.words), labels[rows], n_words=12)
            for topic in siblings.tolist():
                taken = set() if level == 0 else set(names[level - 1][int(parents[level][topic])][:NAME_WORDS])
                words[topic] = [word for word in found.keywords.get(topic, []) if word not in taken][:8]
        names.append(words)
    return names
