"""New data on a frozen map: placement, query coverage and batch drift, each figure against numpy / scipy.

The fast tests place 100 real held-out tweets (their real MiniLM vectors, from the committed fixture) on a map of
the 300 tweets before them; the slow ones embed new text with the real model.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, percentileofscore

from explorer import cli
from explorer.analysis.coverage import cluster_coverage, hub_threshold, queries_table, query_coverage
from explorer.analysis.domain import COPY_COSINE, DomainLine, domain_line, nearest_distinct
from explorer.analysis.drift import batch_drift, novel_table
from explorer.analysis.placement import check_same_model, new_texts, place_texts
from explorer.build.sample import sts_pairs_file
from explorer.errors import InputError

from ..conftest import ROOT, _replayed_minilm


@pytest.fixture(scope="module")
def first_300(tweets, tmp_path_factory):
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    config = BuildConfig(IngestConfig("text", "tweet_id", ("outlet",)))
    return build_workspace(tweets.head(300), config, tmp_path_factory.mktemp("ws") / "tweets-300", source="test",
                           encoder=_replayed_minilm())


@pytest.fixture(scope="module")
def held_out(small_workspace):
    """The 100 fixture tweets after the first 300, as the workspace cleaned them."""
    return small_workspace.points()["text"].tolist()[300:]


def _unit(vectors):
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_placed_texts_have_their_exact_neighbours_and_land_beside_them(first_300, held_out):
    placed = place_texts(first_300, held_out, _replayed_minilm(), queries=True, k=10)
    corpus = _unit(first_300.embeddings().vectors)
    cosine = _unit(placed.embeddings.vectors) @ corpus.T
    np.testing.assert_allclose(placed.hit_cosine, np.take_along_axis(cosine, placed.hits, axis=1), atol=1e-5)
    np.testing.assert_allclose(placed.hit_cosine, -np.sort(-cosine, axis=1)[:, :10], atol=1e-5)
    layout = first_300.layout(2)
    span = np.ptp(layout, axis=0).max()
    # A placed text lands near its nearest neighbours: closer to its first neighbour than a random point is.
    to_first = np.linalg.norm(placed.coords - layout[placed.hits[:, 0]], axis=1)
    to_random = np.linalg.norm(placed.coords - layout[np.random.default_rng(0).integers(0, 300, 100)], axis=1)
    assert np.median(to_first) < 0.5 * np.median(to_random) and np.median(to_first) < 0.2 * span


def test_a_corpus_text_placed_again_lands_on_itself(first_300):
    texts = first_300.points()["text"].tolist()[:20]
    placed = place_texts(first_300, texts, _replayed_minilm(), queries=False, k=5)
    np.testing.assert_allclose(placed.hit_cosine[:, 0], 1.0, atol=1e-5)
    layout = first_300.layout(2)
    own = np.linalg.norm(placed.coords - layout[:20], axis=1)
    assert np.median(own) < 0.05 * np.ptp(layout, axis=0).max()


def test_query_coverage_counts_match_a_plain_recount(first_300, held_out):
    placed = place_texts(first_300, held_out, _replayed_minilm(), queries=True, k=10)
    coverage = query_coverage(first_300, placed)
    np.testing.assert_array_equal(coverage.hit_counts, np.bincount(placed.hits.ravel(), minlength=300))
    labels = first_300.clustering().clustering.labels
    frame = pd.DataFrame({"query": np.repeat(np.arange(100), 10), "cluster": labels[placed.hits.ravel()]})
    expected = frame[frame["cluster"] >= 0].groupby("cluster").agg(hits=("query", "size"),
                                                                  queries=("query", "nunique"))
    table = coverage.clusters.set_index("cluster")
    for cluster, row in table.iterrows():
        found = expected.loc[cluster] if cluster in expected.index else pd.Series({"hits": 0, "queries": 0})
        assert (row["hits"], row["queries"]) == (found["hits"], found["queries"])
        assert row["size"] == (labels == cluster).sum()
    assert set(coverage.uncovered()["cluster"]) == set(table.index) - set(expected.index)
    # The domain line from every pair of the corpus (numpy): the 5th percentile of each point's best cosine with
    # another point that is not its copy.
    corpus = _unit(first_300.embeddings().vectors)
    similarity = corpus @ corpus.T
    np.fill_diagonal(similarity, -np.inf)
    distinct = np.where(similarity < COPY_COSINE, similarity, -np.inf).max(axis=1)
    assert coverage.relevance_line == pytest.approx(np.percentile(distinct, 5), abs=1e-4)
    best = (_unit(placed.embeddings.vectors) @ corpus.T).max(axis=1)
    assert np.mean(coverage.answered() == (best >= np.percentile(distinct, 5))) >= 0.98  # float ties aside
    assert coverage.mostly_unanswered() == ((~coverage.answered()).mean() > 0.5)
    table = queries_table(coverage, first_300.points(), labels, first_300.clustering().keywords)
    assert len(table) == 100 and not table["answered"].iloc[-1] < table["answered"].iloc[0]


def test_hub_threshold_is_what_random_top_k_lists_rarely_reach():
    threshold = hub_threshold(300, 100, 10)
    assert 300 * binom.sf(threshold - 1, 100, 10 / 300) < 1 <= 300 * binom.sf(threshold - 2, 100, 10 / 300)
    rng = np.random.default_rng(0)
    reached = [(np.bincount(np.concatenate([rng.choice(300, 10, replace=False) for _ in range(100)]),
                            minlength=300) >= threshold).sum() for _ in range(200)]
    assert np.mean(reached) < 1
    assert hub_threshold(10, 3, 10) == 4  # every query returns every point: nobody is unusual


def test_cluster_coverage_leaves_noise_out_and_counts_distinct_queries():
    from explorer.types import ClusterKeywords

    labels = np.array([0, 0, 1, 1, 1, -1])
    hits = np.array([[0, 1, 5], [5, 2, -1]])
    table = cluster_coverage(labels, hits, ClusterKeywords({0: ["a"], 1: ["b"]}))
    assert table.to_dict("list") == {"cluster": [1, 0], "name": ["1: b", "0: a"], "size": [3, 2], "hits": [1, 2],
                                     "queries": [1, 1]}


def test_batch_drift_novelty_and_shares_against_scipy_and_pandas(first_300, held_out):
    placed = place_texts(first_300, held_out, _replayed_minilm(), queries=False, k=10)
    drift = batch_drift(first_300, placed)
    corpus = _unit(first_300.embeddings().vectors)
    within = corpus @ corpus.T
    np.fill_diagonal(within, -np.inf)
    own = within.max(axis=1)
    nearest = (_unit(placed.embeddings.vectors) @ corpus.T).max(axis=1)
    np.testing.assert_allclose(drift.nearest_cosine, nearest, atol=1e-5)
    np.testing.assert_allclose(drift.novelty, [100 - percentileofscore(own, value, kind="weak") for value in
                                               drift.nearest_cosine], atol=1e-9)
    labels = first_300.clustering().clustering.labels
    for row, neighbours in enumerate(placed.hits):
        counts = pd.Series(labels[neighbours]).value_counts()
        if drift.novelty[row] > 95:
            assert drift.assigned[row] == -1
        else:
            assert counts[drift.assigned[row]] == counts.max()
    assert 0 < (drift.novelty > 95).sum() < 100
    shares = drift.shares.set_index("cluster")
    before = pd.Series(labels).value_counts(normalize=True)
    batch = pd.Series(drift.assigned).value_counts(normalize=True)
    for cluster, row in shares.iterrows():
        assert row["before"] == pytest.approx(before.get(cluster, 0.0))
        assert row["batch_share"] == pytest.approx(batch.get(cluster, 0.0))
    assert drift.total_variation == pytest.approx(0.5 * (batch.reindex(shares.index, fill_value=0)
                                                         - before.reindex(shares.index, fill_value=0)).abs().sum())
    listed = novel_table(drift, first_300.points(), top=5)
    assert listed["nearest_cosine"].is_monotonic_increasing and len(listed) == 5


def test_a_batch_of_the_corpus_itself_is_not_novel(first_300):
    placed = place_texts(first_300, first_300.points()["text"].tolist()[:50], _replayed_minilm(), queries=False)
    drift = batch_drift(first_300, placed)
    assert (drift.novelty <= 1.0).all()  # each sits on its own copy, as close as the closest corpus pairs


def test_novelty_and_the_domain_line_at_their_edges():
    line = DomainLine(np.array([0.2, 0.5, 0.5, 0.9]))
    np.testing.assert_allclose(line.novelty(np.array([0.1, 0.5, 0.95])), [100.0, 25.0, 0.0])
    assert line.line == pytest.approx(np.percentile([0.2, 0.5, 0.5, 0.9], 5))
    assert line.in_domain(np.array([0.1, 0.5, 0.95])).tolist() == [False, True, True]
    # Copies are passed over: a row of copies keeps its last neighbour.
    scores = np.array([[1.0, 0.99, 0.7, 0.6], [0.8, 0.7, 0.6, 0.5], [1.0, 1.0, 0.99, 0.985]])
    assert nearest_distinct(scores).tolist() == pytest.approx([0.7, 0.8, 0.985])
    assert domain_line(scores).corpus_nearest.tolist() == pytest.approx([0.7, 0.8, 0.985])


def test_coverage_and_drift_agree_on_held_out_tweets(first_300, held_out):
    """One rule: the held-out tweets of the corpus are mostly answered as queries and mostly not novel as a batch,
    and a query is answered exactly when the same text is not novel."""
    placed = place_texts(first_300, held_out, _replayed_minilm(), queries=False, k=10)
    coverage, drift = query_coverage(first_300, placed), batch_drift(first_300, placed)
    assert coverage.answered().mean() >= 0.85 and not coverage.mostly_unanswered()
    assert (drift.novelty > 95).mean() <= 0.15
    np.testing.assert_array_equal(coverage.answered(), drift.novelty <= 95)


def test_bad_new_data_is_explained(first_300):
    with pytest.raises(InputError, match="holds no text"):
        new_texts(pd.DataFrame({"query": ["", None, "  "]}), kind="queries")
    with pytest.raises(InputError, match="no column 'nope'"):
        new_texts(pd.DataFrame({"query": ["a"]}), kind="queries", column="nope")
    assert new_texts(pd.DataFrame({"id": [1, 2], "query": ["a", "b"], "notes": ["longer text", "x"]}),
                     kind="queries") == ["a", "b"]
    with pytest.raises(InputError, match="would not land in the same space"):
        check_same_model(first_300.manifest.model, "wordllama-l2-supercat")
    with pytest.raises(InputError, match="k must be between"):
        place_texts(first_300, ["a"], _replayed_minilm(), queries=True, k=0)


def test_cli_refuses_another_model_and_a_file_without_text(first_300, tmp_path, capsys):
    queries = tmp_path / "queries.csv"
    queries.write_text("query\nebola\n")
    assert cli.main(["coverage", str(first_300.path), "--queries", str(queries), "--model", "e5-small-v2"]) == 2
    assert "would not land in the same space" in capsys.readouterr().err
    empty = tmp_path / "batch.csv"
    empty.write_text("text\n\"\"\n")
    assert cli.main(["drift", str(first_300.path), "--batch", str(empty)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "holds no text" in error


@pytest.mark.slow
def test_texts_of_other_corpora_are_mostly_unanswered_and_novel_and_held_out_tweets_are_not(small_workspace, tweets,
                                                                                           news, minilm):
    """Known cases on real corpora (the rule's measured error rates are in benchmarks/domain_rule.py)."""
    sentences = pd.read_csv(sts_pairs_file())["text_a"].drop_duplicates().head(100)
    first_sentences = news["text"].str.split(r"(?<=[.!?])\s+", regex=True).str[0]
    cases = {"held-out tweets": (tweets["text"].iloc[400:500].tolist(), True),
             "STS-B sentences": (sentences.tolist(), False), "news articles' first sentences":
             (first_sentences.tolist(), False)}
    for name, (texts, in_domain) in cases.items():
        placed = place_texts(small_workspace, texts, minilm, queries=True, k=10)
        answered = query_coverage(small_workspace, placed).answered().mean()
        novel = (batch_drift(small_workspace, placed).novelty > 95).mean()
        assert (answered > 0.5 and novel < 0.5) if in_domain else (answered < 0.5 and novel > 0.5), name


@pytest.mark.slow
def test_cli_coverage_and_drift_with_the_real_model(small_workspace, news, tmp_path, capsys):
    english = ["ebola outbreak in west africa", "flu vaccine for children", "obesity and heart disease",
               "cancer screening guidelines", "mental health of teenagers", "smoking and lung cancer"]
    other = ["红烧肉的做法", "机器学习模型训练", "今天天气很好", "足球比赛结果", "股票市场分析", "如何学习中文"]
    queries = tmp_path / "queries.csv"
    pd.DataFrame({"query": english}).to_csv(queries, index=False)
    assert cli.main(["coverage", str(small_workspace.path), "--queries", str(queries), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"]["n_queries"] == 6 and not printed["summary"]["mostly_unanswered"]
    pd.DataFrame({"query": other}).to_csv(queries, index=False)
    assert cli.main(["coverage", str(small_workspace.path), "--queries", str(queries), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"]["mostly_unanswered"]
    assert any("language" in sentence for sentence in printed["sentences"])

    batch = tmp_path / "batch.csv"
    fresh = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "health_tweets.csv")["text"].iloc[2000:2040]
    off_topic = news["text"].str.slice(0, 300).head(40)
    pd.DataFrame({"text": pd.concat([fresh, off_topic])}).to_csv(batch, index=False)
    assert cli.main(["drift", str(small_workspace.path), "--batch", str(batch), "--json", "--top", "10"]) == 0
    printed = json.loads(capsys.readouterr().out)
    novelty = np.array(printed["novelty"])
    assert len(novelty) == 80 and np.median(novelty[40:]) > np.median(novelty[:40])
    assert printed["summary"]["n_new"] == 80 and len(printed["most_novel"]) == 10
