"""AppTest for the quality page, on real workspaces."""

import shutil

from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE
from explorer.workspace import Workspace

from ..conftest import PAGES
from .helpers import TIMEOUT, _handed, _plotly_figures


def test_quality_page_duplicates_review_and_decisions(small_workspace, tmp_path):
    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "quality"))
    at = AppTest.from_file(str(PAGES / "quality.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(copy.path)
    at.run()
    assert not at.exception and at.title[0].value == "Quality of tweets-400"
    at.slider(key="duplicate_threshold").set_value(0.7).run()
    assert not at.exception
    pairs = int(at.metric[0].value.replace(",", ""))
    assert pairs > 0
    assert at.number_input(key="review_position").label == f"Pair (1 to {pairs:,})"
    at.number_input(key="review_position").set_value(pairs).run()
    assert not at.exception
    at.number_input(key="outlier_k").set_value(7).run()
    at.button(key="save_flags").click().run()
    assert not at.exception and "Saved" in at.success[0].value and "k = 7" in at.success[0].value
    assert copy.flags().k == 7  # the outlier scores are saved with the k the user chose on the page
    flags = copy.flags().table
    assert (flags["duplicate_group"] >= 0).sum() > 0 and (flags["duplicate_decision"] == "drop").sum() > 0
    at.slider(key="duplicate_threshold").set_value(1.0).run()
    assert not at.exception
    assert at.metric[0].label == "Near-duplicate pairs at ≥ 1.000"  # the counts name their threshold


def test_quality_page_outliers_with_reasons_and_map(small_workspace):
    at = AppTest.from_file(str(PAGES / "quality.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    at.toggle(key="outlier_map").set_value(True).run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table["rank"].tolist()[:3] == [1, 2, 3] and table["reasons"].iloc[0]
    figure = _plotly_figures(at)[-1]
    assert figure["data"][0]["marker"]["showscale"]


def test_quality_page_keeps_to_a_handed_selection(small_workspace):
    at = AppTest.from_file(str(PAGES / "quality.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    rows = list(range(100, 160))
    _handed(at, small_workspace, rows)
    at.run()
    assert not at.exception and at.toggle(key="quality_selection").value
    ids = set(small_workspace.points()["id"].astype(str).to_numpy()[rows])
    outliers = at.dataframe[0].value
    assert len(outliers) and set(outliers["id"].astype(str)) <= ids
    at.toggle(key="quality_selection").set_value(False).run()
    assert not at.exception and not set(at.dataframe[0].value["id"].astype(str)) <= ids
