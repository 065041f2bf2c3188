"""AppTest for the map page, on real workspaces."""

import shutil

import numpy as np
import pytest

from explorer.workspace import Workspace

from .helpers import _length, _map_page, _plotly_figures, _point_map, _values


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


def test_map_page_colours_and_filters_by_flags(small_workspace):
    at = _map_page(small_workspace.path)
    at.selectbox(key="colour_by").select("Outlier score (combined)").run()
    assert not at.exception
    at.selectbox(key="show").select("Top 5% outliers").run()
    assert not at.exception
    figure = _plotly_figures(at)[0]
    assert sum(_length(trace["x"]) for trace in figure["data"]) == 20


def test_map_page_offers_a_sweep_when_one_cluster_dominates(tweets, tweet_vectors):
    import numpy as np

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig
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


def test_map_page_offers_the_report_with_and_without_texts(small_workspace, monkeypatch):
    import explorer.report.inputs

    made = []
    real = explorer.report.inputs.report_page

    def capture(workspace, *, include_texts=True):
        made.append((include_texts, real(workspace, include_texts=include_texts)))
        return made[-1][1]

    monkeypatch.setattr(explorer.report.inputs, "report_page", capture)
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


def test_a_metadata_column_with_many_values_keeps_every_value_reachable(tweets, tweet_vectors, tmp_path):
    import numpy as np

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

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


def test_map_page_charts_count_a_selection_and_picked_bars_highlight_their_points(small_workspace):
    import numpy as np

    from explorer.figures.linked import column_chart

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


def test_map_page_offers_to_build_a_broken_map_again(small_workspace, tmp_path):
    shutil.copytree(small_workspace.path, tmp_path / "broken")
    (tmp_path / "broken" / "layout_2d.npy").unlink()
    at = _map_page(tmp_path / "broken")
    assert not at.exception
    assert "2-D layout" in at.error[0].value and "is missing" in at.error[0].value and not _plotly_figures(at)
    at.button(key="rebuild_map").click().run()
    assert not at.exception and not at.error
    assert at.title[0].value.startswith("Map of ") and _plotly_figures(at)


def test_map_page_draws_every_point_in_webgl_above_the_hover_limit_and_lists_a_selection(small_workspace,
                                                                                         monkeypatch):
    import numpy as np

    import explorer.figures.charts

    monkeypatch.setattr(explorer.figures.charts, "MAX_DRAWN", 100)  # the 400 points stand for a big workspace
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


def test_the_maps_data_is_one_read_only_object_for_every_rerun(small_workspace):
    from explorer.app.ui import cache

    version = small_workspace.version()
    first, again = (cache.map_data(str(small_workspace.path), version) for _ in range(2))
    assert first is again
    for array in (first.layout_2d, first.clustering.labels, first.clustering.outlier_scores):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    np.testing.assert_array_equal(first.clustering.labels, small_workspace.clustering().clustering.labels)


def test_the_map_opens_on_the_top_topics_each_its_own_hue_and_lists_each_points_topic_path(small_workspace,
                                                                                          tmp_path):
    from explorer.build.recluster import recluster
    from explorer.figures.charts import NOISE_COLOUR
    from explorer.mapping.cluster import ClusterConfig

    # Leaf clusters: about 30 on every machine tried, so the tree has a level above them (8 or fewer make one).
    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "topics"))
    recluster(copy, ClusterConfig(5, 1, "leaf"))
    at = _map_page(copy.path, colour_by=None)
    assert not at.exception
    tree = copy.reopened().topics()
    assert tree.n_levels >= 2
    assert at.selectbox(key="colour_by").value.startswith("Topic, level 1")
    traces = [trace for trace in _plotly_figures(at)[0]["data"] if trace["name"] != "cluster labels"]
    top = tree.level_keywords(0)
    assert [trace["name"] for trace in traces] == [top.name(t) for t in range(len(tree.keywords[0]))]
    colours = [trace["marker"]["color"] for trace in traces]
    assert len(set(colours)) == len(colours) and NOISE_COLOUR not in colours  # every point placed, hues apart
    at.selectbox(key="colour_by").select("Cluster").run()
    cluster_traces = [trace for trace in _plotly_figures(at)[0]["data"] if trace["name"] not in ("cluster labels",
                                                                                                 "Unclustered")]
    assert len({trace["marker"]["color"] for trace in cluster_traces}) == len(cluster_traces)  # shades, no repeats
