"""Calibration audit: upload labelled text pairs, see whether a model separates relevant from irrelevant ones."""

import numpy as np
import pandas as pd
import streamlit as st

from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, measured_caption, models_to_compare, show_table
from explorer.audits.pairs import DEFAULT_THRESHOLD, audit_pairs
from explorer.build.sample import sts_pairs_file
from explorer.errors import InputError
from explorer.figures.charts import curve_figure, distributions_figure
from explorer.ingest.reading import FORMATS

UPLOAD, EXAMPLE = "Upload a pairs file", "Example: 500 STS-B pairs (graded 0-5)"

st.title("Calibration audit")
st.caption("Is the model good enough for retrieval on your data? Give pairs of texts labelled relevant or not "
           "(`text_a, text_b, label` with 1/0) or graded (`text_a, text_b, score`, e.g. 0-5). Rule of thumb: "
           "relevant pairs should mostly score above about 0.7 cosine, and irrelevant ones below it.")
example = sts_pairs_file()
st.download_button("Download the example pairs file (CSV)", example.read_bytes(), file_name=example.name,
                   mime="text/csv", key="download_example")
# The controls come before the data: rendered on every run, they keep their values while a file is being chosen
# (a widget skipped by a run loses its state, and the page would then report values the controls no longer show).
controls = st.columns([2, 1])
threshold = controls[1].slider("Threshold (cosine)", -1.0, 1.0, DEFAULT_THRESHOLD, 0.01, key="audit_threshold")
models = models_to_compare(controls[0], "Models (pick several to compare them; the first is shown in detail)",
                           key="audit_models")
source = st.radio("Pairs", [UPLOAD, EXAMPLE], horizontal=True, key="pairs_source")
if source == UPLOAD:
    upload = st.file_uploader("Pairs file", type=[ext.lstrip(".") for ext in FORMATS], key="pairs_file")
    if upload is None:
        st.stop()
    data, filename = upload.getvalue(), upload.name
else:
    data, filename = example.read_bytes(), example.name

audits = {}
try:
    for model_id in models:
        pairs, scores = cache.scored_pairs(data, filename, model_id)
        audits[model_id] = audit_pairs(pairs, scores, model=model_id, threshold=threshold)
except InputError as error:
    st.error(f"This pairs file cannot be audited: {md(error)}")
    st.stop()
model_id = models[0]
result = audits[model_id]
measured_caption(models)
pairs, scores = result.pairs, result.scores
if len(models) > 1:
    st.subheader("Side by side")
    comparison = pd.DataFrame([audit.summary() for audit in audits.values()])
    show_table(comparison, column_config={name: st.column_config.NumberColumn(format="%.3f") for name in (
        "auc", "share_relevant_above", "share_irrelevant_above", "best_threshold", "best_f1", "spearman")})
    st.plotly_chart(distributions_figure(
        {f"{name}: relevant": audit.scores[audit.pairs.relevant] for name, audit in audits.items()}
        | {f"{name}: irrelevant": audit.scores[~audit.pairs.relevant] for name, audit in audits.items()},
        title="Cosine of relevant and irrelevant pairs, by model", x_title="cosine similarity", ecdf=True,
        marks={f"threshold {threshold:.2f}": threshold}), key="comparison_figure", width="stretch")
    download_csv(comparison,
                 label="Download the comparison (CSV)",
                 file_name="audit-comparison.csv", key="download_audit_comparison")
    st.subheader(f"In detail: {md(model_id)}")
for note in result.notes:
    st.info(md(note))
if pairs.graded is not None:
    st.caption(f"Graded scores: pairs scoring {pairs.relevant_from:g} or more count as relevant "
               f"({int(pairs.relevant.sum()):,} of {len(scores):,}).")

headline = st.columns(5)
headline[0].metric("ROC AUC", "undefined" if result.auc is None else f"{result.auc:.3f}",
                   help="The chance that a random relevant pair scores above a random irrelevant one.")
headline[1].metric(f"Relevant ≥ {threshold:.2f}", "—" if result.share_relevant_above is None
                   else f"{result.share_relevant_above:.0%}")
headline[2].metric(f"Irrelevant ≥ {threshold:.2f}", "—" if result.share_irrelevant_above is None
                   else f"{result.share_irrelevant_above:.0%}")
if result.best_threshold is not None:
    low, high = result.best_threshold_interval
    headline[3].metric("F1-best threshold", f"{result.best_threshold:.3f}",
                       help=f"95% bootstrap interval {low:.3f} to {high:.3f}")
    headline[3].caption(f"95% interval {low:.3f}–{high:.3f}; F1 {result.best_f1:.3f}")
else:
    headline[3].metric("F1-best threshold", "undefined")
headline[4].metric("Spearman (graded)", "—" if result.spearman is None else f"{result.spearman:.3f}")

st.plotly_chart(distributions_figure(
    {"relevant pairs": scores[pairs.relevant], "irrelevant pairs": scores[~pairs.relevant]},
    title=f"Cosine of relevant vs irrelevant pairs ({model_id})", x_title="cosine similarity",
    marks={f"threshold {threshold:.2f}": threshold}), key="pairs_figure", width="stretch")
st.plotly_chart(curve_figure(result.curve, threshold=threshold, best=result.best_threshold), key="curve_figure",
                width="stretch")
table = pd.DataFrame({"text_a": pairs.text_a, "text_b": pairs.text_b, "relevant": pairs.relevant,
                      "cosine": np.round(scores, 4)})
if pairs.graded is not None:
    table["score"] = pairs.graded
above = table["cosine"] >= threshold
misjudged = table[(table["relevant"] & ~above) | (~table["relevant"] & above)]
st.subheader(f"{len(misjudged):,} pairs on the wrong side of {threshold:.2f}")
show_table(misjudged.sort_values("cosine"))
download_csv(table,
             label="Download all pairs with their cosine (CSV)",
             file_name=f"audit-{model_id}.csv", key="download_audit")
