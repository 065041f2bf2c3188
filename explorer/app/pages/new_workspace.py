"""New workspace: upload a file (or take the bundled sample), choose columns and a model, build the map."""

from pathlib import Path

import streamlit as st

from explorer.app.ui import cache, state, writes
from explorer.app.ui.navigation import map_page
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import model_card, model_label, show_table
from explorer.build.sample import sample_file
from explorer.config import BuildConfig
from explorer.embedding.embed import read_vectors
from explorer.embedding.encoders import BACKEND_NAMES, DEFAULT_MODEL, MODELS
from explorer.embedding.loading import check_model_id
from explorer.errors import InputError
from explorer.ingest.chunk import ChunkConfig
from explorer.ingest.corpus import IngestConfig, choose_text_column
from explorer.ingest.limits import check_points
from explorer.ingest.reading import FORMATS, SEPARATORS
from explorer.mapping.index import METRICS, IndexConfig
from explorer.workspace import MANIFEST, check_build_target, safe_name, workspaces_root

UPLOAD, SAMPLE = "Upload a file", "Bundled sample (health-news tweets)"
ROW_NUMBER = "(row number)"
YOUR_MODEL = "Your model…"
CANCELLED = "build_cancelled"

st.title("New workspace")
st.write("Embed a text file, index it with FAISS and map it with UMAP + HDBSCAN. Everything is saved, so "
         "re-opening the workspace later is instant.")

source = st.radio("Data", [UPLOAD, SAMPLE], horizontal=True, key="source")
if source == UPLOAD:
    upload = st.file_uploader("CSV, TSV, TXT (one document per line), JSONL or Parquet",
                              type=[suffix.lstrip(".") for suffix in FORMATS], key="upload")
    if upload is None:
        st.stop()
    filename, raw = upload.name, upload.getvalue()
else:
    filename, raw = sample_file().name, sample_file().read_bytes()

separator = None
if Path(filename).suffix.lower() == ".csv":
    separator = st.selectbox("Separator", [None, *SEPARATORS], key="separator",
                             format_func=lambda choice: "detected from the file" if choice is None else
                             f"{SEPARATORS[choice]} ({choice!r})")
try:
    read = cache.build_input(raw, filename, separator)
    choice = choose_text_column(read.table)
except InputError as error:
    st.error(f"Could not read '{md(filename)}': {md(error)}")
    st.stop()
table = read.table
for note in read.notes:
    st.info(md(note))

st.write(f"**{len(table):,} rows**, {len(table.columns)} columns. First rows:")
show_table(table.head(5))

columns = list(table.columns)
left, right = st.columns(2)
text_column = left.selectbox("Text column", columns, index=columns.index(choice.name), key="text_column")
left.caption(f"Preselected: {md(choice.reason)}")
id_choice = right.selectbox("Id column (optional)", [ROW_NUMBER, *[c for c in columns if c != text_column]],
                            key="id_column", help="Results join back to your data by this id.")
id_column = None if id_choice == ROW_NUMBER else id_choice
metadata = st.multiselect("Metadata columns to keep (colour the map by them)",
                          [c for c in columns if c not in (text_column, id_column)], key="metadata_columns")

st.subheader("Vectors")
use_precomputed = st.toggle("Use precomputed vectors instead of a model", key="use_precomputed")
vectors, model_id, backend = None, DEFAULT_MODEL, None
if use_precomputed:
    vector_file = st.file_uploader("Vectors: .npy (one row per data row) or a CSV/Parquet with a column of "
                                   "number lists",
                                   type=["npy", "csv", "parquet"], key="vector_file")
    vector_column = st.text_input("Column holding the vectors (CSV/Parquet only)", key="vector_column")
    if vector_file is None:
        st.stop()
    try:
        vectors = read_vectors(vector_file.getvalue(), vector_file.name, column=vector_column or None)
    except InputError as error:
        st.error(md(error))
        st.stop()
    st.caption(f"{vectors.shape[0]:,} vectors of dimension {vectors.shape[1]}.")
else:
    choice = st.selectbox("Embedding model", [*MODELS, YOUR_MODEL], format_func=model_label, key="model_id")
    spec = MODELS.get(choice)
    if choice == YOUR_MODEL:
        model_id = st.text_input("Your model: a sentence-transformers folder on this machine, or openai:NAME for an "
                                 "embeddings server at $OPENAI_BASE_URL", key="own_model").strip()
        if not model_id:
            st.stop()
        try:
            check_model_id(model_id)
            spec = cache.encoder(model_id).spec
        except InputError as error:
            st.error(md(error))
            st.stop()
    else:
        model_id = choice
    model_card(spec)
    if len(spec.backends) > 1:
        backend = st.selectbox("Runs on", spec.backends, format_func=BACKEND_NAMES.get, key="backend",
                               help="ONNX Runtime with 8-bit weights embeds about 3x faster here, with the same "
                                    "quality on STS-B; its vectors differ slightly from PyTorch's, so a workspace "
                                    "keeps the one it was built with.")

metric = st.selectbox(
    "Similarity metric", METRICS, key="metric",
    help="Cosine (the default) compares directions only. Dot product also rewards long vectors; euclidean is a "
         "distance (lower = closer). The index records the metric and refuses searches with any other.")

spec = MODELS[model_id] if vectors is not None else spec
chunk_config = ChunkConfig(enabled=False)
if vectors is None and spec.max_tokens:
    st.subheader("Long documents")
    chunk_on = st.toggle("Split long documents into overlapping chunks", value=True, key="chunking",
                         help="Each chunk keeps its document's id and gets a chunk number.")
    size_column, overlap_column = st.columns(2)
    state.follow_default("chunk_tokens", spec.content_tokens)
    chunk_tokens = size_column.number_input("Tokens per chunk", 8, 4096, key="chunk_tokens", disabled=not chunk_on,
                                            help="Defaults to what the chosen model reads.")
    overlap = overlap_column.number_input("Overlap (tokens)", 0, 1024, 32, key="chunk_overlap", disabled=not chunk_on)
    try:
        chunk_config = ChunkConfig(enabled=chunk_on, max_tokens=int(chunk_tokens), overlap=int(overlap))
    except InputError as error:
        st.error(md(error))
        st.stop()

state.follow_default("workspace_name", f"{Path(filename).stem}-{spec.id if vectors is None else 'vectors'}")
name = st.text_input("Workspace name", key="workspace_name")
try:
    config = BuildConfig(IngestConfig(text_column, id_column, tuple(metadata)), model_id=model_id, chunk=chunk_config,
                         index=IndexConfig(metric=metric), backend=backend)
    out = workspaces_root() / safe_name(name)
    check_build_target(out)
except InputError as error:
    st.error(md(error))
    st.stop()

if vectors is None and spec.available():
    try:
        report = cache.ingest_report(raw, filename, separator, config)
    except InputError as error:
        st.error(md(error))
        st.stop()
    show_message = st.warning if report.n_truncated else st.info
    for message in report.messages():
        show_message(message)
    n_points = report.n_chunks
else:
    n_points = len(table)
try:
    check_points(n_points, what=f"'{filename}'")
except InputError as error:
    st.error(md(error))
    st.stop()
replacing = (out / MANIFEST).is_file()
confirmed = not replacing or st.checkbox(
    f"Replace the existing workspace '{out.name}'", key="confirm_replace",
    help="A workspace with this name exists. It is replaced only once the new one is complete; until then it "
         "stays as it is. Or choose another name.")
if replacing and not confirmed:
    st.warning(f"A workspace named '{out.name}' exists: tick the box to replace it, or choose another name.")

if st.session_state.pop(CANCELLED, False):
    st.info("The build was cancelled: nothing was saved"
            + (f", and the workspace '{md(out.name)}' is as it was." if replacing else "."))
if st.button("Build the map", type="primary", key="build",
             disabled=(vectors is None and not spec.available()) or not confirmed):
    # Clicking it reruns the page, which stops the build at its next progress report; the build's own clean-up
    # removes what it had written, and a workspace it was to replace is only replaced once the new one is complete.
    st.button("Cancel the build", key="cancel_build", on_click=lambda: st.session_state.update({CANCELLED: True}))
    try:
        workspace = writes.build(table, config, out, source=filename, vectors=vectors, data=raw)
    except InputError as error:
        st.error(f"Nothing was saved: {md(error)}")
    else:
        state.open_workspace(workspace.path)
        st.switch_page(map_page())
