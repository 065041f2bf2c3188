"""The topic tree on real tweets: levels that nest, a readable top, every point placed above the finest level,
names among siblings, saved with the workspace and rebuilt by re-clustering; the scaling default for big maps."""

import json

import numpy as np
import pytest

from explorer.mapping.cluster import ClusterConfig, scaled_to_size
from explorer.mapping.keywords import document_terms
from explorer.mapping.topics import level_sizes, topic_tree

from ..cli import run_cli

LEAF = ClusterConfig(5, 1, "leaf")
"""Leaf clusters of the 400 tweets: about 30 on every machine tried (1 or 2 threads), so the tree has two levels
whatever the default clustering finds on this machine (8 or fewer clusters make a one-level tree)."""


@pytest.fixture(scope="module")
def clustered(small_workspace):
    from explorer.mapping.cluster import cluster_points

    return cluster_points(small_workspace.layout(5), LEAF).labels


@pytest.fixture(scope="module")
def tree(small_workspace, clustered):
    return topic_tree(clustered, small_workspace.layout(5), small_workspace.knn().indices,
                      document_terms(small_workspace.texts()))


def test_level_sizes_give_a_readable_top_whatever_the_number_of_clusters():
    assert level_sizes(5) == [5]
    for n_clusters in (12, 42, 300, 1693, 20_000):
        sizes = level_sizes(n_clusters)
        assert 8 <= sizes[0] <= 40 and sizes[-1] == n_clusters and sizes == sorted(sizes)


def test_levels_nest_every_point_is_placed_above_the_finest_and_noise_is_weak(tree, clustered):
    labels = clustered
    assert tree.n_levels >= 2
    finest = tree.labels[-1]
    np.testing.assert_array_equal(finest, labels)  # the finest level is the clustering
    np.testing.assert_array_equal(finest < 0, labels < 0)
    np.testing.assert_array_equal(tree.weak, labels < 0)
    for level in range(tree.n_levels - 1):
        assert (tree.labels[level] >= 0).mean() >= 0.95
        clustered = finest >= 0
        # Nesting: every finest cluster sits inside exactly one topic of each coarser level.
        for cluster in np.unique(finest[clustered]):
            assert len(np.unique(tree.labels[level][finest == cluster])) == 1
    for level in range(1, tree.n_levels):
        children = tree.labels[level][finest >= 0]
        parents = tree.labels[level - 1][finest >= 0]
        np.testing.assert_array_equal(tree.parents[level][children], parents)


def test_noise_joins_the_topic_most_of_its_neighbours_hold(tree, small_workspace):
    knn = small_workspace.knn().indices[:, :15]
    top = tree.labels[0]
    checked = 0
    for row in np.flatnonzero(tree.weak):
        held = top[knn[row]][~tree.weak[knn[row]]]  # the first pass votes with the clustered neighbours only
        if len(held):
            values, counts = np.unique(held, return_counts=True)
            assert top[row] in values[counts == counts.max()]
            checked += 1
    assert checked >= 10


def test_topics_are_numbered_by_size_and_named_apart_from_their_parent(tree):
    for level in range(tree.n_levels - 1):  # the finest level keeps HDBSCAN's cluster ids
        sizes = [row["size"] for row in tree.table(level)]
        assert sizes == sorted(sizes, reverse=True) and all(row["name"] for row in tree.table(level))
    for level in range(1, tree.n_levels):
        for row in tree.table(level):
            parent_words = set(tree.keywords[level - 1][row["parent"]][:3])
            assert not parent_words & set(tree.keywords[level][row["topic"]][:3])
            assert tree.path(level, row["topic"]).startswith(tree.name(level - 1, row["parent"]) + " › ")


def test_each_points_topic_path_names_its_ancestors(tree):
    level = tree.n_levels - 2
    paths = tree.paths(level)
    for row in (0, 5, 17):
        topic = tree.labels[level][row]
        assert paths[row] == tree.path(level, topic) and paths[row].count(" › ") == level


def test_the_tree_is_saved_with_the_workspace_and_printed_by_the_cli(small_workspace, capsys):
    saved = small_workspace.topics()
    clustering = small_workspace.clustering().clustering
    expected = topic_tree(clustering.labels, small_workspace.layout(5), small_workspace.knn().indices,
                          document_terms(small_workspace.texts()))
    np.testing.assert_array_equal(saved.labels, expected.labels)
    assert saved.record() == expected.record()
    level = saved.n_levels - 1
    ran = run_cli(capsys, "topics", small_workspace.path, "--level", str(level), "--json")
    printed = json.loads(ran.stdout)
    assert printed["level"] == level and printed["n_levels"] == saved.n_levels
    assert printed["topics"] == saved.table(level) and printed["labels"] == saved.labels[level].tolist()
    assert run_cli(capsys, "topics", small_workspace.path, "--level", "9").returncode == 2


def test_reclustering_rebuilds_the_tree(tweets, tmp_path):
    from explorer.build.pipeline import build_workspace
    from explorer.build.recluster import recluster
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    from ..conftest import _replayed_minilm

    workspace = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text", "tweet_id")), tmp_path / "w",
                                source="t", encoder=_replayed_minilm())
    recluster(workspace, ClusterConfig(6, 3, "leaf"))
    again = workspace.reopened()
    np.testing.assert_array_equal(again.topics().labels[-1] >= 0, again.clustering().clustering.labels >= 0)
    assert again.topics().labels.shape[1] == 400


def test_the_default_minimum_cluster_size_grows_with_big_maps_only():
    assert scaled_to_size(ClusterConfig(), 3_000) == ClusterConfig()
    assert scaled_to_size(ClusterConfig(), 100_000).min_cluster_size == 100
    assert scaled_to_size(ClusterConfig(min_cluster_size=30), 100_000).min_cluster_size == 30  # the user's choice


def test_a_clustering_problem_never_suggests_the_setting_already_applied():
    from explorer.mapping.cluster import clustering_problem
    from explorer.types import Clustering

    labels = np.array([0] * 80 + [1] * 10 + [-1] * 10)
    clustering = Clustering(labels, np.ones(100, np.float32), np.zeros(100, np.float32))
    assert "leaf selection" in clustering_problem(clustering, ClusterConfig())
    assert "leaf selection" not in clustering_problem(clustering, ClusterConfig(selection="leaf"))
