"""Map: the corpus as a UMAP scatter, coloured by HDBSCAN cluster or metadata; select points to list them."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from explorer.app.ui import cache, state, writes
from explorer.app.ui.linked import chart_picks, draw_charts, hand_selection
from explorer.app.ui.navigation import quality_page, search_page
from explorer.app.ui.point_map import point_map
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, open_workspace, show_table
from explorer.build.sample import sample_workspace_path
from explorer.errors import InputError
from explorer.figures.charts import (
    MAP_CONFIG,
    MAX_CATEGORIES,
    MAX_DRAWN,
    OTHER_VALUES,
    map_figure,
    selected_rows,
    topic_colours,
)
from explorer.figures.linked import column_chart
from explorer.figures.point_map import MAX_POINTS, point_map_data
from explorer.mapping.cluster import SELECTIONS, ClusterConfig, clustering_problem
from explorer.workspace import build_running, read_progress

CLUSTER, OUTLIER = "Cluster", "Outlier score (GLOSH)"
PICKED, NOT_PICKED = "picked in the charts", "not picked"
CLUSTERS = "clusters (sizes)"
DUPLICATE_GROUP, DECISION, COMBINED = "Near-duplicate group", "Duplicate decision", "Outlier score (combined)"
SHOW = {"All points": None, "Near-duplicates": lambda flags: flags["duplicate_group"] >= 0,
        "Marked to drop": lambda flags: flags["duplicate_decision"] == "drop",
        "Top 5% outliers": lambda flags: flags["outlier_rank"] <= max(1, round(0.05 * len(flags)))}

opened = open_workspace()
if opened is None:
    st.title("Embedding Explorer")
    st.info("First launch: the bundled sample (3,008 health-news tweets) is being embedded with all-MiniLM-L6-v2 "
            "and mapped; this happens once, later launches reuse it. Meanwhile, build your own on New workspace.")
    build = writes.start_sample_build()
    progress = read_progress(sample_workspace_path())
    st.progress(progress.fraction if progress else 0.0,
                text=progress.sentence() if progress else "Starting (loading the model and the texts)…")
    if build is not None and not build.running and build.error and not build_running(sample_workspace_path()):
        st.error(f"The sample could not be built: {md(build.error)}")
        st.stop()
    time.sleep(1)
    st.rerun()

path, version, data = opened.path, opened.version, opened.data
manifest = data.manifest
own = state.own_clustering(path)
clustering, cluster_keywords = data.clustering, data.keywords
if own is not None:
    result = cache.reclustering(str(path), version, *own)
    clustering, cluster_keywords = result.clustering, result.keywords
st.title(f"Map of {md(manifest.name)}")
st.caption(f"{manifest.n_points:,} points from {manifest.n_documents:,} documents · model "
           f"{md(manifest.model)} ({manifest.dim}-d) · {manifest.metric} · {manifest.index_type} FAISS index · "
           f"{clustering.n_clusters} clusters · {clustering.noise_fraction:.0%} unclustered")
for note in manifest.notes:
    st.info(md(note))
if own is not None:
    st.info(f"You are looking at your own re-clustering (minimum cluster size {own[0]}, min samples {own[1]}, "
            f"{own[2]} selection). Others still see the saved clusters (minimum cluster size "
            f"{manifest.config.cluster.min_cluster_size}).")
    keep, discard = st.columns([1, 1])
    if keep.button("Save this clustering for everyone", key="save_clustering", type="primary"):
        try:
            writes.save_clustering(path, result, manifest.build_id)
        except InputError as error:
            st.error(md(error))
            st.stop()
        state.forget_own_clustering()
        st.rerun()
    if discard.button("Back to the saved clusters", key="discard_clustering"):
        state.forget_own_clustering()
        st.rerun()

controls = st.columns([2, 1, 1, 1])
metadata = [column for column in data.points.columns if column not in ("id", "chunk", "text")]
flag_options = [DUPLICATE_GROUP, DECISION, COMBINED] if data.flags is not None else []
tree = data.topics if own is None else None  # a private re-clustering has no tree of its own yet
topic_options = {f"Topic, level {level + 1} of {tree.n_levels}" + (" (top)" if level == 0 else ""): level
                 for level in range(tree.n_levels - 1)} if tree is not None else {}
colour_by = controls[0].selectbox("Colour by", [*topic_options, CLUSTER, OUTLIER, *flag_options, *metadata],
                                  key="colour_by", help="Topics: the clusters merged into a few readable topics "
                                  "(level 1), each one hue, its finer topics and clusters shades of it.")
show = controls[1].selectbox("Show", list(SHOW) if data.flags is not None else ["All points"], key="show",
                             help="Filter by the flags saved on the Quality page.")
three_d = controls[2].toggle("3-D", key="three_d", help="A 3-D UMAP layout (computed once, then saved).")
density = controls[1].toggle("Density", key="density",
                             help="Shade the map by how many points lie in each area, counted over every point "
                                  "(also those not drawn), so the mass shows where points overlap.")
names_on_map = controls[2].toggle("Names", value=True, key="names_on_map",
                                  help="The biggest clusters' keywords drawn on the map, sized by cluster size, "
                                       "without overlaps (colour by cluster, 2-D).")
with controls[3].popover("Clustering"):
    with st.form("clustering"):
        current = manifest.config.cluster
        min_cluster_size = st.number_input("Minimum cluster size", 2, 10_000, int(current.min_cluster_size),
                                           key="min_cluster_size")
        min_samples = st.number_input("Min samples", 1, 10_000, int(current.min_samples or min_cluster_size),
                                      key="min_samples", help="Higher: more points called noise.")
        leaf = st.toggle("Leaf selection", value=current.selection == "leaf", key="leaf_selection",
                         help="HDBSCAN's leaf clusters: many small, homogeneous clusters instead of a few big ones.")
        if st.form_submit_button("Re-cluster", help="Re-runs HDBSCAN only; the UMAP layout is kept. You see the "
                                                     "result first; save it to show it to everyone."):
            choice = (int(min_cluster_size), int(min_samples), "leaf" if leaf else "eom")
            try:
                cache.reclustering(str(path), version, *choice)
            except InputError as error:
                st.error(md(error))
            else:
                state.keep_own_clustering(path, *choice)
                st.rerun()

applied = ClusterConfig(own[0], own[1], own[2]) if own is not None else manifest.config.cluster
problem = clustering_problem(clustering, applied)
if problem:
    st.warning(problem)
    with st.expander("Try other cluster settings (seconds: HDBSCAN only, on the saved 5-D layout)"):
        selection = st.radio("Selection", SELECTIONS, horizontal=True, key="sweep_selection",
                             format_func={"eom": "excess of mass (default)", "leaf": "leaf"}.get)
        if st.toggle("Show clusters, noise and the largest cluster's share for each setting", key="run_sweep"):
            sweep = cache.cluster_sweep(str(path), version, selection)
            show_table(sweep, column_config={name: st.column_config.NumberColumn(format="percent") for name in (
                "noise_share", "largest_share")})
            options = list(sweep.index)
            picked = st.selectbox("Setting to try", options, key="sweep_pick", format_func=lambda row: (
                f"min cluster size {sweep.loc[row, 'min_cluster_size']}, min samples {sweep.loc[row, 'min_samples']}"
                f": {sweep.loc[row, 'clusters']} clusters, {sweep.loc[row, 'noise_share']:.0%} noise, largest "
                f"{sweep.loc[row, 'largest_share']:.0%}"))
            if st.button("Look at the map with this setting", key="apply_sweep"):
                row = sweep.loc[picked]
                state.keep_own_clustering(path, int(row["min_cluster_size"]), int(row["min_samples"]), selection)
                st.rerun()

webgl = len(data.points) > MAX_DRAWN and not three_d
if webgl:
    drawn = min(len(data.points), MAX_POINTS)
    st.caption(f"Drawing {'all' if drawn == len(data.points) else 'a fixed random sample of'} {drawn:,} points"
               f"{'' if drawn == len(data.points) else f' of {len(data.points):,}'} in WebGL. Above {MAX_DRAWN:,} "
               "points the texts stay on the server: hover a point for its category, click it or lasso some to "
               "read them in the table below.")
elif len(data.points) > MAX_DRAWN:
    st.caption(f"Drawing a fixed random sample of {MAX_DRAWN:,} of {len(data.points):,} points (3-D).")
coords = cache.layout_3d(str(path), version) if three_d else data.layout_2d
labels = pd.Series(clustering.labels, name="cluster")
colours = None
if colour_by in topic_options:
    level = topic_options[colour_by]
    keywords = tree.level_keywords(level)
    colour = pd.Series(tree.labels[level], name=colour_by)
    colours = topic_colours(tree.top_ancestor(level), [keywords.name(t) for t in range(len(tree.keywords[level]))])
elif colour_by == CLUSTER:
    colour, keywords = labels, cluster_keywords
    if tree is not None:
        finest = tree.n_levels - 1
        names = [keywords.name(t) for t in range(len(tree.keywords[finest]))]
        colours = topic_colours(tree.top_ancestor(finest), names)
elif colour_by == OUTLIER:
    colour, keywords = pd.Series(clustering.outlier_scores, name="outlier score"), None
elif colour_by == DUPLICATE_GROUP:
    groups = data.flags["duplicate_group"]
    colour, keywords = groups.astype(str).where(groups >= 0, "(not a near-duplicate)").rename(DUPLICATE_GROUP), None
elif colour_by == DECISION:
    colour, keywords = data.flags["duplicate_decision"].replace("", "(not a near-duplicate)").rename(DECISION), None
elif colour_by == COMBINED:
    colour, keywords = data.flags["outlier_combined"].rename(COMBINED), None
else:
    colour, keywords = data.points[colour_by].rename(colour_by), None
highlight = None
counts = colour.astype(str).where(colour.notna(), "(missing)").value_counts()
if keywords is None and not pd.api.types.is_numeric_dtype(colour) and len(counts) > MAX_CATEGORIES:
    highlight = st.multiselect(
        f"Values of '{md(colour_by)}' to colour ({len(counts):,} in all, most common first; type to search, the "
        "rest are grey)", counts.index.tolist(), default=counts.index[:10].tolist(), key=f"highlight {colour_by}")
shown = None if SHOW[show] is None else np.flatnonzero(SHOW[show](data.flags).to_numpy())
if shown is not None:
    st.caption(f"Showing {len(shown):,} of {len(data.points):,} points ({show.lower()}).")
chart_columns = st.multiselect(
    "Charts under the map (click bars, or box-select them, to pick their points on the map)", [CLUSTERS, *metadata],
    default=[CLUSTERS, *metadata[:1]], key="chart_columns")
names = cluster_keywords.names(labels.to_numpy())
chart_values = {CLUSTERS: pd.Series(names, name=CLUSTERS),
                **{column: data.points[column] for column in metadata}}
charts = [column_chart(chart_values[column]) for column in chart_columns]
picks, picked_rows = chart_picks(charts, path)
title = f"{manifest.name} · {colour_by}"
if picked_rows is not None:
    colour, keywords, highlight = pd.Series(np.full(len(labels), NOT_PICKED), name="charts"), None, [PICKED]
    colour.iloc[picked_rows] = PICKED
    title = f"{manifest.name} · {len(picked_rows):,} points picked in the charts"
    st.caption(f"The map shows the {len(picked_rows):,} points in the bars picked in the charts; click an empty "
               f"part of each chart (or double-click it) to colour by {md(colour_by)} again.")
if webgl:
    drawing = point_map_data(coords, colour, keywords=keywords, rows=shown, highlight=highlight, density=density,
                             names=names_on_map)
    if picked_rows is not None:
        drawing = drawing.with_category_renamed(OTHER_VALUES, NOT_PICKED)
    selected = point_map(drawing, title=title, key=f"point map {path}")
else:
    figure = map_figure(coords, cache.map_hover(str(path), version, own), colour, title=title, keywords=keywords,
                        rows=shown, on_map_labels=names_on_map, highlight=highlight, density=density,
                        colours=colours)
    if picked_rows is not None:
        figure.update_traces(name=NOT_PICKED, selector={"name": OTHER_VALUES})
    event = st.plotly_chart(figure, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                            width="stretch", config=MAP_CONFIG)
    selected = selected_rows(event.selection.points)

table = data.points.assign(cluster=names,
                           outlier_score=clustering.outlier_scores,
                           x=data.layout_2d[:, 0], y=data.layout_2d[:, 1])
if tree is not None:
    table["topic"] = tree.paths(tree.n_levels - 2 if tree.n_levels > 1 else 0)
if data.flags is not None:
    table = pd.concat([table, data.flags.reset_index(drop=True)], axis=1)
from_charts = not selected and picked_rows is not None
if from_charts:
    selected = picked_rows.tolist()
draw_charts(charts, path, selected, picks)
if selected:
    st.subheader(f"{len(selected):,} point{'s' if len(selected) != 1 else ''} picked in the charts" if from_charts
                 else f"{len(selected):,} selected point{'s' if len(selected) != 1 else ''}")
    show_table(table.iloc[selected])
    actions = st.columns(3)
    download_csv(table.iloc[selected], label="Download selection (CSV)", file_name=f"{manifest.name}-selection.csv",
                 key="download_selection", container=actions[0])
    if actions[1].button("Neighbours of the selection's centroid (Search)", key="selection_to_search"):
        hand_selection(path, selected)
        st.switch_page(search_page())
    if actions[2].button("Duplicates and outliers of the selection (Quality)", key="selection_to_quality"):
        hand_selection(path, selected)
        st.switch_page(quality_page())
else:
    st.caption("Click a point, or pick the box or lasso tool above the map and drag, to list the selected rows "
               "here. Drag to pan, scroll to zoom.")

st.subheader("Clusters")
summary = (labels.value_counts().rename_axis("cluster").reset_index(name="points")
           .assign(keywords=lambda frame: [", ".join(cluster_keywords.keywords.get(int(c), []))
                                           for c in frame["cluster"]],
                   name=lambda frame: [cluster_keywords.name(int(c)) for c in frame["cluster"]]))
show_table(summary[["name", "points", "keywords"]])
download_csv(table,
             label="Download all points with clusters (CSV)",
             file_name=f"{manifest.name}-points.csv", key="download_all")

st.subheader("Report")
st.caption("One HTML file to hand to a colleague, which opens without a network: how the workspace was made "
           "(source file and its sha256, model, settings, seeds, versions), the map and its clusters, similarity "
           "health, near-duplicates and outliers, and a plain verdict. It shows the saved clustering. The "
           "command line adds a calibration audit and a retrieval evaluation: `explorer report WORKSPACE --out "
           "report.html --pairs PAIRS --queries QUERIES`.")
report_controls = st.columns([1, 1, 2])
no_texts = report_controls[0].toggle("Leave the texts out", key="report_no_texts",
                                     help="For reports shared outside the team: no text or metadata, only ids, "
                                          "numbers and cluster keywords.")
if report_controls[1].button("Prepare the report", key="prepare_report"):
    st.session_state[state.REPORT] = (str(path), version, no_texts)
if st.session_state.get(state.REPORT) == (str(path), version, no_texts):
    report_controls[2].download_button(
        "Download the report (HTML)", cache.workspace_report(str(path), version, not no_texts),
        file_name=f"{manifest.name}-report{'-no-texts' if no_texts else ''}.html", mime="text/html",
        key="download_report")
st.text(f"Workspace folder: {path}")
