"""Near-duplicates and outliers, found from the FAISS neighbour graph (never an all-pairs loop).

Duplicates: every pair of points whose cosine similarity reaches a threshold, grouped into connected components;
exact duplicates (identical cleaned text) are reported separately. Outliers: three established per-point
scores (mean cosine distance to the k nearest neighbours, HDBSCAN's GLOSH, the Local Outlier Factor) and a
combined rank.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.analysis.similarity import unit_rows
from explorer.errors import InputError
from explorer.mapping.index import IndexConfig, VectorIndex
from explorer.mapping.reduce import distinct_rows
from explorer.types import Embeddings, Neighbors

DEFAULT_THRESHOLD = 0.95
MAX_GROUP_CHECK = 2_000
"""Above this many members, a group's weakest internal pair is estimated from a sample of members."""
MAX_LISTED_PAIRS = 100_000
"""Above this many pairs (a group of n identical texts alone has n(n-1)/2), pairs are counted, not all listed."""


@dataclass(frozen=True, eq=False)
class DuplicatePairs:
    """The pairs of rows with cosine similarity at or above ``threshold``: all of them counted, and listed while
    there are at most ``MAX_LISTED_PAIRS``.

    Attributes:
        a, b: (p,) int64 corpus rows, a < b, sorted by descending score: every pair, or above the listing bound,
            each group of identical vectors as its first row paired with each other member and each pair of
            distinct vectors once (by the first row of each), the first ``MAX_LISTED_PAIRS`` of those.
        scores: (p,) float32 cosine similarity (1 between identical vectors).
        n_pairs: how many pairs reach the threshold in all (``p`` unless the listing was capped).
        groups: (n,) int64 connected component of each row over these pairs; -1 for rows in no pair.
        weakest: dict group -> (weakest internal cosine, row, row): the least similar two members of the group,
            which may fall below the threshold when the group is a chain (A~B, B~C, A!~C).
    """

    threshold: float
    a: np.ndarray
    b: np.ndarray
    scores: np.ndarray
    groups: np.ndarray
    weakest: dict[int, tuple[float, int, int]]
    n_pairs: int = -1

    def __post_init__(self) -> None:
        if self.n_pairs < 0:
            object.__setattr__(self, "n_pairs", len(self.a))

    @property
    def capped(self) -> bool:
        """True when more pairs reach the threshold than are listed."""
        return self.n_pairs > len(self.a)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max() + 1) if len(self.groups) else 0

    def chained_groups(self) -> list[int]:
        """Groups whose weakest internal pair is below the threshold."""
        return sorted(group for group, (score, _, _) in self.weakest.items() if score < self.threshold)


def check_threshold(threshold: float) -> float:
    if not -1.0 <= threshold <= 1.0:
        raise InputError(f"A cosine threshold must lie between -1 and 1; {threshold} does not.")
    return float(threshold)


def cosine_neighbours(embeddings: Embeddings, knn: Neighbors | None = None, *, k: int = 30) -> Neighbors:
    """Each point's k nearest others by cosine: the workspace's own graph when it is cosine, else a new one."""
    if knn is not None and knn.metric == "cosine":
        return knn
    index = VectorIndex.build(embeddings, IndexConfig(metric="cosine"))
    return index.knn_graph(embeddings, k)


@dataclass(frozen=True, eq=False)
class DistinctVectors:
    """A corpus's distinct vectors, when some rows are copies of others (identical texts), with their own cosine
    index and neighbour graph: built once per corpus, then shared by every duplicate threshold.

    Attributes:
        inverse: (n,) each row's distinct vector; ``copies`` (u,) how many rows share each.
        embeddings: (u, d) the distinct vectors, in order of first occurrence.
        knn: (u, k) their cosine neighbours; ``index`` the cosine index it came from (None when u < 2).
    """

    inverse: np.ndarray
    copies: np.ndarray
    embeddings: Embeddings
    knn: Neighbors | None
    index: VectorIndex | None


def distinct_vectors(embeddings: Embeddings, *, k: int = 30) -> DistinctVectors | None:
    """The distinct vectors of ``embeddings`` with their cosine graph; None when no vector has more copies than a
    row's k neighbours hold: the copies then find each other in the rows' own graph, which is used as it is
    (a million-point corpus with a few repeated texts is not indexed a second time)."""
    representatives, inverse = distinct_rows(embeddings.vectors)
    if np.bincount(inverse).max(initial=0) <= k:
        return None
    distinct = Embeddings(embeddings.vectors[representatives], embeddings.model_id, embeddings.fingerprint,
                          embeddings.normalized)
    knn = index = None
    if len(distinct) > 1:
        index = VectorIndex.build(distinct, IndexConfig(metric="cosine"))
        knn = index.knn_graph(distinct, min(k, len(distinct) - 1))
    return DistinctVectors(inverse, np.bincount(inverse, minlength=len(distinct)), distinct, knn, index)


def near_duplicates(embeddings: Embeddings, knn: Neighbors, threshold: float = DEFAULT_THRESHOLD, *,
                    index: VectorIndex | None = None, distinct: DistinctVectors | None = None) -> DuplicatePairs:
    """All pairs at or above ``threshold`` cosine, read off the cosine k-NN graph.

    Copies of one vector (identical texts) are searched once, as one representative: their pairs are counted from
    the group sizes, never enumerated, so memory stays linear in the rows however many copies there are. Among
    distinct vectors, a row whose k-th neighbour still reaches the threshold may have more such neighbours than the
    graph holds: those rows alone are searched again, with k doubled until the last neighbour falls below it.

    Args:
        knn: (n, k) cosine neighbours of every row, itself excluded (``cosine_neighbours``).
        index: the cosine index the graph came from (built here when rows need a deeper search).
        distinct: ``distinct_vectors(embeddings)``, when the caller keeps it for several thresholds (found here
            otherwise).
    """
    threshold = check_threshold(threshold)
    if knn.metric != "cosine":
        raise InputError("Near-duplicates are defined by cosine similarity; give the cosine neighbour graph.")
    distinct = distinct or distinct_vectors(embeddings, k=knn.indices.shape[1])
    if distinct is None:
        a, b, scores = _distinct_pairs(embeddings, knn, threshold, index)
        groups = _components(len(embeddings), a, b, np.zeros(len(embeddings), bool))
        return DuplicatePairs(threshold, a, b, scores, groups, _weakest_pairs(embeddings, groups))
    inverse, copies = distinct.inverse, distinct.copies
    if distinct.knn is not None:
        ra, rb, rs = _distinct_pairs(distinct.embeddings, distinct.knn, threshold, distinct.index)
    else:
        ra = rb = np.zeros(0, np.int64)
        rs = np.zeros(0, np.float32)
    groups = _components(len(copies), ra, rb, copies > 1)[inverse]
    n_pairs = int((copies[ra] * copies[rb]).sum() + (copies * (copies - 1) // 2).sum())
    a, b, scores = _row_pairs(inverse, copies, ra, rb, rs, complete=n_pairs <= MAX_LISTED_PAIRS)
    return DuplicatePairs(threshold, a, b, scores, groups, _weakest_pairs(embeddings, groups), n_pairs)


def _distinct_pairs(embeddings: Embeddings, knn: Neighbors, threshold: float,
                    index: VectorIndex | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, scores) every pair of rows at or above ``threshold``, a < b, by descending score."""
    n, k = knn.indices.shape
    rows, others, scores = np.repeat(np.arange(n), k), knn.indices.ravel(), knn.scores.ravel()
    saturated = np.flatnonzero((knn.indices[:, -1] >= 0) & (knn.scores[:, -1] >= threshold)) if k else []
    if len(saturated):
        deeper_rows, deeper_others, deeper_scores = _deeper_pairs(embeddings, saturated, threshold, k, index)
        rows, others = np.concatenate([rows, deeper_rows]), np.concatenate([others, deeper_others])
        scores = np.concatenate([scores, deeper_scores])
    keep = (others >= 0) & (others != rows) & (scores >= threshold)
    a, b = np.minimum(rows[keep], others[keep]), np.maximum(rows[keep], others[keep])
    pairs = pd.DataFrame({"a": a, "b": b, "score": scores[keep]}).drop_duplicates(["a", "b"])
    # One score per pair: the two directions of a pair carry the same cosine, up to float rounding.
    pairs = pairs.sort_values(["score", "a", "b"], ascending=[False, True, True], kind="stable")
    return pairs["a"].to_numpy(np.int64), pairs["b"].to_numpy(np.int64), pairs["score"].to_numpy(np.float32)


def _row_pairs(inverse: np.ndarray, copies: np.ndarray, ra: np.ndarray, rb: np.ndarray, rs: np.ndarray, *,
               complete: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row pairs from pairs of distinct vectors: all of them when ``complete``, else each group of copies as a
    star from its first row and each distinct pair by the first rows, the first ``MAX_LISTED_PAIRS``."""
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(copies)])
    members = [order[starts[rep]:starts[rep + 1]] for rep in range(len(copies))]
    parts = []
    for rep in np.flatnonzero(copies > 1):
        rows = members[rep]
        first, second = (np.triu_indices(len(rows), k=1) if complete else
                         (np.zeros(len(rows) - 1, np.int64), np.arange(1, len(rows))))
        parts.append((rows[first], rows[second], np.ones(len(first), np.float32)))
    for x, y, score in zip(ra.tolist(), rb.tolist(), rs.tolist()):
        left, right = (members[x], members[y]) if complete else (members[x][:1], members[y][:1])
        grid_a, grid_b = np.repeat(left, len(right)), np.tile(right, len(left))
        parts.append((grid_a, grid_b, np.full(len(grid_a), score, np.float32)))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    a, b, scores = (np.concatenate(column) for column in zip(*parts))
    low, high = np.minimum(a, b), np.maximum(a, b)
    ranked = np.lexsort((high, low, -scores))[:MAX_LISTED_PAIRS]
    return low[ranked].astype(np.int64), high[ranked].astype(np.int64), scores[ranked]


def _deeper_pairs(embeddings: Embeddings, rows: np.ndarray, threshold: float, k: int,
                  index: VectorIndex | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = index if index is not None and index.metric == "cosine" else VectorIndex.build(
        embeddings, IndexConfig(metric="cosine"))
    pending, found_rows, found_others, found_scores = rows, [], [], []
    while len(pending):
        k = min(k * 2, len(embeddings))
        queries = Embeddings(embeddings.vectors[pending], embeddings.model_id, embeddings.fingerprint,
                             embeddings.normalized)
        result = index.search(queries, k)
        found_rows.append(np.repeat(pending, result.indices.shape[1]))
        found_others.append(result.indices.ravel())
        found_scores.append(result.scores.ravel())
        still_full = (result.indices[:, -1] >= 0) & (result.scores[:, -1] >= threshold)
        pending = pending[still_full] if k < len(embeddings) else pending[:0]
    return np.concatenate(found_rows), np.concatenate(found_others), np.concatenate(found_scores)


def _components(n: int, a: np.ndarray, b: np.ndarray, grouped: np.ndarray) -> np.ndarray:
    """(n,) component id per row over the pairs, numbered by first row; -1 for rows in no pair and not marked in
    ``grouped`` (rows that stand for several identical copies)."""
    import scipy.sparse
    import scipy.sparse.csgraph

    graph = scipy.sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    in_pair = grouped.copy()
    in_pair[a], in_pair[b] = True, True
    rows = np.flatnonzero(in_pair)
    _, first, inverse = np.unique(labels[rows], return_index=True, return_inverse=True)
    number = np.empty(len(first), np.int64)
    number[np.argsort(first)] = np.arange(len(first))
    groups = np.full(n, -1, np.int64)
    groups[rows] = number[inverse.ravel()]
    return groups


def _weakest_pairs(embeddings: Embeddings, groups: np.ndarray, *, seed: int = 0) -> dict[int, tuple[float, int, int]]:
    """Each group's least similar pair of members (members sampled above MAX_GROUP_CHECK)."""
    weakest = {}
    members_of = pd.Series(np.arange(len(groups)))[groups >= 0].groupby(groups[groups >= 0])
    for group, members in members_of:
        members = members.to_numpy()
        if len(members) > MAX_GROUP_CHECK:
            members = np.sort(np.random.default_rng(seed).choice(members, MAX_GROUP_CHECK, replace=False))
        unit = unit_rows(embeddings.vectors[members])  # only the members: never a copy of the whole corpus
        similarity = unit @ unit.T
        np.fill_diagonal(similarity, np.inf)
        first, second = np.unravel_index(np.argmin(similarity), similarity.shape)
        weakest[int(group)] = (float(similarity[first, second]), int(members[first]), int(members[second]))
    return weakest


def exact_duplicate_groups(texts: list[str]) -> list[np.ndarray]:
    """Groups (each (m,) rows, m >= 2, in corpus order) of identical cleaned texts, ordered by first row."""
    frame = pd.DataFrame({"text": texts, "row": np.arange(len(texts))})
    groups = [members.to_numpy() for _, members in frame.groupby("text", sort=False)["row"] if len(members) > 1]
    return sorted(groups, key=lambda members: members[0])


_WORD = re.compile(r"\S+")


def word_diff(first: str, second: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both texts as (word, differs) lists: the words that the other text does not share at that place."""
    words_a, words_b = _WORD.findall(first), _WORD.findall(second)
    matcher = difflib.SequenceMatcher(a=words_a, b=words_b, autojunk=False)
    differs_a, differs_b = [True] * len(words_a), [True] * len(words_b)
    for block in matcher.get_matching_blocks():
        differs_a[block.a:block.a + block.size] = [False] * block.size
        differs_b[block.b:block.b + block.size] = [False] * block.size
    return list(zip(words_a, differs_a)), list(zip(words_b, differs_b))


@dataclass(frozen=True, eq=False)
class OutlierScores:
    """Per-point outlier scores, higher = more outlying.

    Attributes:
        knn_distance: (n,) mean cosine distance to the k nearest neighbours.
        glosh: (n,) HDBSCAN's GLOSH score (0 = deep inside a cluster, towards 1 = outlying).
        lof: (n,) Local Outlier Factor (about 1 for inliers; well above 1 for points sparser than their
            neighbours).
        combined: (n,) mean of the three scores' percentile ranks, in (0, 1].
        rank: (n,) 1-based rank by ``combined``; 1 = most outlying.
    """

    k: int
    knn_distance: np.ndarray
    glosh: np.ndarray
    lof: np.ndarray
    combined: np.ndarray
    rank: np.ndarray

    METHODS = {"knn_distance": "far from its nearest neighbours", "glosh": "outside every cluster (GLOSH)",
               "lof": "sparser than its neighbours (LOF)"}

    def reasons(self, row: int, *, top_share: float = 0.05) -> list[str]:
        """Which scores put ``row`` in their most outlying ``top_share``."""
        found = []
        for method, reason in self.METHODS.items():
            values = getattr(self, method)
            share_above = float(np.mean(values > values[row]))
            if share_above < top_share:
                found.append(f"{reason}: top {max(share_above, 1 / len(values)):.1%}")
        return found


def outlier_scores(knn: Neighbors, glosh: np.ndarray, *, k: int = 10) -> OutlierScores:
    """The three scores from the cosine k-NN graph (first ``k`` neighbours) and HDBSCAN's GLOSH scores."""
    from scipy.stats import rankdata

    if knn.metric != "cosine":
        raise InputError("Outlier scores use cosine distances; give the cosine neighbour graph.")
    n = len(knn.indices)
    k = min(k, knn.indices.shape[1])
    if k < 1 or n < 3:
        raise InputError(f"Outlier scores need at least 3 points and 1 neighbour; this corpus has {n} points.")
    distances = knn.distances()[:, :k].astype(np.float64)
    neighbours = knn.indices[:, :k]
    knn_distance = distances.mean(axis=1)
    lof = local_outlier_factor(neighbours, distances)
    glosh = np.nan_to_num(np.asarray(glosh, dtype=np.float64), nan=0.0)
    combined = np.mean([rankdata(score) / n for score in (knn_distance, glosh, lof)], axis=0)
    rank = rankdata(-combined, method="ordinal").astype(np.int64)
    return OutlierScores(k, knn_distance.astype(np.float32), glosh.astype(np.float32), lof.astype(np.float32),
                         combined.astype(np.float32), rank)


def local_outlier_factor(neighbours: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """scikit-learn's Local Outlier Factor (``-negative_outlier_factor_``) from a k-NN graph.

    Args:
        neighbours: (n, k) each point's k nearest others, nearest first.
        distances: (n, k) the matching distances.
    """
    k_distance = distances[:, -1]
    reach = np.maximum(distances, k_distance[neighbours])
    density = 1.0 / (reach.mean(axis=1) + 1e-10)
    return (density[neighbours] / density[:, None]).mean(axis=1)


def pairs_table(pairs: DuplicatePairs, points: pd.DataFrame) -> pd.DataFrame:
    """One row per near-duplicate pair, in review order (closest to the threshold first): both ids, chunks and
    texts, the score, the group, and whether the two texts are identical."""
    texts = points["text"].to_numpy()
    table = pd.DataFrame({
        "group": pairs.groups[pairs.a], "score": pairs.scores,
        "a": points["id"].to_numpy()[pairs.a], "a_chunk": points["chunk"].to_numpy()[pairs.a],
        "b": points["id"].to_numpy()[pairs.b], "b_chunk": points["chunk"].to_numpy()[pairs.b],
        "exact": texts[pairs.a] == texts[pairs.b], "a_text": texts[pairs.a], "b_text": texts[pairs.b],
        "a_row": pairs.a, "b_row": pairs.b})
    closeness = (table["score"] - pairs.threshold).abs()
    return table.assign(closeness=closeness).sort_values(["closeness", "a_row", "b_row"], kind="stable") \
        .drop(columns="closeness").reset_index(drop=True)


def decisions_table(pairs: DuplicatePairs, points: pd.DataFrame, embeddings: Embeddings,
                    drop_rows: set[int] | None = None) -> pd.DataFrame:
    """One row per member of a near-duplicate group: ``id, chunk, group, decision, score, text``.

    The default decision keeps each group's first row and drops the others; ``drop_rows`` replaces it. The
    score is the member's cosine similarity to the group's first row (1.0 for that row itself).
    """
    members = np.flatnonzero(pairs.groups >= 0)
    groups = pairs.groups[members]
    first_of_group = pd.Series(members).groupby(groups).transform("first").to_numpy()
    if drop_rows is None:
        drop_rows = set(members[members != first_of_group].tolist())
    unit = unit_rows(embeddings.vectors)
    score = np.einsum("ij,ij->i", unit[members], unit[first_of_group])
    table = pd.DataFrame({"id": points["id"].to_numpy()[members], "chunk": points["chunk"].to_numpy()[members],
                          "group": groups, "decision": ["drop" if row in drop_rows else "keep" for row in members],
                          "score": score.astype(np.float32), "text": points["text"].to_numpy()[members],
                          "row": members})
    return table.sort_values(["group", "row"], kind="stable").reset_index(drop=True)
