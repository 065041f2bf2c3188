"""Chunking lab: which chunk size (and overlap) should a corpus of long documents be split into?"""

import streamlit as st

from explorer.analysis.flags import DEFAULT_THRESHOLD
from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, model_label, show_table
from explorer.audits.chunk_lab import LAB_METRICS, MAX_SETTINGS, parse_settings
from explorer.build.sample import RETRIEVAL_QUERIES, news_retrieval_example
from explorer.embedding.encoders import DEFAULT_MODEL, MODELS
from explorer.embedding.loading import check_model_id
from explorer.errors import InputError
from explorer.figures.charts import metrics_figure
from explorer.ingest.corpus import guess_text_column
from explorer.ingest.reading import FORMATS

UPLOAD = "Upload documents (and, to score recall, labelled queries)"
EXAMPLES = {"Example: 200 news articles, queries a sentence from late in each": "late_sentence",
            "Example: 200 news articles, queries their titles": "title"}
ROW_NUMBER = "(row number)"
TYPES = [ext.lstrip(".") for ext in FORMATS]

st.title("Chunking lab")
st.caption("Which chunk size suits these documents? Each setting splits every document as a build would (TOKENS "
           "per chunk, OVERLAP shared by consecutive chunks; `off` keeps texts whole, so the model cuts each one "
           "at its token limit), embeds the chunks once, and maps them as a workspace would. With labelled queries "
           "(`query_id, query, relevant_doc_id`), a document counts as found when any of its chunks is, at the rank "
           "of its best chunk.")
controls = st.columns([2, 3])
available = [model_id for model_id, spec in MODELS.items() if spec.available()]
model_id = controls[0].selectbox("Model", available, index=available.index(DEFAULT_MODEL), format_func=model_label,
                                 key="lab_model")
own = controls[0].text_input("Or your model: a sentence-transformers folder, or openai:NAME", key="lab_own_model",
                             help="Measured as it is; bundled models on their exact backend (PyTorch).").strip()
if own:
    try:
        check_model_id(own)
    except InputError as error:
        st.error(md(error))
        st.stop()
    model_id = own
settings = controls[1].text_input(f"Settings (two to {MAX_SETTINGS}, TOKENS:OVERLAP, comma-separated; off = whole "
                                  "texts)", "off,128:16,256:32,512:64", key="lab_settings")
try:
    parse_settings(settings)
except InputError as error:
    st.error(md(error))
    st.stop()
source = st.radio("Data", [*EXAMPLES, UPLOAD], key="lab_source")
if source == UPLOAD:
    columns = st.columns(2)
    documents_file = columns[0].file_uploader("Documents", type=TYPES, key="lab_documents")
    queries_file = columns[1].file_uploader("Labelled queries (optional)", type=TYPES, key="lab_queries")
    if documents_file is None:
        st.stop()
    data, filename = documents_file.getvalue(), documents_file.name
    queries = (queries_file.getvalue(), queries_file.name) if queries_file is not None else (None, None)
    try:
        table = cache.uploaded_table(data, filename)
        names = [str(column) for column in table.columns]
        suggested = cache.suggested_id_column(data, filename, *queries)
        pick = st.columns(2)
        text_column = pick[0].selectbox("Text column", names, index=names.index(guess_text_column(table)),
                                        key=f"lab_text_column {filename}")
        choices = [ROW_NUMBER, *names]
        id_choice = pick[1].selectbox("Id column (the queries' relevant_doc_id)", choices,
                                      index=choices.index(suggested.column or ROW_NUMBER) if suggested else 0,
                                      key=f"lab_id_column {filename} {queries[1]}")
        id_column = None if id_choice == ROW_NUMBER else id_choice
        if suggested:
            chosen = suggested if suggested.column == id_column else cache.id_join_of(data, filename, id_column,
                                                                                       *queries)
            st.caption(md(f"Id column '{id_choice}' " + ("chosen because " if chosen is suggested else "")
                          + f"{chosen.sentence()}."))
    except InputError as error:
        st.error(md(error))
        st.stop()
else:
    st.caption(f"Queries: {RETRIEVAL_QUERIES[EXAMPLES[source]]}. The articles run to 1,500-6,000 characters; "
               "all-MiniLM-L6-v2 reads 256 tokens (about 1,000 characters) of each text it is given.")
    example_corpus, example_queries = news_retrieval_example(EXAMPLES[source])
    data, filename = example_corpus.to_csv(index=False).encode(), "news-articles.csv"
    queries = (example_queries.to_csv(index=False).encode(), "queries.csv")
    text_column, id_column = "text", "doc_id"

run = (filename, text_column, id_column, settings, model_id, queries[1])
if st.button("Run the comparison", key="lab_run", type="primary"):
    st.session_state["lab_ran"] = run
if st.session_state.get("lab_ran") != run:
    st.caption("Each setting is embedded and mapped: minutes on a large corpus. Check the columns, then run.")
    st.stop()
try:
    lab = cache.chunking_lab(data, filename, text_column, id_column, settings, model_id, *queries)
except InputError as error:
    st.error(md(error))
    st.stop()

st.info(md(lab.recommendation()))
table = lab.table
shares = {"truncated": st.column_config.NumberColumn("texts cut short", format="%.1f%%"),
          "tokens_unread": st.column_config.NumberColumn("tokens never read", format="%.1f%%"),
          "noise": st.column_config.NumberColumn("unclustered", format="%.1f%%")}
shown = table.assign(**{column: table[column] * 100 for column in shares})
show_table(shown, column_config=shares | {name: st.column_config.NumberColumn(format="%.3f")
                                          for name in LAB_METRICS if name in table})
reads = (f"reads {lab.token_limit} tokens of each text (its special tokens aside), so a chunk longer than that "
         "loses its end" if lab.token_limit else "reads every token")
st.caption(f"{lab.n_documents:,} documents; {md(model_id)} {reads}. Near-duplicate pairs at cosine ≥ "
           f"{DEFAULT_THRESHOLD}; clusters by HDBSCAN on each setting's own map.")
named = table.rename(columns={"setting": "model", "truncated": "texts cut short",
                              "tokens_unread": "tokens never read", "noise": "unclustered"})
figures = [(LAB_METRICS, "Documents found, by setting")] if lab.n_queries else []
figures.append((("texts cut short", "tokens never read", "unclustered"), "Shares of texts cut short, of tokens "
                                                                         "never read, and of unclustered points"))
for metrics, title in figures:
    st.plotly_chart(metrics_figure(named, metrics, title=title), key=f"lab_figure {metrics[0]}", width="stretch")
download_csv(table, label="Download the comparison (CSV)", file_name="chunking-lab.csv", key="download_lab")
