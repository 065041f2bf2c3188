"""Label audit by k-NN on real tweets labelled by their outlet, against scikit-learn's KNeighborsClassifier."""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from explorer import cli
from explorer.audits.labels import audit_labels
from explorer.errors import InputError


@pytest.fixture(scope="module")
def outlet_audit(small_workspace):
    return audit_labels(small_workspace, "outlet", k=10)


def test_leave_one_out_votes_match_scikit_learn(small_workspace, outlet_audit):
    vectors = small_workspace.embeddings().vectors.astype(np.float64)
    given = small_workspace.points()["outlet"].astype(str).to_numpy()
    theirs = cross_val_predict(KNeighborsClassifier(n_neighbors=10, metric="cosine", algorithm="brute"),
                               vectors, given, cv=LeaveOneOut())
    ours = outlet_audit.classes[outlet_audit.predicted]
    # Where the 10th and 11th neighbours are equally far, either may vote: compare the others exactly.
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    ordered = -np.sort(-cosine, axis=1)
    clear = ordered[:, 9] - ordered[:, 10] > 1e-5
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(ours[clear], theirs[clear])
    assert outlet_audit.accuracy == pytest.approx((theirs == given).mean(), abs=0.01)


def test_figures_match_scikit_learn_metrics(small_workspace, outlet_audit):
    given = outlet_audit.classes[outlet_audit.labels]
    predicted = outlet_audit.classes[outlet_audit.predicted]
    assert outlet_audit.macro_f1 == pytest.approx(f1_score(given, predicted, average="macro", zero_division=0))
    precision, recall, _, support = precision_recall_fscore_support(given, predicted, labels=outlet_audit.classes,
                                                                    zero_division=0)
    table = outlet_audit.per_class()
    np.testing.assert_allclose(table["precision"], precision)
    np.testing.assert_allclose(table["recall"], recall)
    np.testing.assert_array_equal(table["support"], support)
    np.testing.assert_array_equal(outlet_audit.confusion().to_numpy(),
                                  confusion_matrix(given, predicted, labels=outlet_audit.classes))
    counts = small_workspace.points()["outlet"].value_counts()
    assert outlet_audit.majority_baseline == pytest.approx(counts.max() / counts.sum())
    assert outlet_audit.accuracy > outlet_audit.majority_baseline  # outlets write about different things


def test_suspects_are_outvoted_by_their_neighbours(outlet_audit):
    suspects = outlet_audit.suspects()
    assert len(suspects)
    own = outlet_audit.labels[suspects]
    neighbour_labels = outlet_audit.labels[outlet_audit.neighbours[suspects]]
    agreement = (neighbour_labels == own[:, None]).mean(axis=1)
    np.testing.assert_allclose(outlet_audit.agreement[suspects], agreement)
    assert (agreement < 0.5).all() and (outlet_audit.predicted[suspects] != own).all()
    shares = outlet_audit.vote_share[suspects]
    assert (np.diff(shares) <= 0).all()  # the most confident disagreement first


def test_bad_label_columns_are_explained(small_workspace):
    with pytest.raises(InputError, match="not a metadata column"):
        audit_labels(small_workspace, "nope")
    with pytest.raises(InputError, match="k must be between"):
        audit_labels(small_workspace, "outlet", k=0)


def test_cli_label_audit_json_and_gate(small_workspace, capsys):
    assert cli.main(["label-audit", str(small_workspace.path), "--label", "outlet", "-k", "10", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"]["accuracy"] == pytest.approx(audit_labels(small_workspace, "outlet").accuracy)
    assert len(printed["per_class"]) == printed["summary"]["n_classes"]
    assert cli.main(["label-audit", str(small_workspace.path), "--label", "outlet", "--fail-below-accuracy",
                     "0.99"]) == 1
    assert "accuracy" in capsys.readouterr().err
    assert cli.main(["label-audit", str(small_workspace.path), "--label", "text"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_one_label_and_empty_labels_are_refused(tweets, tweet_vectors, tmp_path):
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    table = tweets.head(400).assign(same="news", gappy=tweets.head(400)["outlet"])
    table.loc[[3, 7], "gappy"] = ""
    workspace = build_workspace(table, BuildConfig(IngestConfig("text", "tweet_id", ("same", "gappy"))),
                                tmp_path / "ws", source="test", vectors=np.asarray(tweet_vectors.vectors))
    with pytest.raises(InputError, match="Every point has the same 'same' label"):
        audit_labels(workspace, "same")
    with pytest.raises(InputError, match="2 of 400 points have no 'gappy' label"):
        audit_labels(workspace, "gappy")


@pytest.mark.slow
def test_chunks_never_vote_for_their_own_document(news, tmp_path):
    """40 long articles split into chunks: each chunk's 10 voters come from other articles, searched deeper where
    an article's own chunks fill the saved graph."""
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    table = news.assign(month=news["publish_date"].astype(str).str[:7])
    workspace = build_workspace(table, BuildConfig(IngestConfig("text", "article_id", ("month",))), tmp_path / "ws",
                                source="test")
    assert workspace.manifest.n_chunked > 0
    audit = audit_labels(workspace, "month", k=10)
    documents = workspace.points()["id"].to_numpy()
    assert (audit.neighbours >= 0).all()
    assert not (documents[audit.neighbours] == documents[:, None]).any()
