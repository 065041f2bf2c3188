import numpy as np
import pytest

from explorer.errors import IndexMismatchError, InputError
from explorer.mapping.index import IndexConfig, VectorIndex, index_recall
from explorer.types import Embeddings

from ..ranking import assert_each_row_finds_itself_first


@pytest.fixture(scope="module")
def embeddings(tweet_vectors):
    return tweet_vectors


def test_exact_cosine_search_equals_numpy(embeddings):
    index = VectorIndex.build(embeddings)
    queries = Embeddings(embeddings.vectors[:25], embeddings.model_id, embeddings.fingerprint, True)
    found = index.search(queries, 10)
    scores = embeddings.vectors[:25] @ embeddings.vectors.T
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    assert index.kind == "exact"
    np.testing.assert_allclose(found.scores, np.take_along_axis(scores, expected, axis=1), atol=1e-5)
    assert_each_row_finds_itself_first(found.indices[:, 0], np.arange(25), embeddings.vectors)


@pytest.mark.parametrize("metric", ["dot", "euclidean"])
def test_other_metrics_equal_numpy(embeddings, metric):
    raw = Embeddings(embeddings.vectors * 3.0, "m", "fp", False)
    index = VectorIndex.build(raw, IndexConfig(metric=metric))
    found = index.search(Embeddings(raw.vectors[:5], "m", "fp", False), 3, metric=metric)
    if metric == "dot":
        expected = np.sort(raw.vectors[:5] @ raw.vectors.T, axis=1)[:, ::-1][:, :3]
    else:
        distances = np.linalg.norm(raw.vectors[:5, None] - raw.vectors[None], axis=2)
        expected = np.sort(distances, axis=1)[:, :3]
    np.testing.assert_allclose(found.scores, expected, atol=1e-3)


def test_hnsw_above_the_size_bound_has_high_recall(embeddings):
    index = VectorIndex.build(embeddings, IndexConfig(exact_limit=100))
    assert index.kind == "hnsw"
    exact = VectorIndex.build(embeddings)
    approx_ids = index.knn_graph(embeddings, 10).indices
    exact_ids = exact.knn_graph(embeddings, 10).indices
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx_ids, exact_ids)])
    assert recall > 0.95


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_hnsw_scores_are_exact_and_survive_saving(embeddings, metric, tmp_path):
    """HNSW finds candidates over 8-bit vectors; the scores it returns are recomputed from the full vectors."""
    index = VectorIndex.build(embeddings, IndexConfig(metric=metric, exact_limit=0))
    queries = Embeddings(embeddings.vectors[:20], embeddings.model_id, embeddings.fingerprint, True)
    found = index.search(queries, 8)
    neighbours = embeddings.vectors[found.indices]
    if metric == "cosine":
        expected = np.einsum("qd,qkd->qk", queries.vectors, neighbours)
    else:
        expected = np.linalg.norm(neighbours - queries.vectors[:, None], axis=2)
    np.testing.assert_allclose(found.scores, expected, atol=1e-5)
    index.write(tmp_path / "index.faiss")
    loaded = VectorIndex.read(tmp_path / "index.faiss", index.record())
    again = loaded.search(queries, 8)
    assert loaded.kind == "hnsw"
    np.testing.assert_array_equal(again.indices, found.indices)


def test_queries_from_another_model_or_metric_are_refused(embeddings, tmp_path):
    index = VectorIndex.build(embeddings)
    index.write(tmp_path / "index.faiss")
    loaded = VectorIndex.read(tmp_path / "index.faiss", index.record())
    foreign = Embeddings(embeddings.vectors[:2], "wordllama-l2", "wordllama-l2@wordllama==0.4.0.post1", True)
    with pytest.raises(IndexMismatchError, match="all-MiniLM-L6-v2"):
        loaded.search(foreign, 5)
    own = Embeddings(embeddings.vectors[:2], embeddings.model_id, embeddings.fingerprint, True)
    with pytest.raises(IndexMismatchError, match="cosine"):
        loaded.search(own, 5, metric="euclidean")
    wrong_dim = Embeddings(embeddings.vectors[:2, :100], embeddings.model_id, embeddings.fingerprint, True)
    with pytest.raises(IndexMismatchError, match="dimensions"):
        loaded.search(wrong_dim, 5)
    np.testing.assert_array_equal(loaded.search(own, 5).indices, index.search(own, 5).indices)


def test_knn_graph_excludes_each_point_even_among_exact_duplicates():
    vectors = np.vstack([np.tile([1.0, 0.0, 0.0], (4, 1)), np.eye(3)[1:], [[0.6, 0.8, 0.0]]]).astype(np.float32)
    embeddings = Embeddings(vectors, "m", "fp", True)
    knn = VectorIndex.build(embeddings).knn_graph(embeddings, 3)
    assert knn.indices.shape == (7, 3)
    assert not (knn.indices == np.arange(7)[:, None]).any()
    assert (knn.distances() >= 0).all()


def test_bad_index_config():
    with pytest.raises(InputError, match="manhattan"):
        IndexConfig(metric="manhattan")


def test_hnsw_searches_single_queries_deeper_than_the_knn_graph(embeddings):
    """The k-NN graph uses graph_ef_search, searches the index's own (deeper) ef_search."""
    shallow_graph = IndexConfig(exact_limit=0, hnsw_m=4, ef_construction=4, graph_ef_search=1, ef_search=64)
    index = VectorIndex.build(embeddings, shallow_graph)
    exact = VectorIndex.build(embeddings).knn_graph(embeddings, 10).indices
    graph = index.knn_graph(embeddings, 10).indices
    graph_recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(graph, exact)])
    assert graph_recall < index_recall(index, embeddings, k=10, n_queries=200)


def test_the_graph_is_the_same_searched_in_batches_and_reports_progress(embeddings, monkeypatch):
    import explorer.mapping.index

    index = VectorIndex.build(embeddings)
    whole = index.knn_graph(embeddings, 12)
    scores = embeddings.vectors @ embeddings.vectors.T
    np.fill_diagonal(scores, -np.inf)
    np.testing.assert_allclose(whole.scores, -np.sort(-scores, axis=1)[:, :12], atol=1e-5)
    monkeypatch.setattr(explorer.mapping.index, "BATCH_ROWS", 64)
    reported = []
    batched = index.knn_graph(embeddings, 12, progress=reported.append)
    # The same scores (ties between identical tweets may come in another order) of the points named.
    np.testing.assert_allclose(batched.scores, whole.scores, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(scores, batched.indices, axis=1), batched.scores, atol=1e-5)
    assert reported == [min(64 * (i + 1), 400) / 400 for i in range(7)]
    rows = np.array([5, 399, 0, 77])
    some = index.graph_search(embeddings, 3, rows=rows)
    assert_each_row_finds_itself_first(some.indices[:, 0], rows, embeddings.vectors)
    np.testing.assert_allclose(some.scores[:, 1:], -np.sort(-scores[rows], axis=1)[:, :2], atol=1e-5)
