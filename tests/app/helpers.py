"""What the page tests share: opening a page on a workspace, and reading what it drew."""


import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE

from ..conftest import PAGES

TIMEOUT = 180



def _map_page(workspace_path, *, colour_by: str | None = "Cluster") -> AppTest:
    """The Map page on a workspace, coloured by ``colour_by`` (None: the page's default, the top topics)."""
    at = AppTest.from_file(str(PAGES / "map.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace_path)
    if colour_by is not None:
        at.session_state["colour_by"] = colour_by
    return at.run()


def _plotly_figures(at: AppTest) -> list[dict]:
    import json

    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def _values(array):
    """A plotly JSON array (a list, or a base64 typed array) as numpy values."""
    import base64


    if isinstance(array, list):
        return np.ravel(np.array(array))
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))


def _length(array) -> int:
    """Number of values in a plotly JSON array (a list, or a base64 typed array)."""
    if isinstance(array, list):
        return len(array)
    import base64


    return len(np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])))


def _search_page(workspace_path) -> AppTest:
    at = AppTest.from_file(str(PAGES / "search.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace_path)
    return at.run()


def _new_data_page(workspace_path) -> AppTest:
    at = AppTest.from_file(str(PAGES / "new_data.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace_path)
    return at.run()


def _handed(at: AppTest, workspace, rows) -> None:
    from explorer.app.ui.linked import SELECTION

    at.session_state[SELECTION] = (str(workspace.path), list(rows))


def _point_map(at: AppTest) -> tuple:
    """The WebGL point map's data as the browser gets it: its JSON, its points (Arrow) and their bytes."""
    import json

    import pyarrow as pa

    [element] = [element for element in at.get("bidi_component")
                 if element.proto.component_name == "embedding_explorer.point_map"]
    data = json.loads(element.proto.mixed.json)
    [blob] = element.proto.mixed.arrow_blobs.values()
    points = pa.ipc.open_stream(blob.data).read_all().to_pandas()
    return data, points, len(blob.data)
