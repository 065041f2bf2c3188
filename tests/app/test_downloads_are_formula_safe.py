"""Every CSV the app lets a user download is formula-safe in every column (ids and metadata included), numbers stay
numbers, and a carriage return cannot split a row. The tables' own toolbar export is off (.streamlit/config.toml)."""

import csv
import io
import tomllib

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE
from explorer.build.pipeline import build_workspace
from explorer.config import BuildConfig
from explorer.ingest.corpus import IngestConfig
from explorer.workspace import workspaces_root

from ..conftest import PAGES, ROOT

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _formula_laden(tweets: pd.DataFrame, n: int = 400) -> pd.DataFrame:
    table = tweets.head(n).copy()
    prefix = [PREFIXES[row % len(PREFIXES)] for row in range(n)]
    table["tweet_id"] = [f"{p}ID{row}" for row, p in enumerate(prefix)]
    table["outlet"] = [f"{p}SUM(1+1) {outlet}" for p, outlet in zip(prefix, table["outlet"])]
    table["text"] = [f"{p}HYPERLINK(x) {text}" if row % 2 else text for row, (p, text) in
                     enumerate(zip(prefix, table["text"]))]
    return table


@pytest.fixture(scope="module")
def formula_workspace(tweets, tweet_vectors):
    return build_workspace(_formula_laden(tweets), BuildConfig(IngestConfig("text", "tweet_id", ("outlet",))),
                           workspaces_root() / "formulas", source="formulas.csv",
                           vectors=np.asarray(tweet_vectors.vectors))


@pytest.fixture()
def downloads(monkeypatch):
    """What makes every CSV the pages offer, by order of registration: each download's data is registered with
    Streamlit as a deferred file (made on the click, not on every rerun); calling it makes the bytes a click gets."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    served = {}
    register = MediaFileManager.add_deferred

    def capture(manager, make, mimetype, *args, **kwargs):
        if mimetype == "text/csv":
            served[len(served)] = make
        return register(manager, make, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return served


def _assert_safe(data: bytes) -> int:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    assert body and all(len(row) == len(header) for row in body)
    for cell in (cell for row in rows for cell in row):
        if cell.startswith(DANGEROUS):
            float(cell)  # only a number may start with '-' or '+'
    return len(body)


def _page(name: str, workspace) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=180)
    at.session_state[WORKSPACE] = str(workspace.path)
    return at.run()


def test_the_tables_own_export_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def test_map_downloads(formula_workspace, downloads):
    at = _page("map.py", formula_workspace)
    assert not at.exception and downloads
    assert max(_assert_safe(make()) for make in downloads.values()) == 400


def test_search_downloads(formula_workspace, downloads):
    at = _page("search.py", formula_workspace)
    at.text_input(key="search_query").set_value("ebola vaccine").run()  # keyword search: no model for vectors
    at.text_input(key="search_point_id").set_value("=ID0").run()
    assert not at.exception and len(downloads) >= 2
    for make in downloads.values():
        _assert_safe(make())


def test_quality_downloads(formula_workspace, downloads):
    at = _page("quality.py", formula_workspace)
    at.slider(key="duplicate_threshold").set_value(0.8).run()
    assert not at.exception and len(downloads) >= 2
    for make in downloads.values():
        _assert_safe(make())


def test_label_audit_downloads(formula_workspace, downloads):
    at = _page("labels.py", formula_workspace)
    assert not at.exception and len(downloads) >= 3
    for make in downloads.values():
        _assert_safe(make())


def test_compression_downloads(formula_workspace, downloads):
    at = _page("compression.py", formula_workspace)
    at.button(key="compression_run").click().run()
    assert not at.exception and len(downloads) == 1
    _assert_safe(downloads[0]())


def test_negative_numbers_stay_numbers_and_carriage_returns_stay_in_their_cell():
    from explorer.export import to_safe_csv

    frame = pd.DataFrame({"id": ["\r@ID5", "=1", "plain"], "score": [-0.5, 2.0, -3.0], "n": [-1, 2, 3]})
    rows = list(csv.reader(io.StringIO(to_safe_csv(frame).decode(), newline="")))
    assert rows == [["id", "score", "n"], ["'\r@ID5", "-0.5", "-1"], ["'=1", "2.0", "2"], ["plain", "-3.0", "3"]]


@pytest.mark.slow
def test_audit_downloads(downloads, monkeypatch, tmp_path):
    pairs = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "sts_b_pairs.csv").head(60)
    pairs["text_a"] = [f"{PREFIXES[row % 6]}{text}" for row, text in enumerate(pairs["text_a"])]
    pairs["genre"] = [f"{PREFIXES[row % 6]}genre" for row in range(len(pairs))]
    path = tmp_path / "pairs.csv"
    pairs.to_csv(path, index=False, lineterminator="\r\n")  # a CR inside a cell stays in it
    monkeypatch.setattr("explorer.build.sample.sts_pairs_file", lambda: path)
    at = AppTest.from_file(str(PAGES / "audit.py"), default_timeout=300)
    at.run()
    at.radio(key="pairs_source").set_value("Example: 500 STS-B pairs (graded 0-5)").run()
    at.multiselect(key="audit_models").select("tfidf-svd").run()
    assert not at.exception and len(downloads) >= 2
    for make in downloads.values():
        _assert_safe(make())


@pytest.mark.slow
def test_evaluation_downloads(downloads, monkeypatch, news):
    corpus = pd.DataFrame({"doc_id": [f"{PREFIXES[row % 6]}D{row}" for row in range(20)],
                           "text": [f"{PREFIXES[row % 6]}{text}" for row, text in enumerate(news["text"].head(20))]})
    queries = pd.DataFrame({"query_id": [f"@Q{row}" for row in range(20)],
                            "query": [f"={title}" for title in news["title"].head(20)],
                            "relevant_doc_id": corpus["doc_id"]})
    monkeypatch.setattr("explorer.build.sample.news_retrieval_example", lambda queries_from: (corpus, queries))
    at = AppTest.from_file(str(PAGES / "evaluation.py"), default_timeout=300)
    at.run()
    at.radio(key="evaluation_source").set_value("Example: 200 news articles, found by their titles (easy)").run()
    assert not at.exception and downloads
    for make in downloads.values():
        _assert_safe(make())
