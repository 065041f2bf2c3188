"""Search on real tweets: checked against brute-force numpy, RRF by hand, BM25 and the map placement."""

import json
import subprocess
import sys

import numpy as np
import pytest

from explorer.analysis.search import (
    KeywordIndex,
    hits_table,
    place_query,
    point_neighbours,
    reciprocal_rank_fusion,
    search,
    similarity_to_all,
    typed_query_problem,
    vector_from_upload,
)
from explorer.errors import IndexMismatchError, InputError
from explorer.mapping.index import IndexConfig, VectorIndex, index_recall
from explorer.mapping.reduce import LayoutConfig
from explorer.types import Embeddings

from ..conftest import ROOT
from ..ranking import assert_each_row_finds_itself_first, assert_ranks_like


@pytest.fixture(scope="module")
def corpus(small_workspace):
    return (small_workspace.points(), small_workspace.embeddings(), small_workspace.index())


@pytest.fixture(scope="module")
def keywords(corpus):
    points, _, _ = corpus
    return KeywordIndex.build(points["text"].tolist())


@pytest.mark.slow
def test_vector_search_equals_brute_force_cosine(corpus, minilm):
    _, embeddings, index = corpus
    assert index.kind == "exact"
    for query in ("ebola outbreak in west africa", "does coffee cause cancer", "obesity in children"):
        hits = search(query, mode="vector", k=10, index=index, encoder=minilm)
        expected = minilm.encode([query])[0] @ embeddings.vectors.T
        assert_ranks_like(hits.rows, expected, k=10, scores=hits.scores)
        assert hits.score_name == "cosine" and list(hits.vector_ranks) == list(range(1, 11))


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["dot", "euclidean"])
def test_other_metrics_equal_brute_force(corpus, minilm, metric):
    _, embeddings, _ = corpus
    scaled = Embeddings(embeddings.vectors * np.linspace(0.5, 2.0, len(embeddings))[:, None].astype(np.float32),
                        embeddings.model_id, embeddings.fingerprint, False)
    index = VectorIndex.build(scaled, IndexConfig(metric=metric))
    query = minilm.encode(["flu vaccine for the elderly"])
    hits = search("flu vaccine for the elderly", mode="vector", k=8, index=index, encoder=minilm)
    expected = similarity_to_all(scaled.vectors, query[0], metric)
    reference = (np.linalg.norm(scaled.vectors - query, axis=1) if metric == "euclidean"
                 else scaled.vectors @ query[0])
    np.testing.assert_allclose(expected, reference, rtol=1e-5, atol=1e-5)
    assert_ranks_like(hits.rows, expected, k=8, lower_is_better=metric == "euclidean", scores=hits.scores,
                      atol=1e-4)


def test_reciprocal_rank_fusion_by_hand():
    rows, scores = reciprocal_rank_fusion([np.array([3, 1, 2]), np.array([1, 4])], k=60)
    # row 1: 1/62 + 1/61; row 3: 1/61; row 4: 1/62; row 2: 1/63.
    assert rows.tolist() == [1, 3, 4, 2]
    np.testing.assert_allclose(scores, [1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63], rtol=1e-6)


def test_keyword_search_ranks_by_bm25(corpus, keywords):
    points, _, index = corpus
    hits = search("ebola", mode="keyword", k=5, index=index, keywords=keywords)
    assert hits.score_name == "bm25" and len(hits.rows) == 5
    assert all("ebola" in points["text"].iloc[row].lower() for row in hits.rows)
    assert (np.diff(hits.scores) <= 0).all() and (hits.scores > 0).all()
    assert list(hits.keyword_ranks) == [1, 2, 3, 4, 5] and (hits.vector_ranks == 0).all()


@pytest.mark.slow
def test_hybrid_reports_both_ranks_consistently(corpus, keywords, minilm):
    _, _, index = corpus
    hits = search("ebola vaccine trial", mode="hybrid", k=10, index=index, encoder=minilm, keywords=keywords)
    vector = search("ebola vaccine trial", mode="vector", k=100, index=index, encoder=minilm)
    keyword = search("ebola vaccine trial", mode="keyword", k=100, index=index, keywords=keywords)
    expected_rows, expected_scores = reciprocal_rank_fusion([vector.rows, keyword.rows])
    np.testing.assert_array_equal(hits.rows, expected_rows[:10])
    np.testing.assert_allclose(hits.scores, expected_scores[:10])
    for row, vector_rank, keyword_rank in zip(hits.rows, hits.vector_ranks, hits.keyword_ranks):
        assert vector_rank == 0 or vector.rows[vector_rank - 1] == row
        assert keyword_rank == 0 or keyword.rows[keyword_rank - 1] == row
        assert vector_rank or keyword_rank


def test_every_mode_gives_each_result_its_vector_and_keyword_rank(corpus, keywords):
    points, embeddings, index = corpus
    vector = Embeddings(embeddings.vectors[[5]], embeddings.model_id, embeddings.fingerprint, True)
    query = points["text"].iloc[5]
    by_vector = search(query, mode="vector", k=10, index=index, keywords=keywords, query_vector=vector)
    by_keyword = search(query, mode="keyword", k=100, index=index, keywords=keywords)
    assert list(by_vector.vector_ranks) == list(range(1, 11)) and (by_vector.keyword_ranks > 0).any()
    for row, rank in zip(by_vector.rows, by_vector.keyword_ranks):
        assert rank == 0 or by_keyword.rows[rank - 1] == row
    table = hits_table(by_vector, points)
    assert {"vector_rank", "keyword_rank"} <= set(table.columns)
    assert table["keyword_rank"].isna().tolist() == (by_vector.keyword_ranks == 0).tolist()


@pytest.mark.slow
def test_stopword_and_emoji_queries_say_keyword_search_found_nothing(corpus, keywords, minilm):
    _, _, index = corpus
    for query in ("the of and to", "🙂🙂🔥"):
        keyword = search(query, mode="keyword", k=5, index=index, keywords=keywords)
        assert len(keyword.rows) == 0 and "No word of the query occurs" in keyword.notes[0]
        hybrid = search(query, mode="hybrid", k=5, index=index, encoder=minilm, keywords=keywords)
        assert len(hybrid.rows) == 5 and "vector search alone" in hybrid.notes[0]


@pytest.mark.slow
def test_bad_queries(corpus, minilm):
    _, _, index = corpus
    for empty in ("", "   ", "<p> </p>"):
        with pytest.raises(InputError, match="empty"):
            search(empty, mode="vector", k=5, index=index, encoder=minilm)
    long = search("vaccines and measles outbreaks " * 1500, mode="vector", k=5, index=index, encoder=minilm)
    assert any("reads only the first 254" in note for note in long.notes)
    everything = search("cancer", mode="vector", k=10_000, index=index, encoder=minilm)
    assert len(everything.rows) == len(index) and "only 400 points" in everything.notes[0]
    with pytest.raises(InputError, match="mode"):
        search("cancer", mode="semantic", k=5, index=index, encoder=minilm)
    with pytest.raises(InputError, match="precomputed vectors"):
        search("cancer", mode="vector", k=5, index=index)


@pytest.mark.slow
def test_a_query_from_another_model_is_refused(corpus):
    from explorer.embedding.loading import load_encoder

    _, _, index = corpus
    wordllama = load_encoder("wordllama-l2")
    foreign = Embeddings(wordllama.encode(["cancer"]), wordllama.spec.id, wordllama.fingerprint, True)
    with pytest.raises(IndexMismatchError, match="Embed the query with 'all-MiniLM-L6-v2'"):
        search("cancer", mode="vector", k=5, index=index, query_vector=foreign)


def test_uploaded_query_vector(corpus):
    _, embeddings, index = corpus
    hits = search("", mode="vector", k=3, index=index, query_vector=vector_from_upload(embeddings.vectors[7], index))
    assert_each_row_finds_itself_first(hits.rows[:1], [7], embeddings.vectors)
    with pytest.raises(InputError, match="384"):
        vector_from_upload(np.ones(10), index)
    with pytest.raises(InputError, match="one query vector"):
        vector_from_upload(np.ones((2, 384)), index)
    with pytest.raises(InputError, match="finite"):
        vector_from_upload(np.full(384, np.nan), index)


def test_point_neighbours_with_their_map_ranks(small_workspace, corpus):
    _, embeddings, index = corpus
    layout = small_workspace.layout(2)
    found = point_neighbours(12, index=index, embeddings=embeddings, layout_2d=layout, k=10)
    scores = embeddings.vectors @ embeddings.vectors[12]
    scores[12] = -np.inf
    assert_ranks_like(found.rows, scores, k=10)
    distances = np.linalg.norm(layout - layout[12], axis=1)
    distances[12] = np.inf
    for row, rank in zip(found.rows, found.map_ranks):
        assert rank == 1 + np.sum(distances < distances[row])
    with pytest.raises(InputError, match="not in this corpus"):
        point_neighbours(400, index=index, embeddings=embeddings, layout_2d=layout, k=5)


def test_recall_of_exact_and_approximate_indexes(corpus):
    _, embeddings, index = corpus
    assert index_recall(index, embeddings, k=10, n_queries=50) == 1.0
    hnsw = VectorIndex.build(embeddings, IndexConfig(exact_limit=0, ef_search=1, hnsw_m=4, ef_construction=4))
    rough = index_recall(hnsw, embeddings, k=10, n_queries=50)
    deeper = VectorIndex.build(embeddings, IndexConfig(exact_limit=0, ef_search=64, hnsw_m=4, ef_construction=4))
    better = index_recall(deeper, embeddings, k=10, n_queries=50)
    assert hnsw.kind == "hnsw" and 0 < rough < better <= 1.0


@pytest.mark.slow
def test_a_corpus_text_as_query_lands_beside_its_point(small_workspace, corpus, minilm):
    points, embeddings, index = corpus
    layout = small_workspace.layout(2)
    for row in (3, 150, 333):
        query = Embeddings(minilm.encode([points["text"].iloc[row]]), minilm.spec.id, minilm.fingerprint, True)
        placed = place_query(query, index=index, layout_coords=layout, config=LayoutConfig())
        distance = np.linalg.norm(layout - placed, axis=1)
        # The point itself (and its text's true neighbours) are among the nearest on the map.
        assert np.sum(distance < distance[row]) < len(points) * 0.05
        assert placed.shape == (2,) and placed.dtype == np.float32


def test_precomputed_and_tfidf_workspaces_cannot_embed_typed_queries():
    assert "precomputed vectors" in typed_query_problem("precomputed")
    assert "fitted on the corpus" in typed_query_problem("tfidf-svd")
    assert typed_query_problem("all-MiniLM-L6-v2") is None


@pytest.mark.slow
def test_hits_table_joins_ids_back(corpus, minilm):
    points, _, index = corpus
    hits = search("ebola", mode="vector", k=3, index=index, encoder=minilm)
    table = hits_table(hits, points)
    assert list(table.columns[:7]) == ["rank", "id", "chunk", "cosine", "vector_rank", "keyword_rank", "text"]
    assert table["id"].tolist() == points["id"].iloc[hits.rows].tolist() and "outlet" in table.columns
    fused = hits_table(search("ebola", mode="hybrid", k=3, index=index, encoder=minilm,
                              keywords=KeywordIndex.build(points["text"].tolist())), points)
    assert list(fused.columns[:7]) == ["rank", "id", "chunk", "rrf", "vector_rank", "keyword_rank", "text"]


@pytest.mark.slow
def test_cli_search_json(small_workspace):
    result = subprocess.run([sys.executable, "-m", "explorer", "search", str(small_workspace.path), "--query",
                             "ebola outbreak", "-k", "4", "--mode", "hybrid", "--json"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert {"query", "model", "metric", "mode", "results"} <= set(output)
    assert output["mode"] == "hybrid" and output["model"] == "all-MiniLM-L6-v2" and len(output["results"]) == 4
    first = output["results"][0]
    assert {"rank", "id", "chunk", "score", "text"} <= set(first) and first["rank"] == 1
    assert isinstance(first["id"], int) and first["chunk"] == 0
    empty = subprocess.run([sys.executable, "-m", "explorer", "search", str(small_workspace.path), "--query", " "],
                           capture_output=True, text=True, cwd=ROOT)
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr


def test_a_tfidf_workspace_saves_its_fit_and_takes_typed_queries(tweets, tmp_path):
    from explorer.analysis.search import query_encoder
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.embedding.encoders import TfidfEncoder
    from explorer.ingest.corpus import IngestConfig

    workspace = build_workspace(tweets.head(300), BuildConfig(IngestConfig("text", "tweet_id"), model_id="tfidf-svd"),
                                tmp_path / "tfidf", source="t")
    encoder = query_encoder(workspace)
    index, embeddings = workspace.index(), workspace.embeddings()
    assert isinstance(encoder, TfidfEncoder) and encoder.fingerprint == index.fingerprint
    # The saved fit re-embeds the corpus exactly as it was embedded at build time.
    np.testing.assert_allclose(encoder.encode(workspace.points()["text"].tolist()), embeddings.vectors, atol=1e-5)
    hits = search("ebola in west africa", mode="vector", k=5, index=index, encoder=encoder)
    expected = embeddings.vectors @ encoder.encode(["ebola in west africa"])[0]
    assert_ranks_like(hits.rows, expected, k=5)
    assert all("ebola" in workspace.points()["text"].iloc[row].lower() for row in hits.rows[:3])
    # Another corpus's TF-IDF space is another space: the index refuses it.
    other = TfidfEncoder(encoder.spec).fit_on(tweets["text"].iloc[1000:1300].tolist())
    with pytest.raises(IndexMismatchError):
        search("ebola", mode="vector", k=5, index=index, encoder=other)


@pytest.mark.slow
def test_an_e5_workspace_embeds_typed_queries_with_the_query_marker(tweets, tmp_path):
    from explorer.analysis.search import query_encoder
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    workspace = build_workspace(tweets.head(150), BuildConfig(IngestConfig("text", "tweet_id"),
                                                              model_id="multilingual-e5-small"),
                                tmp_path / "e5", source="t")
    encoder = query_encoder(workspace)
    hits = search("ébola en Afrique de l'Ouest", mode="vector", k=5, index=workspace.index(), encoder=encoder)
    expected = workspace.embeddings().vectors @ encoder.encode_queries(["ébola en Afrique de l'Ouest"])[0]
    assert_ranks_like(hits.rows, expected, k=5)
    texts = workspace.points()["text"]
    assert "ebola" in texts.iloc[hits.rows[0]].lower()
