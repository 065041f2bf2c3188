"""AppTest for the compression page, on real workspaces."""


from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


def test_compression_page_names_the_cheapest_setting(small_workspace):
    at = AppTest.from_file(str(PAGES / "compression.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception and not at.dataframe  # nothing runs before the user asks
    at.button(key="compression_run").click().run()
    assert not at.exception
    assert "is 8-bit scalar" in at.info[0].value
    assert "not trained for cutting dimensions" in at.caption[1].value
    table = at.dataframe[0].value
    assert table["setting"].iloc[0] == "float32 (384 dims)" and table["overlap_mean"].iloc[0] == 1.0
    assert len(_plotly_figures(at)[0]["data"]) == 2
