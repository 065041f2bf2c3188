"""AppTest for the labels page, on real workspaces."""


import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


def test_label_page_audits_the_outlets_and_maps_who_disagrees(small_workspace):
    from explorer.audits.labels import audit_labels

    at = AppTest.from_file(str(PAGES / "labels.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception
    expected = audit_labels(small_workspace, "outlet", k=10)
    assert at.metric[0].value == f"{expected.accuracy:.1%}"
    assert at.metric[2].value == f"{expected.majority_baseline:.1%}"
    suspects = at.dataframe[0].value
    assert len(suspects) == min(50, len(expected.suspects()))
    assert suspects["id"].astype(str).tolist()[:5] == [
        str(value) for value in small_workspace.points()["id"].to_numpy()[expected.suspects()[:5]]]
    names = {trace["name"] for trace in _plotly_figures(at)[-1]["data"]}
    assert names <= {"label agrees with most neighbours", "label disagrees with most neighbours"} and names
    at.number_input(key="label_k").set_value(3).run()
    assert not at.exception
    assert at.metric[0].value == f"{audit_labels(small_workspace, 'outlet', k=3).accuracy:.1%}"


def test_label_page_says_what_to_do_without_metadata(tweets, tweet_vectors, tmp_path):

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    workspace = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text", "tweet_id")), tmp_path / "plain",
                                source="test", vectors=np.asarray(tweet_vectors.vectors))
    at = AppTest.from_file(str(PAGES / "labels.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace.path)
    at.run()
    assert not at.exception and "kept no metadata column" in at.info[0].value
