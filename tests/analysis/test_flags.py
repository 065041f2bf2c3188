"""Near-duplicates and outliers on real tweets, against brute-force numpy, scikit-learn and hdbscan."""

import numpy as np
import pytest

from explorer.analysis.flags import (
    cosine_neighbours,
    exact_duplicate_groups,
    local_outlier_factor,
    near_duplicates,
    outlier_scores,
    word_diff,
)
from explorer.errors import InputError
from explorer.mapping.index import VectorIndex
from explorer.types import Embeddings


@pytest.fixture(scope="module")
def wordllama():
    from explorer.embedding.loading import load_encoder

    return load_encoder("wordllama-l2")


@pytest.fixture(scope="module")
def all_tweets(tweets, wordllama):
    """The 3,008 sample tweets, embedded with WordLlama (fast; the pair search does not depend on the model)."""
    texts = tweets["text"].tolist()
    return texts, Embeddings(wordllama.encode(texts), wordllama.spec.id, wordllama.fingerprint, True)


def _embeddings(encoder, texts):
    return Embeddings(encoder.encode(texts), encoder.spec.id, encoder.fingerprint, True)


def _brute_force_pairs(vectors, threshold):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit.T
    a, b = np.nonzero(np.triu(similarity >= threshold, k=1))
    return {(int(x), int(y)): float(similarity[x, y]) for x, y in zip(a, b)}


@pytest.mark.slow
@pytest.mark.parametrize("threshold", [0.85, 0.95])
def test_pairs_equal_brute_force_all_pairs(all_tweets, threshold):
    _, embeddings = all_tweets
    index = VectorIndex.build(embeddings)
    found = near_duplicates(embeddings, index.knn_graph(embeddings, 30), threshold, index=index)
    expected = _brute_force_pairs(embeddings.vectors, threshold)
    ours = {(int(a), int(b)): float(s) for a, b, s in zip(found.a, found.b, found.scores)}
    # float32 rounding may tip pairs within 1e-5 of the threshold either way
    borderline = {pair for pair, score in {**expected, **ours}.items() if abs(score - threshold) < 1e-5}
    assert set(ours) - borderline == set(expected) - borderline
    assert len(expected) > 20
    for pair in set(ours) & set(expected):
        assert ours[pair] == pytest.approx(expected[pair], abs=1e-5)
    assert (np.diff(found.scores) <= 1e-7).all() and (found.a < found.b).all()


@pytest.mark.slow
def test_planted_near_duplicates_of_real_tweets_are_found(tweets, minilm):
    originals = tweets["text"].iloc[1000:1300].tolist()
    edits = [text.replace("http", "https", 1) + " #health" for text in originals[:10]]
    edits += ["RT " + text.lower() for text in originals[10:20]]
    texts = originals + edits
    embeddings = _embeddings(minilm, texts)
    # Lower-casing a short headline and prefixing "RT" costs up to ~0.13 cosine with MiniLM.
    found = near_duplicates(embeddings, cosine_neighbours(embeddings), 0.85)
    pairs = set(zip(found.a.tolist(), found.b.tolist()))
    for planted, original in enumerate(range(20)):
        assert (original, 300 + planted) in pairs
        assert found.groups[original] == found.groups[300 + planted] >= 0


@pytest.mark.slow
def test_a_corpus_of_one_text_repeated_is_one_group(tweets, minilm):
    texts = [tweets["text"].iloc[5]] * 45 + tweets["text"].iloc[100:110].tolist()
    embeddings = _embeddings(minilm, texts)
    knn = cosine_neighbours(embeddings, k=30)
    found = near_duplicates(embeddings, knn, 0.95)
    # 45 copies: each row has 44 copies among its neighbours, more than the 30 the graph holds.
    assert {(a, b) for a, b in zip(found.a.tolist(), found.b.tolist()) if b < 45} == {
        (a, b) for a in range(45) for b in range(a + 1, 45)}
    assert len(set(found.groups[:45])) == 1 and found.groups[0] == 0
    assert [list(group) for group in exact_duplicate_groups(texts)] == [list(range(45))]


@pytest.mark.slow
def test_no_duplicates_and_bad_thresholds(all_tweets):
    texts, embeddings = all_tweets
    distinct = sorted({text: row for row, text in enumerate(texts)}.values())[:200]
    subset = Embeddings(embeddings.vectors[distinct], embeddings.model_id, embeddings.fingerprint, True)
    found = near_duplicates(subset, cosine_neighbours(subset), 0.9999)
    assert len(found.a) == 0 and found.n_groups == 0 and (found.groups == -1).all()
    for threshold in (1.5, -1.01):
        with pytest.raises(InputError, match="between -1 and 1"):
            near_duplicates(subset, cosine_neighbours(subset), threshold)


def test_chains_are_flagged():
    angles = np.radians([0.0, 15.0, 30.0, 90.0, 180.0])
    vectors = np.column_stack([np.cos(angles), np.sin(angles)]).astype(np.float32)
    embeddings = Embeddings(vectors, "unit-circle", "unit-circle", True)
    found = near_duplicates(embeddings, cosine_neighbours(embeddings, k=4), float(np.cos(np.radians(20))))
    assert set(zip(found.a.tolist(), found.b.tolist())) == {(0, 1), (1, 2)}
    assert found.groups.tolist() == [0, 0, 0, -1, -1]
    weakest, first, second = found.weakest[0]
    assert weakest == pytest.approx(np.cos(np.radians(30)), abs=1e-6) and {first, second} == {0, 2}
    assert found.chained_groups() == [0]


def test_word_diff_marks_only_the_changed_words():
    first, second = word_diff("Ebola vaccine trial starts in Guinea", "Ebola vaccine trials start in Guinea today")
    assert [word for word, changed in first if changed] == ["trial", "starts"]
    assert [word for word, changed in second if changed] == ["trials", "start", "today"]


def test_outlier_scores_match_references(small_workspace):
    import hdbscan
    from sklearn.neighbors import LocalOutlierFactor

    embeddings = small_workspace.embeddings()
    distinct = sorted({tuple(v): row for row, v in enumerate(embeddings.vectors.round(6))}.values())
    subset = Embeddings(embeddings.vectors[distinct], embeddings.model_id, embeddings.fingerprint, True)
    knn = cosine_neighbours(subset)
    saved = small_workspace.clustering()
    clustering = saved.clustering
    scores = outlier_scores(knn, clustering.outlier_scores[distinct], k=10)

    unit = subset.vectors / np.linalg.norm(subset.vectors, axis=1, keepdims=True)
    distance = 1 - unit @ unit.T
    np.fill_diagonal(distance, np.inf)
    np.testing.assert_allclose(scores.knn_distance, np.sort(distance, axis=1)[:, :10].mean(axis=1), atol=1e-5)
    reference = LocalOutlierFactor(n_neighbors=10, metric="cosine", algorithm="brute").fit(subset.vectors)
    np.testing.assert_allclose(scores.lof, -reference.negative_outlier_factor_, rtol=1e-3)

    # GLOSH: the workspace's stored scores are the hdbscan library's on the 5-D layout (with an exact spanning tree,
    # as fast_hdbscan builds; where distances tie the two trees may differ in an edge, moving a few scores).
    refit = hdbscan.HDBSCAN(min_cluster_size=saved.config.min_cluster_size, min_samples=saved.config.min_samples,
                            approx_min_span_tree=False).fit(small_workspace.layout(5).astype(np.float64))
    same = np.abs(clustering.outlier_scores - np.nan_to_num(refit.outlier_scores_)) < 1e-6
    assert same.mean() >= 0.95

    assert sorted(scores.rank.tolist()) == list(range(1, len(distinct) + 1))
    top = int(np.argmin(scores.rank))
    assert scores.reasons(top) and all("top" in reason for reason in scores.reasons(top))


def test_lof_by_hand_on_a_line():
    # Points 0, 1, 2 evenly spaced, 10 far away; k = 1.
    neighbours = np.array([[1], [0], [1], [2]])
    distances = np.array([[1.0], [1.0], [1.0], [8.0]])
    lof = local_outlier_factor(neighbours, distances)
    # reach(3 -> 2) = max(1, 8) = 8: density 1/8 against its neighbour's 1, so LOF = 8.
    assert lof[3] == pytest.approx(8.0, rel=1e-6) and lof[:3] == pytest.approx([1.0, 1.0, 1.0], rel=1e-6)


def test_outliers_need_a_few_points():
    from explorer.types import Neighbors

    knn = Neighbors(np.array([[1], [0]]), np.array([[0.5], [0.5]], np.float32), "cosine")
    with pytest.raises(InputError, match="at least 3 points"):
        outlier_scores(knn, np.zeros(2))


def test_workspace_flags_are_saved_at_build_and_kept_on_recluster(small_workspace, tmp_path):
    import shutil

    from explorer.analysis.quality import find_duplicates, find_outliers
    from explorer.build.flags import save_flags
    from explorer.build.recluster import recluster
    from explorer.mapping.cluster import ClusterConfig
    from explorer.workspace import Workspace

    flags = small_workspace.flags().table
    assert list(flags.columns) == ["duplicate_group", "exact_duplicate_group", "duplicate_decision", "outlier_rank",
                                   "outlier_combined", "outlier_knn_distance", "outlier_lof"]
    assert len(flags) == 400 and sorted(flags["outlier_rank"]) == list(range(1, 401))
    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "copy"))
    pairs = find_duplicates(copy, 0.7)
    grouped = np.flatnonzero(pairs.groups >= 0)
    save_flags(copy.path, copy.points()["text"].tolist(), pairs, find_outliers(copy), {int(grouped[0])})
    recluster(copy, ClusterConfig(min_cluster_size=30, min_samples=10))
    after = copy.flags().table
    assert after["duplicate_decision"].tolist().count("drop") == 1
    assert after["duplicate_decision"].iloc[grouped[0]] == "drop"
    clustering = copy.clustering().clustering
    np.testing.assert_allclose(find_outliers(copy).combined, after["outlier_combined"], atol=1e-6)
    assert not np.allclose(clustering.outlier_scores, small_workspace.clustering().clustering.outlier_scores)


def test_cli_dupes_and_outliers_json(small_workspace, capsys):
    import json

    from ..cli import run_cli

    def cli(*args):
        return run_cli(capsys, *args)

    result = cli("dupes", str(small_workspace.path), "--threshold", "0.7", "--json")
    assert result.returncode == 0, result.stderr
    dupes = json.loads(result.stdout)
    assert {"threshold", "n_pairs", "pairs", "groups", "exact_groups"} <= set(dupes)
    assert dupes["threshold"] == 0.7 and dupes["n_pairs"] == len(dupes["pairs"]) > 0
    ids = set(small_workspace.points()["id"])
    assert all(pair["a"] in ids and pair["b"] in ids and pair["score"] >= 0.7 for pair in dupes["pairs"])
    assert all(len(group) >= 2 for group in dupes["groups"])
    result = cli("outliers", str(small_workspace.path), "--top", "5", "--json")
    assert result.returncode == 0, result.stderr
    top = json.loads(result.stdout)["results"]
    assert [row["rank"] for row in top] == [1, 2, 3, 4, 5]
    assert {"rank", "id", "score", "text", "reasons"} <= set(top[0]) and top[0]["reasons"]
    bad = cli("dupes", str(small_workspace.path), "--threshold", "1.5")
    assert bad.returncode == 2 and "between -1 and 1" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_a_workspace_of_one_repeated_text_is_one_duplicate_group(tweets, minilm, tmp_path):
    import pandas as pd

    from explorer.analysis.quality import find_duplicates, find_outliers
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    table = pd.DataFrame({"text": [tweets["text"].iloc[7]] * 40})
    workspace = build_workspace(table, BuildConfig(IngestConfig("text")), tmp_path / "same", source="t",
                                encoder=minilm)
    pairs = find_duplicates(workspace, 0.95)
    assert len(pairs.a) == 40 * 39 // 2 and set(pairs.groups) == {0} and not pairs.chained_groups()
    flags = workspace.flags().table
    assert (flags["exact_duplicate_group"] == 0).all()
    assert flags["duplicate_decision"].tolist() == ["keep"] + ["drop"] * 39
    assert np.isfinite(find_outliers(workspace, k=50).combined).all()


def test_identical_copies_are_counted_not_enumerated(tweet_vectors, monkeypatch):
    """600 copies of one real vector and 60 other real vectors, a few of them copied too: the pair count and the
    groups equal brute force, while the listing stays linear (each group of copies as a star)."""
    from explorer.analysis import flags

    monkeypatch.setattr(flags, "MAX_LISTED_PAIRS", 1_000)
    vectors = np.vstack([np.repeat(tweet_vectors.vectors[:1], 600, axis=0), tweet_vectors.vectors[1:61],
                         tweet_vectors.vectors[5:8]])
    embeddings = Embeddings(vectors, tweet_vectors.model_id, tweet_vectors.fingerprint, True)
    found = near_duplicates(embeddings, cosine_neighbours(embeddings), 0.9)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit.T
    identical = (vectors[:, None, :] == vectors[None, :, :]).all(axis=2)
    expected = np.triu((similarity >= 0.9) | identical, k=1)
    assert found.n_pairs == int(expected.sum()) >= 600 * 599 // 2 and found.capped
    assert len(found.a) <= 1_000 and (found.a < found.b).all()
    listed = set(zip(found.a.tolist(), found.b.tolist()))
    assert {(0, row) for row in range(1, 600)} <= listed  # the star of the big group
    assert all(expected[a, b] for a, b in listed)
    import scipy.sparse.csgraph

    _, labels = scipy.sparse.csgraph.connected_components(expected | expected.T, directed=False)
    in_pair = (expected | expected.T).any(axis=1)
    ours = found.groups
    assert ((ours >= 0) == in_pair).all()
    for group in set(ours[ours >= 0].tolist()):
        assert len(set(labels[ours == group].tolist())) == 1


def test_small_groups_of_copies_are_still_listed_in_full(tweet_vectors):
    vectors = np.vstack([np.repeat(tweet_vectors.vectors[:1], 5, axis=0), tweet_vectors.vectors[1:40]])
    embeddings = Embeddings(vectors, tweet_vectors.model_id, tweet_vectors.fingerprint, True)
    found = near_duplicates(embeddings, cosine_neighbours(embeddings, k=3), 0.95)
    assert {(a, b) for a, b in zip(found.a.tolist(), found.b.tolist()) if b < 5} == {
        (a, b) for a in range(5) for b in range(a + 1, 5)}
    assert not found.capped and found.scores[0] == 1.0


def test_a_few_copies_are_found_in_the_rows_own_graph(tweet_vectors):
    """Copies no more numerous than a row's neighbours find each other in the graph as it is: no second index, and
    every pair equals brute force."""
    from explorer.analysis.flags import distinct_vectors

    vectors = np.vstack([tweet_vectors.vectors[:100], np.repeat(tweet_vectors.vectors[3:4], 3, axis=0),
                         tweet_vectors.vectors[7:8]])
    embeddings = Embeddings(vectors, tweet_vectors.model_id, tweet_vectors.fingerprint, True)
    assert distinct_vectors(embeddings, k=10) is None and distinct_vectors(embeddings, k=3) is not None
    found = near_duplicates(embeddings, cosine_neighbours(embeddings, k=10), 0.9)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = np.argwhere(np.triu(unit @ unit.T >= 0.9 - 1e-6, k=1))
    assert {(a, b) for a, b in zip(found.a.tolist(), found.b.tolist())} == {(a, b) for a, b in expected.tolist()}
    assert {(3, 100), (3, 101), (3, 102), (100, 101), (7, 103)} <= set(zip(found.a.tolist(), found.b.tolist()))
