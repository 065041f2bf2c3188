"""Maps fitted on a sample (explorer.mapping.sampled), on the 400 real fixture tweets with their real MiniLM vectors."""

from collections import Counter

import numpy as np
import pytest

from explorer.build.pipeline import build_workspace
from explorer.build.recluster import compute_clusters, sweep_points
from explorer.config import BuildConfig
from explorer.errors import InputError
from explorer.ingest.corpus import IngestConfig
from explorer.mapping.cluster import ClusterConfig, cluster_points
from explorer.mapping.index import VectorIndex
from explorer.mapping.reduce import LayoutConfig, cluster_layout_config, place_on_layouts, place_points
from explorer.mapping.sampled import SampleConfig, assign_clusters, fitted_rows, placed_rows
from explorer.workspace import workspaces_root

SAMPLED = SampleConfig(full_limit=300, sample_size=200, seed=3)


def test_fitted_rows_only_above_the_limit_and_always_the_same():
    assert fitted_rows(300, SAMPLED) is None
    rows = fitted_rows(400, SAMPLED)
    assert len(rows) == len(np.unique(rows)) == 200 and np.all(np.diff(rows) > 0) and rows.max() < 400
    np.testing.assert_array_equal(rows, fitted_rows(400, SAMPLED))
    assert not np.array_equal(rows, fitted_rows(400, SampleConfig(300, 200, seed=4)))
    np.testing.assert_array_equal(np.sort(np.concatenate([rows, placed_rows(400, rows)])), np.arange(400))


def test_a_sample_larger_than_the_full_limit_is_refused():
    with pytest.raises(InputError, match="between 100 points and the full-map limit"):
        SampleConfig(full_limit=1_000, sample_size=2_000)


def test_placed_rows_take_their_nearest_sample_points_majority(small_workspace):
    from sklearn.neighbors import NearestNeighbors

    points = small_workspace.layout(5)
    fitted = fitted_rows(len(points), SAMPLED)
    sample = cluster_points(points[fitted], ClusterConfig(min_cluster_size=5))
    assigned = assign_clusters(points, fitted, sample, k=7)
    np.testing.assert_array_equal(assigned.labels[fitted], sample.labels)
    np.testing.assert_array_equal(assigned.outlier_scores[fitted], sample.outlier_scores)
    placed = placed_rows(len(points), fitted)
    _, nearest = NearestNeighbors(n_neighbors=7).fit(points[fitted]).kneighbors(points[placed])
    for row, near in zip(placed, nearest):
        counts = Counter(sample.labels[near].tolist())
        top = max(counts.values())
        expected = min(label for label, count in counts.items() if count == top)
        assert assigned.labels[row] == expected
        agreeing = sample.labels[near] == expected
        assert assigned.probabilities[row] == pytest.approx(sample.probabilities[near][agreeing].sum() / 7, abs=1e-6)
        assert assigned.outlier_scores[row] == pytest.approx(sample.outlier_scores[near].mean(), abs=1e-6)


def test_placing_on_two_layouts_at_once_is_placing_on_each(small_workspace, tweet_vectors):
    index = VectorIndex.build(tweet_vectors)
    found = index.search(tweet_vectors, 15)
    display, points = small_workspace.layout(2), small_workspace.layout(5)
    together = place_on_layouts(found, [(display, LayoutConfig()), (points, cluster_layout_config())])
    np.testing.assert_array_equal(together[0], place_points(found, display, config=LayoutConfig()))
    np.testing.assert_array_equal(together[1], place_points(found, points, config=cluster_layout_config()))


@pytest.fixture(scope="module")
def sampled_workspace(tweets):
    config = BuildConfig(IngestConfig("text", "tweet_id"), cluster=ClusterConfig(min_cluster_size=5), sample=SAMPLED)
    vectors = np.load("tests/fixtures/tweets-400-minilm.npy")
    return build_workspace(tweets.head(400), config, workspaces_root() / "sampled-400", source="test",
                           vectors=vectors)


def test_a_sampled_build_fits_on_the_sample_and_says_so(sampled_workspace, small_workspace):
    from sklearn.manifold import trustworthiness

    fitted = sampled_workspace.map_sample()
    np.testing.assert_array_equal(fitted, fitted_rows(400, SAMPLED))
    assert any("random sample of 200 of the 400 points" in note for note in sampled_workspace.manifest.notes)
    assert sampled_workspace.manifest.config.sample == SAMPLED
    vectors = sampled_workspace.embeddings().vectors
    display = sampled_workspace.layout(2)
    assert np.isfinite(display).all() and np.isfinite(sampled_workspace.layout(5)).all()
    # The placed points keep their neighbourhoods nearly as well as a map fitted on every point.
    sampled = trustworthiness(vectors, display, n_neighbors=10, metric="cosine")
    full = trustworthiness(vectors, small_workspace.layout(2), n_neighbors=10, metric="cosine")
    assert sampled > full - 0.05, (sampled, full)
    clustering = sampled_workspace.clustering().clustering
    on_sample = cluster_points(sampled_workspace.layout(5)[fitted], ClusterConfig(min_cluster_size=5))
    np.testing.assert_array_equal(clustering.labels[fitted], on_sample.labels)


def test_reclustering_a_sampled_workspace_fits_the_sample_again(sampled_workspace):
    fitted = sampled_workspace.map_sample()
    np.testing.assert_array_equal(sweep_points(sampled_workspace), sampled_workspace.layout(5)[fitted])
    config = ClusterConfig(min_cluster_size=8, min_samples=3)
    result = compute_clusters(sampled_workspace, config)
    expected = assign_clusters(sampled_workspace.layout(5), fitted,
                               cluster_points(sampled_workspace.layout(5)[fitted], config))
    np.testing.assert_array_equal(result.clustering.labels, expected.labels)


def test_a_workspace_within_the_limit_has_no_sample(small_workspace):
    assert small_workspace.map_sample() is None
    np.testing.assert_array_equal(sweep_points(small_workspace), small_workspace.layout(5))
