"""New data on the map: real queries (which clusters they reach, which find nothing, which documents answer too
many) or a new batch of documents (how the cluster mix moves, how new each one is), on the map as it is."""

import numpy as np
import streamlit as st

from explorer.analysis.coverage import QueryCoverage, hubs_table, queries_table
from explorer.analysis.domain import RULE
from explorer.analysis.drift import NOVEL, BatchDrift, novel_table
from explorer.analysis.placement import DEFAULT_K, PlacedTexts, check_same_model, default_text_column
from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, open_workspace_or_stop, show_table
from explorer.build.sample import new_texts_file
from explorer.errors import InputError
from explorer.figures.new_data import coverage_figure, drift_figure, shares_figure
from explorer.ingest.reading import FORMATS

QUERIES, DOCUMENTS = "Queries people typed (coverage)", "A new batch of documents (drift)"
UPLOAD, EXAMPLE = "Upload a file", "Example: 100 health tweets not in the sample and 100 world-news headlines"
PERCENT = st.column_config.NumberColumn(format="%.1f%%")
SHARE = st.column_config.NumberColumn(format="%.3f")


def show_coverage(result: QueryCoverage, placed: PlacedTexts) -> None:
    headline = st.columns(4)
    answered = result.answered()
    headline[0].metric("Queries", f"{len(answered):,}")
    headline[1].metric("Unanswered (outside the corpus's domain)", f"{int((~answered).sum()):,}",
                       help=f"The best document's cosine is below {result.relevance_line:.3f}. {RULE}")
    headline[2].metric("Clusters never reached", f"{len(result.uncovered()):,} of {len(result.clusters):,}",
                       help=f"No point of the cluster is in any query's top {placed.k}.")
    headline[3].metric("Hub documents", f"{len(result.hubs()):,}",
                       help=f"Each in the top {placed.k} of at least {result.hub_threshold} queries: chance would "
                            "put fewer than one point of the corpus there.")
    sentences = result.sentences()
    if result.mostly_unanswered():
        st.warning(sentences.pop(0))
    st.markdown("\n".join(f"- {sentence}" for sentence in sentences))
    map_tab, clusters_tab, queries_tab, hubs_tab = st.tabs(
        ["Map", "Clusters never reached", "Queries", "Hubs"])
    with map_tab:
        st.plotly_chart(coverage_figure(data.layout_2d, data.hover, result.hit_counts, title=f"{name} · "
                                        f"{len(answered):,} queries (crosses)", query_coords=placed.coords,
                                        queries=placed.texts, answered=answered),
                        key="coverage_map", width="stretch")
    with clusters_tab:
        st.caption("Every cluster with how many top-k places the queries gave it, and how many queries reached it; "
                   "the clusters no query reached first. A cluster nobody asks about may be content nobody needs, "
                   "or content the queries cannot find.")
        clusters = result.clusters.sort_values(["queries", "size"], ascending=[True, False], kind="stable")
        show_table(clusters)
        download_csv(clusters, label="Download the clusters (CSV)", file_name=f"{name}-coverage-clusters.csv",
                     key="download_coverage_clusters")
    with queries_tab:
        table = queries_table(result, data.points, data.clustering.labels, data.keywords)
        st.caption("Each query's best document; the queries with no document above the line first.")
        show_table(table, column_config={"best_cosine": SHARE})
        download_csv(table, label="Download the queries (CSV)", file_name=f"{name}-coverage-queries.csv",
                     key="download_coverage_queries")
    with hubs_tab:
        hubs = hubs_table(result, data.points, data.clustering.labels, data.keywords).drop(columns="row")
        st.caption("Documents that answer far more queries than chance would give them: often generic texts "
                   "that crowd out better answers.")
        show_table(hubs)
        download_csv(hubs, label="Download the hubs (CSV)", file_name=f"{name}-coverage-hubs.csv",
                     key="download_coverage_hubs")


def show_drift(result: BatchDrift, placed: PlacedTexts) -> None:
    headline = st.columns(4)
    headline[0].metric("New documents", f"{len(result.novelty):,}")
    headline[1].metric("Novel (outside the corpus's domain)", f"{int((result.novelty > NOVEL).sum()):,}",
                       help=f"Farther from the corpus than {NOVEL:.0f}% of its points are from their nearest "
                            f"distinct neighbour. {RULE}")
    headline[2].metric("Cluster mix moved", f"{result.total_variation:.1%}",
                       help="Total variation between the corpus's and the batch's cluster shares: 0% the same mix, "
                            "100% no cluster in common.")
    headline[3].metric("Median novelty", f"{np.median(result.novelty):.0f}",
                       help="Half the new documents are farther from the corpus than this percentage of its points "
                            "are from their nearest distinct neighbour.")
    st.info(md(result.sentence()))
    map_tab, novel_tab, shares_tab = st.tabs(["Map", "Most novel", "Cluster shares"])
    with map_tab:
        st.plotly_chart(drift_figure(data.layout_2d, data.hover, title=f"{name} · {len(result.novelty):,} new "
                                     "documents by novelty", new_coords=placed.coords, new_texts=placed.texts,
                                     novelty=result.novelty), key="drift_map", width="stretch")
    with novel_tab:
        top = int(st.number_input("Listed", 1, len(result.novelty), min(20, len(result.novelty)), key="drift_top"))
        novel = novel_table(result, data.points, top=top)
        show_table(novel, column_config={"novelty": PERCENT, "nearest_cosine": SHARE})
        download_csv(novel, label="Download the most novel (CSV)", file_name=f"{name}-drift-novel.csv",
                     key="download_drift_novel")
    with shares_tab:
        st.caption("Each new document joins the cluster most of its nearest corpus points belong to, unless it is "
                   f"novel (above {NOVEL:.0f}): that one stays unclustered, as HDBSCAN leaves points far from every "
                   "cluster. The map is not clustered again.")
        st.plotly_chart(shares_figure(result.shares), key="drift_shares", width="stretch")
        show_table(result.shares, column_config={column: st.column_config.NumberColumn(format="%.3f") for column
                                                 in ("before", "batch_share", "after", "change")})
        download_csv(result.shares, label="Download the cluster shares (CSV)", file_name=f"{name}-drift-shares.csv",
                     key="download_drift_shares")


opened = open_workspace_or_stop("New data on the map")
path, version, data = opened.path, opened.version, opened.data
name = data.manifest.name
st.title(f"New data on the map of {md(name)}")
st.caption("Texts the workspace has never seen, embedded with its own model and placed on its map as it is (nothing "
           "is refitted): real users' queries, to see what they reach and what they miss, or a new batch of "
           "documents, to see whether it looks like the corpus.")
controls = st.columns([3, 1])
what = controls[0].radio("The new file holds", [QUERIES, DOCUMENTS], horizontal=True, key="new_data_kind")
k = int(controls[1].number_input("Top k searched", 1, 100, DEFAULT_K, key="new_data_k"))
source = st.radio("File", [UPLOAD, EXAMPLE], horizontal=True, key="new_data_source")
if source == UPLOAD:
    upload = st.file_uploader("New texts (one per row; a 'query' or 'text' column)",
                              type=[ext.lstrip(".") for ext in FORMATS], key="new_data_file")
    if upload is None:
        st.stop()
    file_bytes, filename = upload.getvalue(), upload.name
else:
    example = new_texts_file()
    file_bytes, filename = example.read_bytes(), example.name
kind = "queries" if what == QUERIES else "documents"
try:
    check_same_model(data.manifest.model, None)
    table = cache.uploaded_table(file_bytes, filename)
    columns = [str(column) for column in table.columns]
    column = st.selectbox("Text column", columns, index=columns.index(default_text_column(table, kind=kind)),
                          key=f"new_data_column {filename}")
    placed = cache.placed_texts(str(path), version, file_bytes, filename, column, kind, k)
    if kind == "queries":
        result = cache.query_coverage(str(path), version, file_bytes, filename, column, k)
    else:
        result = cache.batch_drift(str(path), version, file_bytes, filename, column, k)
except InputError as error:
    st.error(md(error))
    st.stop()
if kind == "queries":
    show_coverage(result, placed)
else:
    show_drift(result, placed)
