"""The chunking lab on real news articles, every figure against a brute-force numpy recount."""

import json

import numpy as np
import pandas as pd
import pytest

from explorer import cli
from explorer.audits.chunk_lab import (
    ChunkSetting,
    chunk_lab,
    document_ranking,
    parse_settings,
    read_documents,
    setting_corpus,
)
from explorer.build.sample import news_retrieval_example
from explorer.embedding.loading import load_encoder
from explorer.errors import InputError

SETTINGS = [ChunkSetting(None), ChunkSetting(64, 8), ChunkSetting(128, 16)]


@pytest.fixture(scope="module")
def articles():
    """60 real articles and their titles as queries (one relevant article each)."""
    corpus, queries = news_retrieval_example("title")
    corpus = corpus.head(60)
    return corpus, queries[queries["relevant_doc_id"].isin(corpus["doc_id"])]


@pytest.fixture(scope="module")
def tfidf_lab(articles):
    corpus, queries = articles
    documents = read_documents(corpus, text_column="text", id_column="doc_id")
    return documents, chunk_lab(documents, SETTINGS, load_encoder("tfidf-svd"), queries=queries)


def _unit(vectors):
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_each_setting_counts_its_vectors_and_truncation(tfidf_lab, articles):
    documents, lab = tfidf_lab
    table = lab.table.set_index("setting")
    assert table.loc["whole texts", "vectors"] == 60
    encoder = load_encoder("tfidf-svd")
    for setting in SETTINGS[1:]:
        corpus = setting_corpus(documents, setting, encoder)
        assert table.loc[setting.name, "vectors"] == len(corpus)
        lengths = [len(spans) for spans in encoder.token_spans(corpus.texts)]
        assert max(lengths) <= setting.tokens
        assert set(corpus.points["id"]) == set(documents.points["id"])  # no document lost
    assert table.loc["64 tokens, 8 overlap", "vectors"] > table.loc["128 tokens, 16 overlap", "vectors"] > 60
    assert (table["truncated"] == 0).all() and (table["tokens_unread"] == 0).all()  # TF-IDF reads any length
    assert lab.n_documents == 60 and lab.n_queries == len(articles[1])


def test_duplicates_and_document_recall_match_brute_force(tfidf_lab, articles):
    documents, lab = tfidf_lab
    _, queries = articles
    encoder = load_encoder("tfidf-svd")
    row = lab.table.set_index("setting").loc["128 tokens, 16 overlap"]
    corpus = setting_corpus(documents, ChunkSetting(128, 16), encoder)
    fitted = encoder.fit_on(corpus.texts)
    chunks = _unit(fitted.encode(corpus.texts).astype(np.float64))
    cosine = chunks @ chunks.T
    assert row["duplicate_pairs"] == int((cosine[np.triu_indices(len(chunks), 1)] >= lab.threshold).sum())
    scores = _unit(fitted.encode(queries["query"].tolist()).astype(np.float64)) @ chunks.T
    document_ids = documents.points["id"].astype(str).to_numpy()
    chunk_document = corpus.points["id"].astype(str).to_numpy()
    best = np.stack([scores[:, chunk_document == doc].max(axis=1) for doc in document_ids], axis=1)
    wanted = np.array([np.flatnonzero(document_ids == str(doc))[0] for doc in queries["relevant_doc_id"]])
    rank = (best > best[np.arange(len(wanted)), wanted][:, None]).sum(axis=1) + 1
    assert row["recall@1"] == pytest.approx((rank <= 1).mean())
    assert row["recall@10"] == pytest.approx((rank <= 10).mean())
    assert row["mrr@10"] == pytest.approx(np.where(rank <= 10, 1 / rank, 0).mean())


def test_the_recommendation_names_the_best_and_the_cost(tfidf_lab):
    _, lab = tfidf_lab
    table = lab.table.sort_values(["recall@10", "mrr@10", "vectors"], ascending=[False, False, True])
    best = table.iloc[0]
    sentence = lab.recommendation()
    assert sentence.startswith(f"{best['setting']} found the most relevant documents")
    if best["setting"] != "whole texts":
        assert f"It costs {best['vectors'] - 60:,} more vectors than whole texts" in sentence


def test_document_ranking_keeps_each_documents_best_chunk():
    ranked = document_ranking(np.array([[4, 0, 5, 1, -1]]), np.array([0, 0, 1, 1, 2, 2]), width=4)
    np.testing.assert_array_equal(ranked, [[2, 0, -1, -1]])  # chunks 4, 0, 5, 1 are of documents 2, 0, 2, 0


def test_bad_settings_are_explained():
    with pytest.raises(InputError, match="must be smaller than the chunk size"):
        parse_settings("128:128,256:32")
    with pytest.raises(InputError, match="two to 4"):
        parse_settings("256:32")
    with pytest.raises(InputError, match="not a chunk setting"):
        parse_settings("off,big:32")
    with pytest.raises(InputError, match="twice"):
        parse_settings("off,OFF")
    assert parse_settings("off, 128:16") == [ChunkSetting(None), ChunkSetting(128, 16)]


def test_cli_chunk_lab_json_and_a_bad_setting(tmp_path, capsys, articles):
    corpus, queries = articles
    corpus_file, queries_file = tmp_path / "corpus.csv", tmp_path / "queries.csv"
    corpus.to_csv(corpus_file, index=False)
    queries.to_csv(queries_file, index=False)
    assert cli.main(["chunk-lab", str(corpus_file), "--text-col", "text", "--id-col", "doc_id", "--settings",
                     "off,128:16", "--queries", str(queries_file), "--model", "tfidf-svd", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [row["setting"] for row in printed["settings"]] == ["whole texts", "128 tokens, 16 overlap"]
    assert printed["n_queries"] == len(queries) and printed["recommendation"]
    assert cli.main(["chunk-lab", str(corpus_file), "--text-col", "text", "--settings", "64:64,off",
                     "--model", "tfidf-svd"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "must be smaller than the chunk size" in error


@pytest.mark.slow
def test_chunks_find_late_sentences_that_minilm_misses_when_it_reads_whole_articles(tmp_path, capsys):
    corpus, queries = news_retrieval_example("late_sentence")
    corpus_file, queries_file = tmp_path / "corpus.csv", tmp_path / "queries.csv"
    corpus.to_csv(corpus_file, index=False)
    queries.to_csv(queries_file, index=False)
    assert cli.main(["chunk-lab", str(corpus_file), "--text-col", "text", "--id-col", "doc_id", "--settings",
                     "off,128:16,512:64", "--queries", str(queries_file), "--json"]) == 0
    table = pd.DataFrame(json.loads(capsys.readouterr().out)["settings"]).set_index("setting")
    assert table.loc["whole texts", "truncated"] > 0.9  # these articles run past MiniLM's 256 tokens
    encoder = load_encoder("all-MiniLM-L6-v2")
    counts = np.array([len(spans) for spans in encoder.token_spans(corpus["text"].tolist())])
    unread = np.maximum(counts - encoder.token_limit, 0).sum() / counts.sum()
    assert table.loc["whole texts", "tokens_unread"] == pytest.approx(unread, rel=0.01)
    assert table.loc["512 tokens, 64 overlap", "truncated"] > 0.5  # chunks longer than the model reads
    assert table.loc["128 tokens, 16 overlap", "truncated"] == 0
    assert table.loc["128 tokens, 16 overlap", "recall@10"] > table.loc["whole texts", "recall@10"] + 0.05
