"""Search: a typed query (vector, keyword or hybrid) or a point's true neighbours, placed on the map."""

import numpy as np
import streamlit as st

from explorer.analysis.search import MODES, neighbours_table, selection_centroid
from explorer.app.ui import cache
from explorer.app.ui.linked import forget_selection, handed_selection
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, open_workspace_or_stop, results_map, show_table
from explorer.errors import InputError
from explorer.figures.charts import score_histogram

POINT_ROW, POINT_ERROR = "search_point_row", "search_point_error"
MODE_LABELS = {"vector": "Vector (meaning)", "keyword": "Keyword (BM25)", "hybrid": "Hybrid (RRF of both)"}

opened = open_workspace_or_stop("Search")
path, version = opened.path, opened.version
data = opened.data
found = cache.search_data(str(path), version)
manifest, index = data.manifest, found.index
st.title(f"Search {md(manifest.name)}")
score_label = "euclidean distance (lower = closer)" if index.metric == "euclidean" else f"{index.metric} similarity"
st.caption(f"Vector scores are {score_label}, the metric this index was built with · model {md(index.model_id)} · "
           f"{index.kind} FAISS index over {len(index):,} points")
if index.kind != "exact":
    recall = cache.index_recall(str(path), version)
    st.info(f"This index is approximate (HNSW): on 200 sampled points, it returns {recall:.1%} of the exact "
            "top-10 neighbours (recall@10 against brute-force search).")

try:
    query_model, problem = cache.query_encoder(str(path), version), None
except InputError as error:
    query_model, problem = None, str(error)
handed = handed_selection(path)
if handed is not None:
    with st.container(border=True):
        st.subheader(f"Neighbours of the centre of the {len(handed):,} points selected on the map")
        columns = st.columns([1, 3])
        centroid_k = int(columns[0].number_input("Results (k)", 1, 1000, max(10, min(len(handed) + 10, 100)),
                                                 key="centroid_k"))
        if columns[1].button("Done with this selection", key="forget_selection"):
            forget_selection()
            st.rerun()
        centroid = selection_centroid(found.embeddings.vectors, handed, index.metric)
        view = cache.search_view(str(path), version, f"centre of {len(handed):,} selected points", "vector",
                                 centroid_k, centroid)
        inside = np.isin(view.hits.rows, handed)
        st.caption(f"{int(inside.sum()):,} of the {len(view.hits.rows):,} nearest points are in the selection; the "
                   "others are the points most like it that it left out.")
        results_map(data, path, version, hits=view.hits.rows, origin=view.origin,
                    origin_label="centre of the selection",
                    title=f"The {len(view.hits.rows)} points nearest the selection's centre", key="centroid_map")
        centroid_table = view.table.assign(in_selection=inside)
        show_table(centroid_table)
        download_csv(centroid_table, label="Download the centre's neighbours (CSV)",
                     file_name=f"{manifest.name}-selection-centre.csv", key="download_centroid")

by_text, by_point = st.tabs(["Typed query", "Neighbours of a point"])

with by_text:
    modes = ["keyword"] if problem else list(MODES)
    controls = st.columns([3, 2, 1])
    query = controls[0].text_input("Query", key="search_query", placeholder="e.g. vaccine side effects in children",
                                   help="Press Enter to search.")
    mode = controls[1].radio("Mode", modes, format_func=MODE_LABELS.get, horizontal=True, key="search_mode")
    k = controls[2].number_input("Results (k)", 1, 1000, 10, key="search_k")
    query_vector = None
    if problem:
        st.warning(md(problem))
        upload = st.file_uploader("Or search with a query vector (.npy, one row)", type=["npy"], key="query_vector")
        if upload is not None:
            try:
                query_vector = np.load(upload, allow_pickle=False)
            except ValueError as error:
                st.error(f"That vector cannot be used: {md(error)}")
    if query.strip() or query_vector is not None:
        try:
            view = cache.search_view(str(path), version, query, mode, int(k), query_vector)
        except InputError as error:
            st.error(md(error))
            st.stop()
        hits = view.hits
        for note in hits.notes:
            st.info(md(note))
        results_map(data, path, version, hits=hits.rows, origin=view.origin,
                    origin_label=f"query: {hits.query[:80]}",
                    title=f"Top {len(hits.rows)} for “{hits.query[:60]}” ({MODE_LABELS[hits.mode].lower()})",
                    key="search_map")
        if view.origin is None:
            st.caption("Keyword search has no query vector, so the query itself is not placed on the map.")
        show_table(view.table, column_config={
            "vector_rank": st.column_config.NumberColumn(
                "vector rank", help="Rank in the vector ranking; empty = not in its top 100"),
            "keyword_rank": st.column_config.NumberColumn(
                "keyword rank", help="Rank in the BM25 ranking; empty = not in its top 100")})
        download_csv(view.table, label="Download results (CSV)", file_name=f"{manifest.name}-search.csv",
                     key="download_search")
        if view.scores_to_all is not None and view.cut is not None:
            st.plotly_chart(score_histogram(view.scores_to_all, cut=view.cut, metric=index.metric, k=len(hits.rows)),
                            key="search_histogram", width="stretch")
    else:
        st.caption("Type a query and press Enter. Vector search embeds it with this workspace's own model; keyword "
                   "search ranks by BM25 with English stopwords left out (in another language, common words such as "
                   "'de' or 'la' count as keywords: prefer vector search there); hybrid fuses both rankings "
                   "(Reciprocal Rank Fusion).")

with by_point:
    st.caption("Click a point on the map, or give its id: its true nearest neighbours in the embedding space, "
               "each with its rank by distance on the 2-D map. A large map rank means UMAP tore them apart.")
    ids = data.points["id"].astype(str).to_numpy()
    chunks = data.points["chunk"].to_numpy()

    def choose_typed_point() -> None:
        """The typed id (and chunk) picks the point, until the next click on the map."""
        typed = st.session_state["search_point_id"].strip()
        chunk = st.session_state["search_point_chunk"]
        match = np.flatnonzero((ids == typed) & (chunks == chunk))
        missing = typed and not len(match)
        st.session_state[POINT_ERROR] = f"No point has id {md(typed)} and chunk {chunk}." if missing else None
        if len(match):
            st.session_state[POINT_ROW] = int(match[0])

    columns = st.columns([2, 1, 1])
    columns[0].text_input("Point id", key="search_point_id", on_change=choose_typed_point,
                          help="The id column of your data (or the row number); press Enter.")
    columns[1].number_input("Chunk", 0, int(chunks.max()), 0, key="search_point_chunk", on_change=choose_typed_point)
    point_k = columns[2].number_input("Neighbours (k)", 1, 200, 10, key="search_point_k")
    if st.session_state.get(POINT_ERROR):
        st.error(st.session_state[POINT_ERROR])
    row = st.session_state.get(POINT_ROW)
    if row is not None and row >= len(data.points):
        row = None
    neighbours = None
    if row is not None:
        neighbours = cache.point_neighbours(str(path), version, int(row), int(point_k))
    hit_rows = neighbours.rows if neighbours is not None else np.zeros(0, np.int64)
    clicked = results_map(
        data, path, version, hits=hit_rows, origin=data.layout_2d[row] if row is not None else None,
        origin_label=f"point {data.points['id'].iloc[row]}" if row is not None else "",
        title=(f"The {len(hit_rows)} true neighbours of point {data.points['id'].iloc[row]}" if row is not None
               else "Click a point to see its true neighbours"), key="point_map", clickable=True)
    if clicked and clicked[0] != row:
        st.session_state[POINT_ROW] = clicked[0]
        st.rerun()
    if neighbours is not None:
        source = data.points.iloc[row]
        st.text(f"Point {source['id']} (chunk {int(source['chunk'])}):\n{source['text']}")
        table = neighbours_table(neighbours, data.points, score_label)
        torn = int((neighbours.map_ranks > 5 * len(neighbours.rows)).sum())
        st.caption(f"{torn} of {len(neighbours.rows)} true neighbours are not even among the "
                   f"{5 * len(neighbours.rows)} nearest points on the map.")
        show_table(table)
        download_csv(table,
                     label="Download neighbours (CSV)",
                     file_name=f"{manifest.name}-neighbours.csv", key="download_neighbours")
