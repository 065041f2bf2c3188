"""Similarity distributions and the calibration audit, against scikit-learn / scipy on real STS-B pairs."""

import numpy as np
import pandas as pd
import pytest

from explorer.analysis.similarity import similarity_profile, unit_rows
from explorer.audits.pairs import audit_pairs, pair_scores, read_pairs, roc_auc, spearman, threshold_curve
from explorer.build.sample import sts_pairs_file
from explorer.errors import InputError
from explorer.types import Embeddings


@pytest.fixture(scope="module")
def sts():
    return pd.read_csv(sts_pairs_file())


@pytest.fixture(scope="module")
def sts_audit(sts, minilm):
    pairs = read_pairs(sts.head(200))
    return audit_pairs(pairs, pair_scores(pairs, minilm), model=minilm.spec.id, threshold=0.7)


@pytest.mark.slow
def test_pair_scores_are_cosines(sts, minilm):
    pairs = read_pairs(sts.head(20))
    scores = pair_scores(pairs, minilm)
    first, second = minilm.encode(pairs.text_a), minilm.encode(pairs.text_b)
    expected = np.sum(first * second, axis=1) / np.linalg.norm(first, axis=1) / np.linalg.norm(second, axis=1)
    np.testing.assert_allclose(scores, expected, atol=1e-5)


@pytest.mark.slow
def test_graded_audit_equals_references(sts_audit):
    from scipy.stats import spearmanr
    from sklearn.metrics import f1_score, roc_auc_score

    audit, pairs = sts_audit, sts_audit.pairs
    assert pairs.relevant_from == pytest.approx(4.0) and pairs.graded is not None
    assert audit.auc == pytest.approx(roc_auc_score(pairs.relevant, audit.scores), abs=1e-12)
    assert audit.spearman == pytest.approx(spearmanr(audit.scores, pairs.graded).statistic, abs=1e-12)
    relevant = pairs.relevant
    assert audit.share_relevant_above == pytest.approx(np.mean(audit.scores[relevant] >= 0.7))
    assert audit.share_irrelevant_above == pytest.approx(np.mean(audit.scores[~relevant] >= 0.7))
    best_by_brute_force = max(f1_score(relevant, audit.scores >= t) for t in np.unique(audit.scores))
    assert audit.best_f1 == pytest.approx(best_by_brute_force, abs=1e-12)
    assert f1_score(relevant, audit.scores >= audit.best_threshold) == pytest.approx(audit.best_f1)
    low, high = audit.best_threshold_interval
    assert low <= audit.best_threshold <= high
    assert audit.auc > 0.8 and audit.spearman > 0.7  # MiniLM is a decent STS model


def test_threshold_curve_matches_scikit_learn():
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    rng = np.random.default_rng(0)
    scores = np.round(rng.uniform(0, 1, 300), 2)  # ties included
    relevant = rng.uniform(0, 1, 300) < scores
    curve = threshold_curve(scores, relevant)
    for _, row in curve.sample(20, random_state=0).iterrows():
        predicted = scores >= row["threshold"]
        assert row["precision"] == pytest.approx(precision_score(relevant, predicted))
        assert row["recall"] == pytest.approx(recall_score(relevant, predicted))
    assert roc_auc(scores, relevant) == pytest.approx(roc_auc_score(relevant, scores))
    assert spearman(scores, scores ** 2) == pytest.approx(1.0)


@pytest.mark.slow
def test_binary_labels_and_one_class(sts, minilm):
    labelled = sts.head(60).assign(label=(sts.head(60)["score"] >= 4).astype(int)).drop(columns="score")
    pairs = read_pairs(labelled)
    assert pairs.graded is None and pairs.relevant_from is None
    audit = audit_pairs(pairs, pair_scores(pairs, minilm), model="m")
    assert audit.spearman is None and audit.auc is not None
    one_class = read_pairs(labelled.assign(label=1))
    audit = audit_pairs(one_class, pair_scores(one_class, minilm), model="m")
    assert audit.auc is None and audit.best_threshold is None and "undefined" in audit.notes[0]
    assert audit.summary()["auc"] is None and audit.summary()["share_relevant_above"] is not None


def test_bad_pairs_files():
    with pytest.raises(InputError, match="missing: text_b"):
        read_pairs(pd.DataFrame({"text_a": ["a"], "label": [1]}))
    with pytest.raises(InputError, match="'label' column"):
        read_pairs(pd.DataFrame({"text_a": ["a"], "text_b": ["b"]}))
    with pytest.raises(InputError, match="must be 1 .relevant. or 0"):
        read_pairs(pd.DataFrame({"text_a": ["a", "b"], "text_b": ["b", "c"], "label": [1, "yes"]}))
    with pytest.raises(InputError, match="must be 1 .relevant. or 0"):
        read_pairs(pd.DataFrame({"text_a": ["a", "b"], "text_b": ["b", "c"], "label": [1, 2]}))
    with pytest.raises(InputError, match="empty text"):
        read_pairs(pd.DataFrame({"text_a": ["", " "], "text_b": ["b", "c"], "label": [1, 0]}))
    pairs = read_pairs(pd.DataFrame({"text_a": ["", "x y"], "text_b": ["b", "c d"], "label": [1, 0]}))
    assert len(pairs.text_a) == 1 and "1 pair(s) with an empty text" in pairs.notes[0]


def test_similarity_profile_on_real_tweets(small_workspace):
    embeddings = small_workspace.embeddings()
    clustering = small_workspace.clustering().clustering
    profile = similarity_profile(embeddings, clustering.labels, knn=small_workspace.knn(), k=10)
    unit = unit_rows(embeddings.vectors)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    np.testing.assert_allclose(profile.nearest, similarity.max(axis=1), atol=1e-5)
    occurrence = np.bincount(np.argsort(-similarity, axis=1)[:, :10].ravel(), minlength=len(unit))
    # Copies of one tweet tie, and which copy makes a top 10 is the machine's choice: compare per distinct vector.
    _, copy_of = np.unique(embeddings.vectors, axis=0, return_inverse=True)
    np.testing.assert_array_equal(np.bincount(copy_of, weights=profile.k_occurrence),
                                  np.bincount(copy_of, weights=occurrence))
    from scipy.stats import skew

    assert profile.hubness == pytest.approx(skew(profile.k_occurrence), abs=1e-9)
    off_diagonal = similarity[np.isfinite(similarity)]
    assert profile.anisotropy == pytest.approx(off_diagonal.mean(), abs=0.01)
    assert np.median(profile.within) > np.median(profile.between)
    centred = similarity_profile(embeddings, clustering.labels, centre=True, k=10)
    assert abs(centred.anisotropy) < abs(profile.anisotropy) and centred.centred
    assert "anisotropy" in profile.anisotropy_sentence() and "skewness" in profile.hubness_sentence()
    with pytest.raises(InputError, match="at least 3 points"):
        similarity_profile(Embeddings(embeddings.vectors[:2], "m", "f", True), np.zeros(2, int))


def test_cli_audit_json_and_failure_gate(tmp_path, capsys):
    import json

    from ..cli import run_cli

    def cli(*args):
        return run_cli(capsys, "audit", *args)

    result = cli(str(sts_pairs_file()), "--model", "tfidf-svd", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"model", "n_pairs", "threshold", "auc", "share_relevant_above", "share_irrelevant_above",
                            "best_threshold", "best_f1", "spearman", "backend", "runs_on", "fingerprint"}
    assert summary["fingerprint"].startswith("tfidf-svd@scikit-learn==")
    assert summary["n_pairs"] == 500 and 0.5 < summary["auc"] <= 1 and summary["spearman"] is not None
    gated = cli(str(sts_pairs_file()), "--model", "tfidf-svd", "--fail-below-auc", "0.999", "--json")
    assert gated.returncode == 1 and json.loads(gated.stdout)["auc"] < 0.999
    bad = tmp_path / "pairs.csv"
    pd.DataFrame({"text_a": ["a b"], "text_b": ["c d"], "label": ["maybe"]}).to_csv(bad, index=False)
    refused = cli(str(bad), "--model", "tfidf-svd")
    assert refused.returncode == 2 and "must be 1" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_neighbourhood_overlap_between_two_models(small_workspace):
    from explorer.analysis.compare import compare_models
    from explorer.analysis.similarity import neighbourhood_overlap
    from explorer.embedding.loading import load_encoder
    from explorer.types import Neighbors

    same = compare_models(small_workspace, load_encoder("all-MiniLM-L6-v2", backend="torch"), k=10)
    np.testing.assert_allclose(same, 1.0)  # the workspace's own model: nothing moves
    other = compare_models(small_workspace, load_encoder("wordllama-l2"), k=10)
    assert other.shape == (400,) and 0 < other.mean() < 1 and ((other >= 0) & (other <= 1)).all()
    a = Neighbors(np.array([[1, 2, 3], [0, 2, 3]]), np.zeros((2, 3), np.float32), "cosine")
    b = Neighbors(np.array([[3, 2, 4], [4, 5, 6]]), np.zeros((2, 3), np.float32), "cosine")
    np.testing.assert_allclose(neighbourhood_overlap(a, b, k=3), [2 / 3, 0.0])
    np.testing.assert_allclose(neighbourhood_overlap(a, b, k=1), [0.0, 0.0])


def test_the_hubness_sentence_scales_with_the_figure():
    from explorer.analysis.similarity import SimilarityProfile

    def sentence(skewness, occurrence):
        empty = np.zeros(0)
        return SimilarityProfile(empty, empty, empty, empty, 0.1, skewness, np.array(occurrence), 10,
                                 False).hubness_sentence()

    few = [60] * 4 + [9] * 3000
    assert "some hubness: 4 points are among the 10 nearest" in sentence(1.28, few)
    assert "keep returning" not in sentence(1.28, few)
    many = [80] * 100 + [5] * 3000
    assert "strong hubs" in sentence(4.0, many) and "keep returning the same texts" in sentence(4.0, many)
    assert "no strong hubs" in sentence(0.4, few)
