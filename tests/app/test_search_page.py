"""AppTest for the search page, on real workspaces."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE

from ..conftest import PAGES
from .helpers import TIMEOUT, _handed, _plotly_figures, _point_map, _search_page


@pytest.mark.slow
def test_search_page_typed_query_places_the_query_on_the_map(small_workspace):
    at = _search_page(small_workspace.path)
    assert not at.exception and at.title[0].value == "Search tweets-400"
    assert "cosine similarity" in at.caption[0].value
    at.text_input(key="search_query").set_value("ebola outbreak in west africa").run()
    assert not at.exception
    results = at.dataframe[0].value
    assert len(results) == 10 and results["rank"].tolist() == list(range(1, 11))
    assert results["cosine"].is_monotonic_decreasing
    search_map, histogram = _plotly_figures(at)[:2]
    names = [trace["name"] for trace in search_map["data"]]
    assert "results" in names and any(name.startswith("query: ebola") for name in names)
    assert histogram["data"][0]["type"] == "histogram"
    assert "top-10 cut" in histogram["layout"]["annotations"][0]["text"]


@pytest.mark.slow
def test_search_page_keyword_and_hybrid_modes(small_workspace):
    at = _search_page(small_workspace.path)
    at.radio(key="search_mode").set_value("keyword")
    at.text_input(key="search_query").set_value("the and of").run()
    assert not at.exception
    assert any("No word of the query occurs" in info.value for info in at.info)
    at.radio(key="search_mode").set_value("hybrid")
    at.text_input(key="search_query").set_value("measles vaccine").run()
    assert not at.exception
    results = at.dataframe[0].value
    assert "rrf" in results.columns and (results["vector_rank"].notna() | results["keyword_rank"].notna()).all()


@pytest.mark.slow
def test_search_page_neighbours_of_a_point_by_id(small_workspace):
    at = _search_page(small_workspace.path)
    first_id = str(small_workspace.points()["id"].iloc[0])
    at.text_input(key="search_point_id").set_value(first_id).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 10 and "map rank" in table.columns and (table["map rank"] >= 1).all()
    at.text_input(key="search_point_id").set_value("no-such-id").run()
    assert any("No point has id" in error.value for error in at.error)


@pytest.mark.slow
def test_search_page_on_precomputed_vectors_offers_keyword_and_vector_upload(tweets, minilm):
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig
    from explorer.workspace import workspaces_root

    table = tweets.head(120)
    vectors = minilm.encode(table["text"].tolist())
    workspace = build_workspace(table, BuildConfig(IngestConfig("text")), workspaces_root() / "precomputed-120",
                                source="vectors.npy", vectors=vectors)
    at = _search_page(workspace.path)
    assert not at.exception
    assert "precomputed vectors" in at.warning[0].value
    assert at.radio(key="search_mode").options == ["Keyword (BM25)"]
    at.text_input(key="search_query").set_value("cancer").run()
    assert not at.exception and len(at.dataframe[0].value) > 0


@pytest.mark.slow
def test_search_page_lists_the_neighbours_of_a_handed_selections_centre(small_workspace):

    at = AppTest.from_file(str(PAGES / "search.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    rows = list(range(0, 40, 2))
    _handed(at, small_workspace, rows)
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Neighbours of the centre of the 20 points selected on the map"
    table = at.dataframe[0].value
    unit = small_workspace.embeddings().vectors / np.linalg.norm(small_workspace.embeddings().vectors, axis=1,
                                                                 keepdims=True)
    centre = unit[rows].mean(axis=0)
    expected = np.argsort(-(unit @ centre), kind="stable")[:len(table)]
    ids = small_workspace.points()["id"].astype(str).to_numpy()
    assert table["id"].astype(str).tolist()[:5] == ids[expected][:5].tolist()
    assert table["in_selection"].tolist() == np.isin(expected, rows).tolist()
    at.button(key="forget_selection").click().run()
    assert not at.exception and not any("selected on the map" in header.value for header in at.subheader)


@pytest.mark.slow
def test_search_page_above_the_hover_limit_marks_a_clicked_points_neighbours_on_the_webgl_map(small_workspace,
                                                                                               monkeypatch):

    import explorer.figures.charts

    monkeypatch.setattr(explorer.figures.charts, "MAX_DRAWN", 100)
    at = _search_page(small_workspace.path)
    assert not at.exception
    data, points, _ = _point_map(at)
    assert len(points) == 400 and data["marks"]["hits"] == [] and data["marks"]["origin"] is None
    assert data["opacity"] == 0.25 and data["labels"] == []
    layout = small_workspace.layout(2)
    frame = data["to_data"]
    drawn = points[["x", "y"]].to_numpy(np.float64) * frame["scale"] + [frame["cx"], frame["cy"]]
    clicked_row = int(np.argmin(((layout - drawn[17]) ** 2).sum(axis=1)))
    at.session_state["point_map"] = {"selection": {"indices": [17], "lasso": None}}
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 10
    ids = small_workspace.points()["id"].astype(str).to_numpy()
    assert f"point {ids[clicked_row]}" in at.text[0].value.replace("Point", "point")
    data, _, _ = _point_map(at)
    marks = data["marks"]
    to_layout = lambda xy: np.asarray(xy) * frame["scale"] + [frame["cx"], frame["cy"]]  # noqa: E731
    np.testing.assert_allclose(to_layout(marks["origin"]), layout[clicked_row], atol=1e-4)
    rows = [int(np.flatnonzero(ids == str(identifier))[0]) for identifier in table["id"]]
    np.testing.assert_allclose(to_layout(marks["hits"]), layout[rows], atol=1e-4)  # best first, as the table
