"""Label audit: can a label column be predicted from each text's nearest neighbours, and which labels look wrong?"""

import numpy as np
import pandas as pd
import streamlit as st

from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, open_workspace_or_stop, show_table
from explorer.audits.labels import DEFAULT_K, suspects_table
from explorer.errors import InputError
from explorer.figures.charts import confusion_figure, map_figure

AGREES, DISAGREES = "label agrees with most neighbours", "label disagrees with most neighbours"

opened = open_workspace_or_stop("Label audit")
path, version, data = opened.path, opened.version, opened.data
name = data.manifest.name
st.title(f"Label audit of {md(name)}")
st.caption("Could a label (a category, an intent, a source) be told from each text's nearest neighbours? Each "
           "point's k nearest other points vote (leave-one-out, through the workspace's cosine neighbour graph). "
           "Accuracy well above the majority baseline means the embedding separates the labels; a point whose "
           "neighbours mostly carry another label deserves a second look: a wrong label, or a text that fits two.")
metadata = [column for column in data.points.columns if column not in ("id", "chunk", "text")]
if not metadata:
    st.info("This workspace kept no metadata column to audit. Build it again with the label column kept "
            "(New workspace: *Metadata columns*; command line: `--meta-col`).")
    st.stop()
controls = st.columns([2, 1, 1])
column = controls[0].selectbox("Label column", metadata, key="label_column")
k = int(controls[1].number_input("Neighbours that vote (k)", 1, 50, DEFAULT_K, key="label_k"))
top = int(controls[2].number_input("Suspect labels listed", 1, 1000, 50, key="label_top"))
try:
    audit = cache.label_audit(str(path), version, column, k)
except InputError as error:
    st.error(md(error))
    st.stop()

headline = st.columns(4)
headline[0].metric("k-NN accuracy", f"{audit.accuracy:.1%}",
                   help="The share of points whose neighbours' vote is their own label.")
headline[1].metric("Macro-F1", f"{audit.macro_f1:.3f}", help="F1 averaged over labels, each label counting once.")
headline[2].metric("Majority baseline", f"{audit.majority_baseline:.1%}",
                   help=f"Always answering the most common label, '{md(audit.majority_label)}'.")
headline[3].metric("Points outvoted", f"{int(audit.disagrees().sum()):,}",
                   help="Points whose own label is carried by fewer than half of their neighbours.")
lift = audit.accuracy - audit.majority_baseline
st.write(f"The neighbours' vote finds the label of {audit.accuracy:.0%} of the {len(audit.labels):,} points, "
         f"against {audit.majority_baseline:.0%} for always answering the most common label: "
         + ("the embedding separates these labels well." if lift >= 0.3 else
            "it separates them somewhat." if lift >= 0.1 else
            "it hardly separates them (the labels may not be about what the texts say, or k is too small)."))

suspects_tab, classes_tab, confusion_tab, map_tab = st.tabs(
    ["Labels that look wrong", "Per label", "Confusion", "Map"])
with suspects_tab:
    suspects = suspects_table(audit, data.points, top=top).drop(columns="row")
    st.caption("Most confidently outvoted first: the label given, what most neighbours carry instead and their "
               "share, and the first three neighbours.")
    show_table(suspects, column_config={"vote_share": st.column_config.NumberColumn(format="percent"),
                                        "agreement": st.column_config.NumberColumn(format="percent")})
    download_csv(suspects, label="Download the suspect labels (CSV)", file_name=f"{name}-{column}-suspects.csv",
                 key="download_suspects")
with classes_tab:
    per_class = audit.per_class()
    show_table(per_class, column_config={figure: st.column_config.NumberColumn(format="%.3f")
                                         for figure in ("precision", "recall", "f1")})
    download_csv(per_class, label="Download the per-label figures (CSV)", file_name=f"{name}-{column}-labels.csv",
                 key="download_per_label")
with confusion_tab:
    confusion = audit.confusion()
    st.plotly_chart(confusion_figure(confusion, title=f"'{column}' given (rows) against the neighbours' vote"),
                    key="confusion_figure", width="stretch")
    download_csv(confusion.reset_index(), label="Download the confusion matrix (CSV)",
                 file_name=f"{name}-{column}-confusion.csv", key="download_confusion")
with map_tab:
    colour = pd.Series(np.where(audit.disagrees(), DISAGREES, AGREES), name=f"'{column}' against the neighbours")
    st.plotly_chart(map_figure(data.layout_2d, data.hover, colour, title=f"{name} · '{column}' against the "
                               "neighbours"), key="label_map", width="stretch")
