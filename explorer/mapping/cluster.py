"""HDBSCAN over the clustering layout: labels (-1 = noise), membership strength, GLOSH outlier scores.

HDBSCAN is fast_hdbscan's: an exact minimum spanning tree by Boruvka over a KD-tree on both cores. The hdbscan
library's default (one core, an approximate tree) took 2.6 s at 50,000 points where fast_hdbscan takes 1.0 s, and
its clusters are those of the hdbscan library with an exact tree (``approx_min_span_tree=False``), which the tests
compare them with. GLOSH outlier scores come from the condensed tree, computed here as the hdbscan library does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

from explorer.errors import InputError
from explorer.mapping.reduce import MIN_POINTS as MIN_DISTINCT
from explorer.mapping.reduce import distinct_rows
from explorer.types import Clustering

SELECTIONS = ("eom", "leaf")
_ONE_AT_A_TIME = threading.Lock()
"""fast_hdbscan runs on numba's parallel threads; where numba falls back to its "workqueue" layer (no OpenMP or TBB),
two threads entering it at once abort the process, so clusterings (a build beside the warm-up, two sessions) queue."""
DOMINANT_SHARE = 0.5
"""A clustering whose largest cluster, or whose noise, holds more than this share of the points says little."""


@dataclass(frozen=True)
class ClusterConfig:
    """HDBSCAN parameters; ``min_samples=None`` means equal to ``min_cluster_size``.

    ``selection``: HDBSCAN's cluster selection, ``eom`` (excess of mass: the most persistent clusters, often a
    few big ones) or ``leaf`` (the leaves of the cluster tree: many small, homogeneous clusters).
    """

    min_cluster_size: int = 15
    min_samples: int | None = 5
    selection: str = "eom"

    def __post_init__(self) -> None:
        if self.min_cluster_size < 2:
            raise InputError("Minimum cluster size must be at least 2.")
        if self.min_samples is not None and self.min_samples < 1:
            raise InputError("min_samples must be at least 1.")
        if self.selection not in SELECTIONS:
            raise InputError(f"Cluster selection must be one of {', '.join(SELECTIONS)}, not '{self.selection}'.")


SCALE_FROM = 15_000
"""Above this many points fitted, the default minimum cluster size grows with them (:func:`scaled_to_size`)."""


def scaled_to_size(config: ClusterConfig, n_fitted: int) -> ClusterConfig:
    """The default settings made for ``n_fitted`` points: above :data:`SCALE_FROM`, a minimum cluster size of one
    in a thousand points, so the finest level holds at most about a thousand clusters whatever the corpus size (a
    quarter-million-text map found 1,693 clusters at 15) and the topic tree's top level reads without a sweep.
    Settings the user chose are kept."""
    if config != ClusterConfig() or n_fitted <= SCALE_FROM:
        return config
    return replace(config, min_cluster_size=round(n_fitted / 1000))


def cluster_points(points: np.ndarray, config: ClusterConfig = ClusterConfig()) -> Clustering:
    """Label each point with a cluster id; -1 marks noise.

    Args:
        points: (n, k) float32, usually the 5-D clustering layout.
        config: HDBSCAN parameters.

    A corpus smaller than ``min_cluster_size`` cannot form a cluster: every point is noise. When the points sit
    on fewer than ``MIN_DISTINCT`` distinct positions (a corpus of copies of a few texts), HDBSCAN's density has no
    meaning: each group of at least ``min_cluster_size`` identical points is a cluster and the rest is noise.
    """
    n = len(points)
    if n <= config.min_cluster_size:
        return _all_noise(n)
    representatives, inverse = distinct_rows(points)
    if len(representatives) < MIN_DISTINCT:
        return _identical_groups(inverse, config.min_cluster_size)
    from fast_hdbscan import fast_hdbscan

    min_samples = min(config.min_samples or config.min_cluster_size, n - 1)
    with _ONE_AT_A_TIME:
        # reproducible: the parallel tree search breaks ties (copies of one text share a position) the same each run.
        labels, strengths, _, tree, *_ = fast_hdbscan(
            np.asarray(points, np.float64), min_samples=min_samples, min_cluster_size=config.min_cluster_size,
            cluster_selection_method=config.selection, reproducible=True, return_trees=True)
    outliers = glosh_scores(tree.parent, tree.child, tree.lambda_val, n)
    return Clustering(labels.astype(np.int64), strengths.astype(np.float32), outliers)


def glosh_scores(parent: np.ndarray, child: np.ndarray, lambda_val: np.ndarray, n_points: int) -> np.ndarray:
    """GLOSH outlier scores from an HDBSCAN condensed tree, as the hdbscan library computes ``outlier_scores_``.

    A point's score is 1 - lambda / lambda_max: how early (at what density, lambda = 1 / distance) it left its
    cluster, against the densest lambda at which anything in that cluster or below it still existed.

    Args:
        parent, child, lambda_val: (r,) the tree's rows: points are numbered 0..n_points-1, clusters from
            n_points (the root) up, each child cluster after its parent.

    Returns (n_points,) float32 scores in [0, 1]; 0 where undefined (a point at infinite density, a cluster with none).
    """
    deaths = np.zeros(max(parent.max(initial=n_points), child.max(initial=n_points)) + 1)
    np.maximum.at(deaths, parent, lambda_val)
    cluster_rows = np.flatnonzero(child >= n_points)
    for row in cluster_rows[np.argsort(-child[cluster_rows], kind="stable")]:  # deepest first, so maxima climb
        deaths[parent[row]] = max(deaths[parent[row]], deaths[child[row]])
    scores = np.zeros(n_points)
    point_rows = np.flatnonzero(child < n_points)
    lambda_max, lambdas = deaths[parent[point_rows]], lambda_val[point_rows]
    defined = (lambda_max > 0) & np.isfinite(lambdas) & np.isfinite(lambda_max)
    scores[child[point_rows[defined]]] = (lambda_max[defined] - lambdas[defined]) / lambda_max[defined]
    return scores.astype(np.float32)


def _identical_groups(inverse: np.ndarray, min_cluster_size: int) -> Clustering:
    sizes = np.bincount(inverse)
    big = np.flatnonzero(sizes >= min_cluster_size)
    number = np.full(len(sizes), -1, np.int64)
    number[big] = np.arange(len(big))
    labels = number[inverse]
    return Clustering(labels, (labels >= 0).astype(np.float32), np.zeros(len(labels), np.float32))


def _all_noise(n: int) -> Clustering:
    return Clustering(np.full(n, -1, np.int64), np.zeros(n, np.float32), np.zeros(n, np.float32))


def clustering_problem(clustering: Clustering, config: ClusterConfig | None = None) -> str | None:
    """A sentence when the clustering says little: one cluster holding most points, or mostly noise; what it
    suggests leaves out what ``config`` (the settings that made it) already does."""
    labels = clustering.labels
    if not len(labels):
        return None
    leaf = "" if config is not None and config.selection == "leaf" else ", or leaf selection"
    if clustering.noise_fraction > DOMINANT_SHARE:
        return (f"{clustering.noise_fraction:.0%} of the points are unclustered: try a smaller minimum cluster size "
                f"or min samples{leaf}.")
    sizes = np.bincount(labels[labels >= 0])
    if len(sizes) and sizes.max() / len(labels) > DOMINANT_SHARE:
        return (f"One cluster holds {sizes.max() / len(labels):.0%} of the points, so the clusters say little about "
                f"the corpus: try a smaller minimum cluster size{leaf}.")
    return None


def check_cluster_config(config: ClusterConfig, n_points: int) -> str | None:
    """A sentence for the user when this corpus is too small for the chosen cluster size."""
    if n_points <= config.min_cluster_size:
        return (f"{n_points} points cannot form a cluster of at least {config.min_cluster_size}: "
                "every point is shown as Unclustered. Lower the minimum cluster size.")
    return None
