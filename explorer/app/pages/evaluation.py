"""Retrieval evaluation: recall@k, MRR and nDCG through our own FAISS index, for one or several models side by
side, with a browser of the failed queries and a map that shows where they went wrong."""

import numpy as np
import pandas as pd
import streamlit as st

from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, measured_caption, model_label, models_to_compare, show_table
from explorer.audits.retrieval import METRICS
from explorer.build.sample import RETRIEVAL_QUERIES, news_retrieval_example
from explorer.errors import InputError
from explorer.figures.charts import hover_text, metrics_figure, search_figure
from explorer.ingest.reading import FORMATS

UPLOAD = "Upload a corpus and queries"
EXAMPLES = {"Example: 200 news articles, found by their titles (easy)": "title",
            "Example: 200 news articles, found by a sentence from late in each (hard)": "late_sentence"}
TYPES = [ext.lstrip(".") for ext in FORMATS]

st.title("Retrieval evaluation")
st.caption("Would search find the right documents? Upload the corpus (`doc_id, text`) and labelled queries "
           "(`query_id, query, relevant_doc_id`, one row per relevant document). Each model embeds both, the "
           "corpus goes into a FAISS index (cosine), and every query is searched. Rule of thumb: recall@10 above "
           "0.9 is good, below 0.7 is not.")
# The controls come before the data, so they keep their values while files are being chosen (see the audit page).
controls = st.columns([3, 1])
k = controls[1].number_input("k (failures are misses in the top k)", 1, 100, 10, key="evaluation_k")
models = models_to_compare(controls[0], "Models (pick several to compare them)", key="evaluation_models")
# Nothing runs until the user picks the data: the example takes seconds per model.
source = st.radio("Data", [UPLOAD, *EXAMPLES], key="evaluation_source")
if source == UPLOAD:
    columns = st.columns(2)
    corpus_file = columns[0].file_uploader("Corpus", type=TYPES, key="evaluation_corpus")
    queries_file = columns[1].file_uploader("Queries", type=TYPES, key="evaluation_queries")
    if corpus_file is None or queries_file is None:
        st.stop()
    corpus = (corpus_file.getvalue(), corpus_file.name)
    queries = (queries_file.getvalue(), queries_file.name)
else:
    st.caption(f"Queries: {RETRIEVAL_QUERIES[EXAMPLES[source]]}; each finds one document, its article (1,500-6,000 "
               "characters). A model that reads only an article's first tokens (all-MiniLM-L6-v2 reads 256, about "
               "1,000 characters) never sees a late sentence and must find its article by topic alone: compare "
               "it with WordLlama (no token limit) or TF-IDF on the hard set. Splitting the articles into chunks "
               "is the usual fix.")
    example_corpus, example_queries = news_retrieval_example(EXAMPLES[source])
    corpus = (example_corpus.to_csv(index=False, lineterminator="\r\n").encode(), "corpus.csv")
    queries = (example_queries.to_csv(index=False, lineterminator="\r\n").encode(), "queries.csv")

reports = {}
try:
    for model_id in models:
        data, reports[model_id] = cache.retrieval_report(*corpus, *queries, model_id, int(k))
except InputError as error:
    st.error(f"These files cannot be evaluated: {md(error)}")
    st.stop()
for note in data.notes:
    st.warning(md(note))

st.subheader(f"{len(data.query_ids):,} queries over {len(data.doc_ids):,} documents")
summary = pd.DataFrame([report.summary() for report in reports.values()])
show_table(summary, column_config={name: st.column_config.NumberColumn(format="%.3f") for name in METRICS})
measured_caption(models)
st.plotly_chart(metrics_figure(summary, METRICS, title="Retrieval figures by model"), key="metrics_figure",
                width="stretch")
download_csv(summary,
             label="Download the comparison (CSV)",
             file_name="retrieval-comparison.csv", key="download_comparison")

chosen = st.selectbox("Failures of", models, format_func=model_label, key="evaluation_failures_model")
report = reports[chosen]
failures = report.failures(data)
st.subheader(f"{len(failures):,} {'query' if len(failures) == 1 else 'queries'} missed a relevant document in the "
             f"top {int(k)} ({chosen})")
if len(failures):
    show_table(failures)
    download_csv(failures,
                 label="Download the failures (CSV)",
                 file_name=f"failures-{chosen}.csv", key="download_failures")
    picked = st.selectbox("Show a failed query on the map", failures["query_id"].tolist(),
                          format_func=lambda query_id: (
                              f"{query_id}: {data.query_texts[list(data.query_ids).index(query_id)][:80]}"),
                          key="evaluation_failure")
    number = list(data.query_ids).index(picked)
    coords = cache.corpus_map(report.doc_vectors)
    hover = np.array([f"<b>{hover_text(str(doc_id))}</b><br>{hover_text(text)}"
                      for doc_id, text in zip(data.doc_ids, data.doc_texts)], dtype=object)
    outranking = report.ranked[number][: int(k)]
    outranking = outranking[outranking >= 0]
    relevant = data.relevant[number]
    st.plotly_chart(search_figure(
        coords, hover, None, None, hits=outranking,
        hit_labels=[f"<b>#{rank}</b> {hover[row]}" for rank, row in enumerate(outranking, start=1)],
        origin=coords[relevant].mean(axis=0), origin_label=f"relevant document(s) of query {picked}",
        title=f"Query {picked}: the star marks its relevant document(s); numbered points are what the index "
              "returned instead"), key="failure_map", width="stretch")
else:
    st.success(f"Every query found all its relevant documents in the top {int(k)}.")
