"""Retrieval evaluation on real news articles (title -> body), against brute-force numpy ranking."""

import numpy as np
import pandas as pd
import pytest

from explorer.audits.retrieval import evaluate, query_metrics, read_retrieval, retrieval_metrics
from explorer.errors import InputError

from ..ranking import assert_ranks_like


@pytest.fixture(scope="module")
def news_set(news):
    corpus = pd.DataFrame({"doc_id": news["article_id"], "text": news["text"]})
    queries = pd.DataFrame({"query_id": news["article_id"], "query": news["title"],
                            "relevant_doc_id": news["article_id"]})
    return read_retrieval(corpus, queries)


def _brute_force(report, data, minilm):
    documents = minilm.encode(data.doc_texts)
    queries = minilm.encode(data.query_texts)
    similarity = queries @ documents.T
    ranking = np.argsort(-similarity, axis=1, kind="stable")
    figures = {}
    for cut in (1, 5, 10):
        figures[f"recall@{cut}"] = np.mean([np.isin(wanted, ranking[q, :cut]).mean()
                                            for q, wanted in enumerate(data.relevant)])
    reciprocal, gains = [], []
    for q, wanted in enumerate(data.relevant):
        positions = [int(np.flatnonzero(ranking[q] == row)[0]) + 1 for row in wanted]
        best = min(positions)
        reciprocal.append(1 / best if best <= 10 else 0.0)
        dcg = sum(1 / np.log2(position + 1) for position in positions if position <= 10)
        ideal = sum(1 / np.log2(i + 1) for i in range(1, min(len(wanted), 10) + 1))
        gains.append(dcg / ideal)
    figures["mrr@10"], figures["ndcg@10"] = np.mean(reciprocal), np.mean(gains)
    return figures, ranking


@pytest.mark.slow
def test_news_titles_find_their_articles_as_brute_force_says(news_set, minilm):
    report = evaluate(news_set, minilm, k=10)
    expected, ranking = _brute_force(report, news_set, minilm)
    for name, value in expected.items():
        assert report.metrics[name] == pytest.approx(value, abs=1e-9), name
    similarity = minilm.encode(news_set.query_texts) @ minilm.encode(news_set.doc_texts).T
    for found, scores in zip(report.ranked, similarity):
        assert_ranks_like(found[:10], scores, k=10)
    assert report.metrics["recall@10"] > 0.8 and report.summary()["n_queries"] == 40
    failures = report.failures(news_set)
    assert len(failures) == int((report.per_query["recall@10"] < 1).sum())


def test_metrics_by_hand_with_two_relevant_documents():
    ranked = np.array([[7, 3, 9, 1, 2, 4, 5, 6, 8, 0, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])
    relevant = [np.array([3, 8]), np.array([42])]
    figures = retrieval_metrics(ranked, relevant)
    assert figures["recall@1"] == 0 and figures["recall@5"] == pytest.approx(0.25)
    assert figures["recall@10"] == pytest.approx(0.5) and figures["mrr@10"] == pytest.approx(0.25)
    ideal = 1 + 1 / np.log2(3)
    assert figures["ndcg@10"] == pytest.approx((1 / np.log2(3) + 1 / np.log2(10)) / ideal / 2)
    assert query_metrics(ranked, relevant)["first_relevant_rank"].tolist() == [2, 0]


def test_bad_retrieval_files_are_explained(news):
    corpus = pd.DataFrame({"doc_id": [1, 2, 2], "text": ["a b", "c d", "e f"]})
    queries = pd.DataFrame({"query_id": [1], "query": ["a"], "relevant_doc_id": [1]})
    with pytest.raises(InputError, match="appear more than once"):
        read_retrieval(corpus, queries)
    with pytest.raises(InputError, match="missing: relevant_doc_id"):
        read_retrieval(corpus.head(2), queries.drop(columns="relevant_doc_id"))
    queries = pd.DataFrame({"query_id": [1, 1, 2, 3], "query": ["a", "a", "b", "c"],
                            "relevant_doc_id": [1, 99, 98, 2]})
    data = read_retrieval(corpus.head(2), queries)  # half the relevant ids found: read, with notes
    assert list(data.query_ids) == ["1", "3"] and [list(r) for r in data.relevant] == [[0], [1]]
    assert "2 relevant_doc_id(s) are not in the corpus" in data.notes[0]
    assert "left out (e.g. 2)" in data.notes[1]
    with pytest.raises(InputError, match="No query has both"):
        read_retrieval(corpus.head(2), queries.assign(query=""))


def test_a_join_that_finds_few_relevant_ids_is_refused_with_the_counts_before_any_embedding(news):
    from explorer.audits.retrieval import best_id_column, relevant_ids

    corpus = pd.DataFrame({"doc_id": news["article_id"], "text": news["text"]})
    queries = pd.DataFrame({"query_id": range(len(news)), "query": news["title"],
                            "relevant_doc_id": news["article_id"]})
    by_row_number = corpus.assign(doc_id=range(len(corpus)))  # the chunking lab's "(row number)" ids
    with pytest.raises(InputError, match=r"Only 0 of 40 distinct relevant ids \(0%\) are in column 'doc_id'"):
        read_retrieval(by_row_number, queries)
    chosen = best_id_column(corpus.assign(other=range(len(corpus))), relevant_ids(queries))
    assert chosen.column == "doc_id" and chosen.n_found == chosen.n_relevant == len(set(news["article_id"]))
    assert chosen.sentence() == "40 of 40 distinct relevant ids (100%) are in column 'doc_id'"


def test_cli_eval_json_and_gate(tmp_path, news, capsys):
    import json

    from ..cli import run_cli

    corpus, queries = tmp_path / "corpus.csv", tmp_path / "queries.csv"
    pd.DataFrame({"doc_id": news["article_id"], "text": news["text"]}).to_csv(corpus, index=False)
    pd.DataFrame({"query_id": news["article_id"], "query": news["title"],
                  "relevant_doc_id": news["article_id"]}).to_csv(queries, index=False)

    def cli(*args):
        return run_cli(capsys, "eval", "--corpus", corpus, "--queries", queries, "--model", "tfidf-svd", *args)

    result = cli("--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"model", "n_queries", "recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10",
                            "backend", "runs_on", "fingerprint"}
    assert summary["n_queries"] == 40 and 0 < summary["recall@1"] <= summary["recall@10"] <= 1
    gated = cli("-k", "3", "--fail-below-recall", "1.01", "--json")
    assert gated.returncode == 1 and "recall@3" in gated.stderr


def test_cached_evaluation_reports_progress_over_corpus_and_queries_and_gives_the_same_figures(news_set, tmp_path):
    from explorer.embedding.loading import load_encoder

    encoder = load_encoder("tfidf-svd").fit_on(list(news_set.doc_texts) + list(news_set.query_texts))
    n_texts = len(news_set.doc_texts) + len(news_set.query_texts)
    plain = evaluate(news_set, encoder, k=5)
    heard = []
    first = evaluate(news_set, encoder, k=5, cache_dir=tmp_path, progress=lambda *call: heard.append(call))
    assert heard[0] == (0, n_texts) and heard[-1] == (n_texts, n_texts)
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)
    heard.clear()
    second = evaluate(news_set, encoder, k=5, cache_dir=tmp_path, progress=lambda *call: heard.append(call))
    assert heard == [(n_texts, n_texts)]  # all from the cache: nothing for a bar to show
    for report in (first, second):
        assert report.metrics == pytest.approx(plain.metrics, abs=1e-6)
        np.testing.assert_array_equal(report.ranked[:, :5], plain.ranked[:, :5])


def test_a_model_fitted_on_the_corpus_embeds_the_queries_in_the_corpus_space(news_set):
    """TF-IDF once fitted the queries on themselves, into a space of their own: recall@10 was 0.06 on titles."""
    from explorer.embedding.loading import load_encoder

    unfitted = load_encoder("tfidf-svd")
    report = evaluate(news_set, unfitted, k=10)
    fitted = unfitted.fit_on(list(news_set.doc_texts))
    documents, queries = fitted.encode(news_set.doc_texts), fitted.encode(news_set.query_texts)
    ranking = np.argsort(-(queries @ documents.T), axis=1, kind="stable")
    expected = np.mean([np.isin(wanted, ranking[q, :10]).mean() for q, wanted in enumerate(news_set.relevant)])
    assert report.metrics["recall@10"] == pytest.approx(expected) and expected > 0.9
