"""Compression audit: which cheaper form of the vectors (fewer dimensions, 8 bits, 1 bit, product quantisation)
keeps each point's nearest neighbours."""

import streamlit as st

from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, open_workspace_or_stop, show_table
from explorer.audits.compression import KEEP, RESCORE_DEPTH, matryoshka_sentence
from explorer.errors import InputError
from explorer.figures.charts import compression_figure
from explorer.ingest.reading import FORMATS

opened = open_workspace_or_stop("Compression audit")
path, version, manifest = opened.path, opened.version, opened.data.manifest
st.title(f"Compression audit of {md(manifest.name)}")
st.caption("Can the index store fewer dimensions or fewer bits a vector? Each setting is compared with the full "
           "float32 vectors on 1,000 sampled points: the share of each one's nearest neighbours that stay the "
           "same (the stored vectors compressed, the query point kept whole, as FAISS's asymmetric search does), "
           "the Spearman correlation of 20,000 random pairs' scores, and the bytes. Binary search with rescoring "
           f"ranks its top {RESCORE_DEPTH}k candidates by the full vectors, which must then be kept on disk.")
controls = st.columns([1, 3])
k = int(controls[0].number_input("Neighbours compared (k)", 1, 100, 10, key="compression_k"))
queries_file = controls[1].file_uploader(
    "Labelled queries (optional: `query_id, query, relevant_doc_id`, ids of this workspace) to add each setting's "
    "recall@10 and MRR@10", type=[ext.lstrip(".") for ext in FORMATS], key="compression_queries")
queries = (queries_file.getvalue(), queries_file.name) if queries_file is not None else (None, None)
run = (str(path), version, k, queries[1])
if st.button("Run the audit", key="compression_run", type="primary"):
    st.session_state["compression_ran"] = run
if st.session_state.get("compression_ran") != run:
    st.caption("Each setting compresses and searches the vectors (PQ is trained first): seconds to minutes on a big "
               "workspace. Run it when the settings are as you want them.")
    st.stop()
try:
    audit = cache.compression(str(path), version, k, *queries)
except InputError as error:
    st.error(md(error))
    st.stop()
st.info(audit.sentence())
st.caption(matryoshka_sentence(manifest.model, audit.matryoshka))
st.plotly_chart(compression_figure(audit.table, k=k, keep=KEEP), key="compression_figure", width="stretch")
show_table(audit.table, column_config={
    "overlap_mean": st.column_config.NumberColumn(format="%.3f"),
    "overlap_p05": st.column_config.NumberColumn(format="%.3f"),
    "spearman": st.column_config.NumberColumn(format="%.3f"),
    "recall@10": st.column_config.NumberColumn(format="%.3f"),
    "mrr@10": st.column_config.NumberColumn(format="%.3f"),
    "bytes_per_vector": st.column_config.NumberColumn(format="%.0f"),
    "index_mb": st.column_config.NumberColumn("index (MB)", format="%.2f")})
download_csv(audit.table, label="Download the compression audit (CSV)",
             file_name=f"{manifest.name}-compression.csv", key="download_compression")
