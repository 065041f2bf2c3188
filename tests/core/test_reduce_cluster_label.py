import numpy as np
import pytest
import scipy.sparse.csgraph

from explorer.cluster import ClusterConfig, cluster_points
from explorer.errors import InputError
from explorer.index import VectorIndex
from explorer.label import class_tfidf, cluster_keywords, document_terms
from explorer.reduce import (LayoutConfig, cluster_layout_config, distinct_rows, fuzzy_graph, layout, layouts,
                             small_layout)
from explorer.types import Embeddings

TOPICS = {"ebola": "ebola", "measles": "measles", "smoking": "smok"}


@pytest.fixture(scope="module")
def topical(tweets, minilm):
    """Real tweets about three distinct topics, with the topic each was picked for."""
    picked = []
    for topic, stem in TOPICS.items():
        matches = tweets[tweets["text"].str.lower().str.contains(stem)]
        picked += [(topic, text) for text in matches["text"].head(40)]
    topics = np.array([topic for topic, _ in picked])
    texts = [text for _, text in picked]
    vectors = minilm.encode(texts)
    return texts, topics, Embeddings(vectors, minilm.spec.id, minilm.fingerprint, True)


def test_layouts_share_one_graph_and_are_reproducible(topical):
    _, _, embeddings = topical
    knn = VectorIndex.build(embeddings).knn_graph(embeddings, 30)
    graph = fuzzy_graph(knn, embeddings.vectors, n_neighbors=15)
    two = layout(graph, embeddings.vectors, n_components=2)
    five = layout(graph, embeddings.vectors, n_components=5, config=cluster_layout_config())
    again = layout(graph, embeddings.vectors, n_components=2)
    assert two.shape == (len(embeddings), 2) and five.shape == (len(embeddings), 5)
    assert two.dtype == np.float32 and np.isfinite(two).all()
    np.testing.assert_array_equal(two, again)


def test_layout_equals_umap_learns_own_embedding(topical):
    """Our split of umap-learn's simplicial_set_embedding (threaded epochs, cached kernel) changes nothing."""
    from umap.umap_ import find_ab_params, simplicial_set_embedding

    _, _, embeddings = topical
    graph = fuzzy_graph(VectorIndex.build(embeddings).knn_graph(embeddings, 30), embeddings.vectors)
    config = LayoutConfig(n_epochs=120, min_dist=0.05, seed=7)
    a, b = find_ab_params(config.spread, config.min_dist)
    theirs, _ = simplicial_set_embedding(
        embeddings.vectors[graph.representatives], graph.graph.tocoo(copy=True), 2, 1.0, a, b, 1.0, 5,
        config.n_epochs, "spectral", np.random.RandomState(config.seed), "cosine", {}, False, {}, False)
    ours = layout(graph, embeddings.vectors, n_components=2, config=config)
    centred = theirs[graph.inverse] - np.median(theirs[graph.inverse], axis=0)
    expected = centred / np.percentile(np.abs(centred), 99) * 10
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-4)


def test_layouts_side_by_side_equal_one_at_a_time(topical):
    _, _, embeddings = topical
    graph = fuzzy_graph(VectorIndex.build(embeddings).knn_graph(embeddings, 30), embeddings.vectors)
    reported = []
    two, five = layouts(graph, embeddings.vectors, [(2, LayoutConfig()), (5, cluster_layout_config())],
                        progress=reported.append)
    np.testing.assert_array_equal(two, layout(graph, embeddings.vectors, n_components=2))
    np.testing.assert_array_equal(five, layout(graph, embeddings.vectors, n_components=5,
                                               config=cluster_layout_config()))
    assert reported[-1] == 1.0 and reported == sorted(reported)


def test_clusters_recover_real_topics_with_keywords(topical):
    texts, topics, embeddings = topical
    knn = VectorIndex.build(embeddings).knn_graph(embeddings, 30)
    points = layout(fuzzy_graph(knn, embeddings.vectors), embeddings.vectors, n_components=5,
                    config=cluster_layout_config())
    clustering = cluster_points(points, ClusterConfig(min_cluster_size=10, min_samples=3))
    assert clustering.labels.dtype == np.int64 and set(clustering.labels) >= {0, 1, 2}
    assert ((0 <= clustering.probabilities) & (clustering.probabilities <= 1)).all()
    # Each clustered point's cluster is dominated by one topic.
    for cluster in set(clustering.labels) - {-1}:
        members = topics[clustering.labels == cluster]
        assert np.mean(members == max(set(members), key=list(members).count)) > 0.8
    keywords = cluster_keywords(document_terms(texts), clustering.labels)
    words = " ".join(" ".join(keywords.keywords[c][:3]) for c in set(clustering.labels) - {-1})
    assert "ebola" in words and "measles" in words
    assert keywords.name(-1) == "Unclustered"


def test_cluster_layout_keeps_the_display_seed():
    assert cluster_layout_config(LayoutConfig(seed=7, n_neighbors=20)) == LayoutConfig(
        min_dist=0.0, n_epochs=100, seed=7, n_neighbors=20)


def test_fuzzy_graph_equals_umap_learns_own(topical):
    from umap.umap_ import fuzzy_simplicial_set as umap_fuzzy_simplicial_set

    _, _, embeddings = topical
    knn = VectorIndex.build(embeddings).knn_graph(embeddings, 30)
    n = len(embeddings)
    indices = np.hstack([np.arange(n)[:, None], knn.indices[:, :14]]).astype(np.int32)
    distances = np.hstack([np.zeros((n, 1), np.float32), knn.distances()[:, :14]])
    reference, _, _ = umap_fuzzy_simplicial_set(np.zeros((n, 1), np.float32), 15, np.random.RandomState(0),
                                                "euclidean", knn_indices=indices, knn_dists=distances)
    ours = fuzzy_graph(knn, embeddings.vectors, n_neighbors=15).graph
    np.testing.assert_allclose(ours.toarray(), reference.toarray(), atol=1e-6)


def test_identical_vectors_share_one_node_and_one_position(topical):
    _, _, embeddings = topical
    copies = np.vstack([embeddings.vectors, np.repeat(embeddings.vectors[:1], 6, axis=0)])
    doubled = Embeddings(copies, embeddings.model_id, embeddings.fingerprint, True)
    knn = VectorIndex.build(doubled).knn_graph(doubled, 30)
    graph = fuzzy_graph(knn, doubled.vectors)
    assert graph.graph.shape == (len(embeddings), len(embeddings))
    assert scipy.sparse.csgraph.connected_components(graph.graph)[0] == 1
    points = layout(graph, doubled.vectors, n_components=2)
    np.testing.assert_array_equal(points[-6:], np.repeat(points[:1], 6, axis=0))


def test_distinct_rows_keep_corpus_order():
    vectors = np.array([[1, 0], [0, 1], [1, 0], [2, 2], [0, 1]], np.float32)
    representatives, inverse = distinct_rows(vectors)
    assert representatives.tolist() == [0, 1, 3] and inverse.tolist() == [0, 1, 0, 2, 1]


def test_too_few_points_are_all_noise():
    clustering = cluster_points(np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32))
    assert (clustering.labels == -1).all() and clustering.noise_fraction == 1.0


def test_small_layout_for_tiny_corpora():
    points = small_layout(np.eye(3, 4, dtype=np.float32), n_components=2)
    assert points.shape == (3, 2) and np.isfinite(points).all()


def test_class_tfidf_matches_the_formula():
    counts = np.array([[2.0, 0.0, 1.0], [0.0, 3.0, 1.0]])
    average = counts.sum() / 2
    expected = counts / counts.sum(axis=1, keepdims=True) * np.log(1 + average / counts.sum(axis=0))
    np.testing.assert_allclose(class_tfidf(counts).toarray(), expected)


def test_keywords_from_document_counts_equal_counting_each_clusters_joined_text(tweets):
    """Summing per-document counts per cluster is the same as BERTopic's counting of one joined document per
    cluster (same vocabulary, same scores, ties broken by word order)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    from explorer.label import _NOISE_WORDS, _TOKEN_PATTERN, _URL

    texts = tweets["text"].head(600).tolist()
    labels = np.random.default_rng(0).integers(-1, 12, size=len(texts))
    keywords = cluster_keywords(document_terms(texts), labels, n_words=6).keywords
    clusters = sorted(set(labels.tolist()))
    joined = [" ".join(_URL.sub(" ", texts[i]) for i in np.flatnonzero(labels == c)) for c in clusters]
    vectorizer = CountVectorizer(stop_words=list(ENGLISH_STOP_WORDS | _NOISE_WORDS), token_pattern=_TOKEN_PATTERN)
    scores = class_tfidf(vectorizer.fit_transform(joined)).toarray()
    words = vectorizer.get_feature_names_out()
    for row, cluster in enumerate(clusters):
        order = np.argsort(-scores[row], kind="stable")[:6]
        assert keywords[cluster] == [words[j] for j in order if scores[row, j] > 0]


def test_keywords_of_stop_words_only_are_empty():
    keywords = cluster_keywords(document_terms(["the and of", "it is"]), np.array([0, -1]))
    assert keywords.keywords == {-1: [], 0: []} and keywords.name(0) == "0"


@pytest.mark.parametrize("factory", [lambda: LayoutConfig(n_neighbors=1), lambda: LayoutConfig(min_dist=2.0),
                                     lambda: ClusterConfig(min_cluster_size=1), lambda: ClusterConfig(min_samples=0)])
def test_bad_parameters(factory):
    with pytest.raises(InputError):
        factory()


def test_warm_up_leaves_the_layout_kernel_compiled():
    from explorer.pipeline import warm_up
    from explorer.reduce import _cached_epoch_kernel, _cached_umap_kernels

    warm_up()
    assert _cached_epoch_kernel().signatures
    assert all(kernel.signatures for kernel in _cached_umap_kernels())


def test_distinct_neighbours_drop_copies_self_and_padding():
    from explorer.reduce import _distinct_neighbours
    from explorer.types import Neighbors

    # Rows 0 and 2 are copies (node 0); rows 1 and 4 too (node 1); row 3 is node 2.
    vectors = np.array([[1, 0], [0, 1], [1, 0], [2, 2], [0, 1]], np.float32)
    representatives, inverse = distinct_rows(vectors)
    indices = np.array([[2, 1, 4, 3], [4, 0, 2, 3], [0, 1, 3, -1], [1, 0, 4, 2], [1, 3, -1, -1]])
    scores = np.array([[0.9, 0.8, 0.7, 0.6], [0.9, 0.5, 0.4, 0.3], [0.9, 0.8, 0.7, 0.0], [0.8, 0.6, 0.5, 0.4],
                       [0.9, 0.3, 0.0, 0.0]], np.float32)
    nodes, distances = _distinct_neighbours(Neighbors(indices, scores, "cosine"), representatives, inverse, 3)
    assert nodes.tolist() == [[1, 2, -1], [0, 2, -1], [1, 0, -1]]
    np.testing.assert_allclose(distances[:, :2], [[0.2, 0.4], [0.5, 0.7], [0.2, 0.4]], atol=1e-6)
    assert np.isinf(distances[:, 2]).all()


def test_a_smaller_layout_reuses_the_larger_ones_spectral_start(topical):
    """Layouts with the same epochs prune the graph alike: the 2-D start is the 5-D start's leading eigenvectors,
    which are umap-learn's own 2-D start (up to sign), and the map is as trustworthy as one started on its own."""
    from sklearn.manifold import trustworthiness
    from umap.spectral import spectral_layout

    from explorer.reduce import SpectralStart, _LayoutRun

    _, _, embeddings = topical
    vectors = embeddings.vectors
    graph = fuzzy_graph(VectorIndex.build(embeddings).knn_graph(embeddings, 30), vectors)
    display, clustering = LayoutConfig(n_epochs=100), cluster_layout_config()
    five = _LayoutRun.prepare(graph, vectors, 5, "cosine", clustering)
    two = _LayoutRun.prepare(graph, vectors, 2, "cosine", display, shared=five.spectral)
    np.testing.assert_array_equal(two.spectral.coordinates, five.spectral.coordinates[:, :2])
    weights = graph.graph.tocoo(copy=True)
    weights.data[weights.data < weights.data.max() / 100.0] = 0.0
    weights.eliminate_zeros()
    own = spectral_layout(vectors, weights, 2, np.random.RandomState(0), metric="cosine")
    for column in range(2):
        assert abs(np.corrcoef(own[:, column], two.spectral.coordinates[:, column])[0, 1]) > 0.99
    shared_map, shared_clustering = layouts(graph, vectors, [(2, display), (5, clustering)])
    np.testing.assert_array_equal(shared_clustering, layout(graph, vectors, n_components=5, config=clustering))
    alone = layout(graph, vectors, n_components=2, config=display)
    assert trustworthiness(vectors, shared_map, n_neighbors=10) > trustworthiness(vectors, alone, n_neighbors=10) - 0.02
    # Several graph parts are anchored at axis corners: reused only where no two parts would share a corner.
    start = SpectralStart(np.zeros((10, 5)), n_parts=2, n_epochs=100)
    assert start.serves(2) and start.serves(5) and not start.serves(6)
    assert not SpectralStart(np.zeros((10, 5)), n_parts=6, n_epochs=100).serves(2)
    assert SpectralStart(np.zeros((10, 5)), n_parts=11, n_epochs=100).serves(2)


def test_keywords_leave_out_contraction_halves():
    texts = ["Doctors aren't sure the vaccine won't work", "Why flu shots aren't enough, and they'll say why",
             "The measles vaccine doesn't cause autism", "Measles cases: parents don't vaccinate"]
    keywords = cluster_keywords(document_terms(texts), np.array([0, 0, 1, 1]), n_words=20).keywords
    words = set(keywords[0]) | set(keywords[1])
    assert {"vaccine", "measles"} <= words and not words & {"aren", "won", "ll", "doesn", "don"}
