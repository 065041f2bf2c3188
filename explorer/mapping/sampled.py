"""Maps of more points than UMAP and HDBSCAN are fitted on (issue 13): above ``SampleConfig.full_limit`` points the
layouts and the clusters are fitted on a seeded sample, every other point is placed on the sample's layouts by
UMAP's transform (``reduce.place_on_layouts``) and takes the cluster of its nearest sample points in the 5-D
clustering layout. The index, the k-NN graph, the duplicate and outlier flags and the keywords always cover every
point.

Why a sample: the layouts' epochs and HDBSCAN grow faster than the rest of the build, and the map's shape is set
by far fewer points than a million (``benchmarks/scale.py`` measures both paths and their agreement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.errors import InputError
from explorer.mapping.cluster import ClusterConfig, cluster_points
from explorer.types import Clustering

ASSIGN_K = 10
"""Sample points in the 5-D layout whose clusters decide a placed point's cluster."""


@dataclass(frozen=True)
class SampleConfig:
    """Above ``full_limit`` points, the layouts and clusters are fitted on ``sample_size`` points drawn with
    ``seed``; up to it, on every point."""

    full_limit: int = 200_000
    sample_size: int = 100_000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 100 <= self.sample_size <= self.full_limit:
            raise InputError(f"The map's sample must hold between 100 points and the full-map limit "
                             f"({self.full_limit:,}); got {self.sample_size:,}.")


def fitted_rows(n_points: int, config: SampleConfig = SampleConfig()) -> np.ndarray | None:
    """(s,) the sorted rows the layouts and clusters are fitted on, or None when every point is (``n_points`` at
    most ``config.full_limit``)."""
    if n_points <= config.full_limit:
        return None
    rows = np.random.default_rng(config.seed).choice(n_points, config.sample_size, replace=False)
    return np.sort(rows).astype(np.int64)


def placed_rows(n_points: int, fitted: np.ndarray) -> np.ndarray:
    """(n - s,) the rows not in ``fitted``, in order."""
    placed = np.ones(n_points, bool)
    placed[fitted] = False
    return np.flatnonzero(placed)


def cluster_with_sample(points: np.ndarray, fitted: np.ndarray, config: ClusterConfig) -> Clustering:
    """HDBSCAN on the ``fitted`` rows of the (n, c) clustering layout; every other row takes the cluster of its
    nearest fitted rows (``assign_clusters``)."""
    return assign_clusters(points, fitted, cluster_points(points[fitted], config))


def assign_clusters(points: np.ndarray, fitted: np.ndarray, sample: Clustering, *, k: int = ASSIGN_K
                    ) -> Clustering:
    """Every row's cluster, given HDBSCAN's ``sample`` clustering of the ``fitted`` rows of ``points``.

    A fitted row keeps its own label, probability and GLOSH score. Any other row takes the label most of its k
    nearest fitted rows in ``points`` hold; noise counts as a label, so a row among noise stays noise, and a tie
    goes to the smaller label (noise first). Its probability is that label's share of the k times their mean
    probability, its GLOSH score the k's mean (HDBSCAN has none for points it did not see).

    Args:
        points: (n, c) the clustering layout of every row.
        fitted: (s,) the rows HDBSCAN saw, ``sample`` their clustering in that order.
    """
    from scipy.spatial import cKDTree

    n = len(points)
    placed = placed_rows(n, fitted)
    labels = np.empty(n, np.int64)
    probabilities = np.empty(n, np.float32)
    glosh = np.empty(n, np.float32)
    labels[fitted], probabilities[fitted], glosh[fitted] = sample.labels, sample.probabilities, sample.outlier_scores
    if len(placed) == 0:
        return Clustering(labels, probabilities, glosh)
    k = min(k, len(fitted))
    _, nearest = cKDTree(points[fitted]).query(points[placed], k=k, workers=-1)
    nearest = nearest.reshape(len(placed), k)
    near_labels = sample.labels[nearest]
    chosen = _most_common(near_labels)
    agreeing = near_labels == chosen[:, None]
    agreeing_probability = np.where(agreeing, sample.probabilities[nearest], 0.0).sum(axis=1)
    labels[placed] = chosen
    probabilities[placed] = agreeing_probability / k
    glosh[placed] = sample.outlier_scores[nearest].mean(axis=1)
    return Clustering(labels, probabilities, glosh)


def _most_common(labels: np.ndarray) -> np.ndarray:
    """(m,) each row's most common value of the (m, k) ``labels``, the smallest on a tie."""
    votes = (labels[:, :, None] == labels[:, None, :]).sum(axis=2)  # (m, k) how often each entry's label occurs
    span = int(labels.max(initial=0)) - int(labels.min(initial=0)) + 1
    preference = votes.astype(np.int64) * span - (labels - labels.min(initial=0))
    return np.take_along_axis(labels, preference.argmax(axis=1)[:, None], axis=1)[:, 0]


def sample_note(n_points: int, fitted: np.ndarray | None) -> str | None:
    """The sentence that tells the user which parts of the map were fitted on a sample (None when none were)."""
    if fitted is None:
        return None
    return (f"The map and the clusters were fitted on a random sample of {len(fitted):,} of the {n_points:,} "
            f"points; the other {n_points - len(fitted):,} were placed on it by UMAP's transform and took the "
            "cluster of their nearest sample points. The index, the neighbours, the near-duplicates, the outliers "
            "and the keywords cover every point.")
