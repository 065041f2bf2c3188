"""Map: the corpus as a UMAP scatter, coloured by HDBSCAN cluster or metadata; select points to list them."""

import numpy as np
import pandas as pd
import streamlit as st

from explorer.encoders import DEFAULT_MODEL
from explorer.errors import InputError
from explorer.export import to_safe_csv
from explorer.sample import build_sample_workspace
from explorer.workspace import Workspace
from ui import cache, state
from ui.figures import MAX_DRAWN, map_figure
from ui.widgets import show_table, stage_progress

CLUSTER, OUTLIER = "Cluster", "Outlier score (GLOSH)"
DUPLICATE_GROUP, DECISION, COMBINED = "Near-duplicate group", "Duplicate decision", "Outlier score (combined)"
SHOW = {"All points": None, "Near-duplicates": lambda flags: flags["duplicate_group"] >= 0,
        "Marked to drop": lambda flags: flags["duplicate_decision"] == "drop",
        "Top 5% outliers": lambda flags: flags["outlier_rank"] <= max(1, round(0.05 * len(flags)))}

path = state.current_workspace()
if path is None:
    st.title("Embedding Explorer")
    st.info("First launch: embedding the bundled sample (3,008 health-news tweets) with all-MiniLM-L6-v2. "
            "This takes about a minute once; later launches reuse the saved results.")
    with cache.build_lock():
        if state.current_workspace() is None:
            build_sample_workspace(progress=stage_progress(), encoder=cache.encoder(DEFAULT_MODEL))
    st.rerun()

workspace = Workspace.open(path)
data = cache.map_data(str(path), workspace.version())
manifest = data.manifest
st.title(f"Map of {manifest['name']}")
st.caption(f"{manifest['n_points']:,} points from {manifest['n_documents']:,} documents · model "
           f"{manifest['model']} ({manifest['dim']}-d) · {manifest['metric']} · {manifest['index_type']} FAISS index · "
           f"{manifest['n_clusters']} clusters · {manifest['noise_fraction']:.0%} unclustered")
for note in manifest.get("report_messages", []):
    st.info(note)

controls = st.columns([2, 1, 1, 1])
metadata = [column for column in data.points.columns if column not in ("id", "chunk", "text")]
flag_options = [DUPLICATE_GROUP, DECISION, COMBINED] if data.flags is not None else []
colour_by = controls[0].selectbox("Colour by", [CLUSTER, OUTLIER, *flag_options, *metadata], key="colour_by")
show = controls[1].selectbox("Show", list(SHOW) if data.flags is not None else ["All points"], key="show",
                             help="Filter by the flags saved on the Quality page.")
three_d = controls[2].toggle("3-D", key="three_d", help="A 3-D UMAP layout (computed once, then saved).")
with controls[3].popover("Clustering"):
    with st.form("clustering"):
        current = manifest["cluster"]
        min_cluster_size = st.number_input("Minimum cluster size", 2, 10_000, int(current["min_cluster_size"]),
                                           key="min_cluster_size")
        min_samples = st.number_input("Min samples", 1, 10_000, int(current["min_samples"] or min_cluster_size),
                                      key="min_samples", help="Higher: more points called noise.")
        if st.form_submit_button("Re-cluster", help="Re-runs HDBSCAN only; the UMAP layout is kept."):
            try:
                cache.recluster(str(path), int(min_cluster_size), int(min_samples))
            except InputError as error:
                st.error(str(error))
            else:
                st.rerun()

if len(data.points) > MAX_DRAWN:
    st.caption(f"Drawing a fixed random sample of {MAX_DRAWN:,} of {len(data.points):,} points.")
coords = cache.layout_3d(str(path), workspace.version()) if three_d else data.layout_2d
labels = pd.Series(data.clustering.labels, name="cluster")
if colour_by == CLUSTER:
    colour, keywords = labels, data.keywords
elif colour_by == OUTLIER:
    colour, keywords = pd.Series(data.clustering.outlier_scores, name="outlier score"), None
elif colour_by == DUPLICATE_GROUP:
    groups = data.flags["duplicate_group"]
    colour, keywords = groups.astype(str).where(groups >= 0, "(not a near-duplicate)").rename(DUPLICATE_GROUP), None
elif colour_by == DECISION:
    colour, keywords = data.flags["duplicate_decision"].replace("", "(not a near-duplicate)").rename(DECISION), None
elif colour_by == COMBINED:
    colour, keywords = data.flags["outlier_combined"].rename(COMBINED), None
else:
    colour, keywords = data.points[colour_by].rename(colour_by), None
shown = None if SHOW[show] is None else np.flatnonzero(SHOW[show](data.flags).to_numpy())
if shown is not None:
    st.caption(f"Showing {len(shown):,} of {len(data.points):,} points ({show.lower()}).")
figure = map_figure(coords, data.hover, colour, title=f"{manifest['name']} · {colour_by}", keywords=keywords,
                    rows=shown)
event = st.plotly_chart(figure, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                        width="stretch")

table = data.points.assign(cluster=[data.keywords.name(int(c)) for c in labels],
                           outlier_score=data.clustering.outlier_scores,
                           x=data.layout_2d[:, 0], y=data.layout_2d[:, 1])
if data.flags is not None:
    table = pd.concat([table, data.flags.reset_index(drop=True)], axis=1)
selected = sorted({int(np.ravel(point["customdata"])[0]) for point in event.selection.points if "customdata" in point})
if selected:
    st.subheader(f"{len(selected):,} selected points")
    show_table(table.iloc[selected])
    st.download_button("Download selection (CSV)", to_safe_csv(table.iloc[selected]),
                       file_name=f"{manifest['name']}-selection.csv", mime="text/csv", key="download_selection")
else:
    st.caption("Drag a box or lasso on the map (or click a point) to list the selected rows here.")

st.subheader("Clusters")
summary = (labels.value_counts().rename_axis("cluster").reset_index(name="points")
           .assign(keywords=lambda frame: [", ".join(data.keywords.keywords.get(int(c), [])) for c in frame["cluster"]],
                   name=lambda frame: [data.keywords.name(int(c)) for c in frame["cluster"]]))
show_table(summary[["name", "points", "keywords"]])
st.download_button("Download all points with clusters (CSV)", to_safe_csv(table),
                   file_name=f"{manifest['name']}-points.csv", mime="text/csv", key="download_all")
st.text(f"Workspace folder: {path}")
