"""AppTest for the app's entry, on real workspaces."""


import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import PAGES, ROOT
from .helpers import TIMEOUT


def test_app_opens_on_the_map_of_an_existing_workspace(small_workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value.startswith("Map of ")
    assert at.selectbox(key="workspace_picker").options


@pytest.mark.slow
def test_first_launch_builds_the_sample_in_the_background_and_opens_its_map(tmp_path, monkeypatch):
    from explorer.build.sample import sample_workspace_path
    from explorer.workspace import read_progress

    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(PAGES / "map.py"), default_timeout=600).run()
    assert not at.exception
    assert at.title[0].value == "Map of health-tweets-sample"
    assert read_progress(sample_workspace_path()) is None  # cleared once built
