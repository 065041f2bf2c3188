"""The workspace report: its numbers against independent computations, the same numbers as the CLI's audit and
eval, reproducible, self-contained, gated, and free of texts when asked."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from explorer import cli
from explorer.report.contents import build_report
from explorer.report.html import report_html
from explorer.workspace import Workspace

from ..conftest import ROOT


@pytest.fixture(scope="module")
def small_report(small_workspace):
    return build_report(small_workspace)


@pytest.fixture(scope="module")
def tfidf_workspace(tweets, tmp_path_factory):
    """A small real TF-IDF workspace built by the CLI (a model fitted in milliseconds: no model load)."""
    folder = tmp_path_factory.mktemp("tfidf")
    source = folder / "tweets.csv"
    tweets.head(300).to_csv(source, index=False)
    assert cli.main(["build", str(source), "--out", str(folder / "ws"), "--model", "tfidf-svd",
                     "--text-col", "text", "--id-col", "tweet_id"]) == 0
    return folder / "ws"


def _without_times(data: dict) -> dict:
    return {key: value for key, value in data.items() if key not in ("provenance", "workspace")}


def test_similarity_and_duplicate_figures_match_brute_force(small_workspace, small_report):
    data = small_report.data
    vectors = small_workspace.embeddings().vectors.astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    assert data["similarity"]["nearest_neighbour"]["mean"] == pytest.approx(cosine.max(axis=1).mean(), abs=1e-4)
    off_diagonal = cosine[np.triu_indices(len(unit), 1)]
    # 20,000 random pairs estimate the mean over all pairs.
    assert data["similarity"]["random_pairs"]["mean"] == pytest.approx(off_diagonal.mean(), abs=0.01)

    quality = data["quality"]
    first, second = np.nonzero(np.triu(cosine >= quality["duplicate_threshold"] - 1e-6, 1))
    assert quality["n_pairs"] == len(first)
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=cosine.shape)
    _, component = connected_components(graph, directed=False)
    in_pairs = np.unique(np.concatenate([first, second]))
    n_groups = len(np.unique(component[in_pairs]))
    assert quality["n_groups"] == n_groups and quality["points_in_groups"] == len(in_pairs)
    assert quality["duplicate_share"] == pytest.approx((len(in_pairs) - n_groups) / len(unit), abs=1e-6)


def test_cluster_table_matches_the_saved_clustering(small_workspace, small_report):
    labels = small_workspace.clustering().clustering.labels
    sizes = {row["cluster"]: row["size"] for row in small_report.data["clusters"]}
    expected = pd.Series(labels[labels >= 0]).value_counts()
    assert sizes == expected.to_dict()
    assert [row["size"] for row in small_report.data["clusters"]] == sorted(sizes.values(), reverse=True)
    assert small_report.data["map"]["noise_fraction"] == pytest.approx((labels == -1).mean(), abs=1e-6)
    texts = set(small_workspace.texts())
    assert all(set(row["examples"]) <= texts for row in small_report.data["clusters"])


def test_the_html_is_self_contained_and_holds_the_json_numbers(small_report):
    page = report_html(small_report)
    assert page.count("<script") == 1 + len(small_report.figures)  # plotly once, then one per figure
    assert not re.search(r"<script[^>]+src=", page) and "<link" not in page and "@import" not in page
    assert not re.search(r"url\(\s*['\"]?https?:", page)
    quality = small_report.data["quality"]
    for figure in (quality["n_pairs"], quality["n_groups"], quality["points_in_groups"]):
        assert f"<td class='text'>{figure:,}</td>" in page
    assert f"<p>{small_report.data['map']['n_clusters']:,} clusters;" in page


def test_reports_of_two_builds_of_the_same_input_are_equal(tweets, tmp_path, tfidf_workspace):
    source = tmp_path / "tweets.csv"
    tweets.head(300).to_csv(source, index=False)
    assert cli.main(["build", str(source), "--out", str(tmp_path / "again"), "--model", "tfidf-svd",
                     "--text-col", "text", "--id-col", "tweet_id"]) == 0
    first = build_report(Workspace.open(tfidf_workspace)).data
    second = build_report(Workspace.open(tmp_path / "again")).data
    assert json.dumps(_without_times(first), sort_keys=True) == json.dumps(_without_times(second), sort_keys=True)


def test_audit_and_evaluation_sections_equal_the_cli(tfidf_workspace, news, tmp_path, capsys):
    pairs = ROOT / "explorer" / "build" / "sample_data" / "sts_b_pairs.csv"
    corpus, queries = tmp_path / "corpus.csv", tmp_path / "queries.csv"
    pd.DataFrame({"doc_id": news["article_id"], "text": news["text"]}).to_csv(corpus, index=False)
    pd.DataFrame({"query_id": news["article_id"], "query": news["title"],
                  "relevant_doc_id": news["article_id"]}).to_csv(queries, index=False)
    capsys.readouterr()
    assert cli.main(["audit", str(pairs), "--model", "tfidf-svd", "--threshold", "0.5", "--json"]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert cli.main(["eval", "--corpus", str(corpus), "--queries", str(queries), "--model", "tfidf-svd",
                     "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    out = tmp_path / "report.html"
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--pairs", str(pairs), "--threshold", "0.5",
                     "--queries", str(queries), "--corpus", str(corpus), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(out.with_suffix(".json").read_text())
    assert printed == written
    assert written["audit"]["summary"] == audit
    assert written["evaluation"]["summary"] == evaluation
    assert {"calibration", "threshold", "retrieval"} <= {item["topic"] for item in written["verdict"]}


def test_gates_exit_1_naming_the_figure(tfidf_workspace, tmp_path, capsys):
    pairs = ROOT / "explorer" / "build" / "sample_data" / "sts_b_pairs.csv"
    out = tmp_path / "report.html"
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--pairs", str(pairs),
                     "--fail-below-auc", "0.99"]) == 1
    assert "error: ROC AUC 0." in capsys.readouterr().err and out.exists()  # written, then failed
    share = json.loads(out.with_suffix(".json").read_text())["quality"]["duplicate_share"]
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--fail-above-duplicates",
                     str(share / 2 if share else -1)]) == 1
    assert "near-duplicate share" in capsys.readouterr().err
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--fail-above-duplicates", "1"]) == 0
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--fail-below-recall", "0.5"]) == 2
    assert "--queries" in capsys.readouterr().err


def test_bad_input_writes_nothing(tfidf_workspace, tmp_path, capsys):
    bad_pairs = tmp_path / "pairs.csv"
    bad_pairs.write_text("text_a,text_b\nx,y\n")
    out = tmp_path / "report.html"
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--pairs", str(bad_pairs)]) == 2
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert cli.main(["report", str(tfidf_workspace), "--out", str(tmp_path)]) == 2
    assert cli.main(["report", str(tfidf_workspace), "--out", str(tmp_path / "report.pdf")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert list(tmp_path.iterdir()) == [bad_pairs]


def test_no_texts_leaves_every_text_out(tfidf_workspace, tmp_path):
    workspace = Workspace.open(tfidf_workspace)
    pairs = ROOT / "explorer" / "build" / "sample_data" / "sts_b_pairs.csv"
    out = tmp_path / "report.html"
    assert cli.main(["report", str(tfidf_workspace), "--out", str(out), "--pairs", str(pairs), "--no-texts"]) == 0
    page, twin = out.read_text(), out.with_suffix(".json").read_text()
    source = workspace.manifest.source  # the folder the file was built from on this machine stays out
    assert str(Path(source).parent) not in page and str(Path(source).parent) not in twin
    assert json.loads(twin)["provenance"]["source"] == "tweets.csv"
    pair_texts = pd.read_csv(pairs)[["text_a", "text_b"]].to_numpy().ravel().tolist()
    for text in workspace.texts() + pair_texts:
        fragment = text[:40]
        if len(fragment) >= 25:  # short fragments may be common words
            assert fragment not in page and json.dumps(fragment)[1:-1] not in twin, fragment
