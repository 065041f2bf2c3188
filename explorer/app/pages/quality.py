"""Quality: near-duplicates (threshold, groups, review queue, keep/drop decisions) and outliers (three scores)."""

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis.flags import DEFAULT_THRESHOLD, word_diff
from explorer.analysis.quality import DEFAULT_OUTLIER_K, outlier_table
from explorer.app.ui import cache, writes
from explorer.app.ui.linked import handed_selection
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, open_workspace_or_stop, show_table
from explorer.errors import InputError
from explorer.figures.charts import diff_html, map_figure

opened = open_workspace_or_stop("Quality")
path, version = opened.path, opened.version
data = opened.data
name = data.manifest.name
st.title(f"Quality of {md(name)}")
handed = handed_selection(path)
only = None
if handed is not None and st.toggle(f"Only the {len(handed):,} points selected on the map", value=True,
                                    key="quality_selection", help="Lists only the outliers among them and the "
                                                                  "near-duplicate pairs with a member among them."):
    only = np.asarray(handed, dtype=np.int64)
duplicates_tab, outliers_tab = st.tabs(["Near-duplicates", "Outliers"])

with outliers_tab:  # first, so the flags saved from the other tab use the k chosen here
    st.caption("Three established scores per point, each ranked: the mean cosine distance to its k nearest "
               "neighbours, HDBSCAN's GLOSH score, and the Local Outlier Factor (LOF). The combined score is the "
               "mean of the three percentile ranks; the reasons say which scores put a point in their top 5%.")
    controls = st.columns([1, 1, 1])
    k = int(controls[0].number_input("Neighbours (k)", 2, 30, DEFAULT_OUTLIER_K, key="outlier_k",
                                     help="Also used for the outlier scores saved with the duplicate decisions."))
    top = controls[1].number_input("Show the top", 1, 1000, 50, key="outlier_top")
    on_map = controls[2].toggle("Colour the map by outlier score", key="outlier_map")
    try:
        scores = cache.outliers(str(path), version, k)
    except InputError as error:
        st.error(md(error))
        st.stop()
    table = outlier_table(scores, data.points, top=int(top) if only is None else len(data.points),
                          nearest=cache.nearest_texts(str(path), version))
    if only is not None:
        table = table[table["row"].isin(only)].head(int(top))
    show_table(table.drop(columns="row"))
    download_csv(table.drop(columns="row"),
                 label="Download outliers (CSV)",
                 file_name=f"{name}-outliers.csv", key="download_outliers")
    if on_map:
        colour = pd.Series(scores.combined, name="outlier score (combined)")
        st.plotly_chart(map_figure(data.layout_2d, data.hover, colour, title=f"{name} · outlier score"),
                        key="outlier_map_figure", width="stretch")

with duplicates_tab:
    st.caption("Pairs whose cosine similarity reaches the threshold, found in the FAISS neighbour graph, and "
               "grouped into connected components. Identical texts (after cleaning) are counted separately.")
    threshold = st.slider("Cosine threshold", 0.50, 1.00, DEFAULT_THRESHOLD, 0.005, key="duplicate_threshold",
                          format="%.3f",
                          help="Two texts at or above this cosine similarity are called near-duplicates.")
    pairs = cache.duplicates(str(path), version, float(threshold))
    exact_groups = cache.exact_groups(str(path), version)
    chained = pairs.chained_groups()
    counts = st.columns(4)
    # Each count names the threshold it was computed at: while the slider moves faster than the counts, the page
    # never shows one threshold's counts beside another's value.
    counts[0].metric(f"Near-duplicate pairs at ≥ {pairs.threshold:.3f}", f"{pairs.n_pairs:,}")
    counts[1].metric(f"Groups at ≥ {pairs.threshold:.3f}", f"{pairs.n_groups:,}")
    counts[2].metric("Groups of identical texts", f"{len(exact_groups):,}")
    counts[3].metric("Chained groups", f"{len(chained):,}",
                     help="Groups whose two least similar members are below the threshold: A~B and B~C, but not A~C.")
    if chained:
        worst = min(chained, key=lambda group: pairs.weakest[group][0])
        score, first, second = pairs.weakest[worst]
        st.warning(f"{len(chained)} group(s) are chains: in group {worst}, ids {md(data.points['id'].iloc[first])} "
                   f"and {md(data.points['id'].iloc[second])} are only {score:.3f} similar, linked through other "
                   "members. "
                   "Review these before dropping anything.")
    if pairs.capped:
        st.caption(f"The review queue lists {len(pairs.a):,} of the {pairs.n_pairs:,} pairs: each group of identical "
                   "texts once (its first row with each other member), and the pairs of different texts.")
    if len(pairs.a) == 0:
        st.info("No pair reaches this threshold: lower it to see the closest pairs.")
    else:
        queue, decisions = cache.review_tables(str(path), version, float(threshold))
        if only is not None:
            queue = queue[queue["a_row"].isin(only) | queue["b_row"].isin(only)].reset_index(drop=True)
        if queue.empty:
            st.info("No near-duplicate pair at this threshold has a member among the selected points.")
        else:
            st.subheader("Review queue")
            st.caption("Pairs sorted by closeness to the threshold: the ones a person should look at first.")
            position = st.columns([1, 3])[0].number_input(f"Pair (1 to {len(queue):,})", 1, len(queue), 1,
                                                          key="review_position")
            pair = queue.iloc[int(position) - 1]
            st.caption(f"Group {pair['group']} · cosine {pair['score']:.4f}"
                       + (" · identical texts" if pair["exact"] else " · differing words highlighted"))
            left_words, right_words = word_diff(pair["a_text"], pair["b_text"])
            left, right = st.columns(2)
            left.text(f"id {pair['a']} (chunk {pair['a_chunk']})")
            left.html(f"<div style='font-size:0.95rem;line-height:1.5'>{diff_html(left_words)}</div>")
            right.text(f"id {pair['b']} (chunk {pair['b_chunk']})")
            right.html(f"<div style='font-size:0.95rem;line-height:1.5'>{diff_html(right_words)}</div>")
            with st.expander(f"All {len(queue):,} pairs"):
                show_table(queue.drop(columns=["a_row", "b_row"]))

        st.subheader("Keep or drop")
        st.caption("One row per group member. By default each group keeps its first row and drops the rest; change "
                   "any decision, then download the decisions or save them to the workspace (the map can colour, "
                   "filter and export by them).")
        edited = st.data_editor(
            decisions.drop(columns="row").astype({"id": str}), hide_index=True, width="stretch",
            key=f"decisions-{threshold}", disabled=["id", "chunk", "group", "score", "text"],
            column_config={"decision": st.column_config.SelectboxColumn("decision", options=["keep", "drop"],
                                                                        required=True)})
        drop_rows = set(decisions["row"][edited["decision"].to_numpy() == "drop"].tolist())
        buttons = st.columns(2)
        shown = edited[["id", "chunk", "group", "decision", "score", "text"]].astype({"score": float}).round(6)
        download_csv(shown,
                     label="Download decisions (CSV)",
                     file_name=f"{name}-duplicate-decisions.csv", key="download_decisions", container=buttons[0])
        if buttons[1].button("Save flags to the workspace", key="save_flags",
                             help="The map then colours and filters by these groups and decisions."):
            try:
                writes.save_duplicate_flags(path, data.manifest.build_id, pairs, scores, drop_rows)
            except InputError as error:
                st.error(md(error))
                st.stop()
            st.success(f"Saved: {len(drop_rows):,} rows marked to drop at threshold {threshold:.3f}, with the "
                       f"outlier scores for k = {k}.")
