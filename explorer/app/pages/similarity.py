"""Similarity: how the corpus's vectors relate: random-pair baseline, nearest neighbours, clusters, anisotropy
and hubness, raw or centred."""

from pathlib import Path

import pandas as pd
import streamlit as st

from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import download_csv, measured_caption, model_label, open_workspace_or_stop, show_table
from explorer.embedding.encoders import MODELS
from explorer.errors import InputError
from explorer.figures.charts import distributions_figure, map_figure

opened = open_workspace_or_stop("Similarity")
path, version = opened.path, opened.version
manifest = opened.data.manifest
st.title(f"Similarity in {md(manifest.name)}")
st.caption(f"Cosine similarity between the {manifest.n_points:,} vectors of {md(manifest.model)}. Read any score "
           "against the random-pair baseline: that is what 'unrelated' looks like for this model on this corpus.")
controls = st.columns(2)
centre = controls[0].toggle("Centre the vectors (subtract the corpus mean)", key="centre",
                            help="Removes the direction all vectors share; watch the baseline move towards 0.")
ecdf = controls[1].toggle("Cumulative (ECDF) instead of histograms", key="ecdf")
try:
    raw = cache.similarity_profile(str(path), version, False)
    profile = cache.similarity_profile(str(path), version, True) if centre else raw
except InputError as error:
    st.error(md(error))
    st.stop()

figures = st.columns(2)
figures[0].metric("Anisotropy (mean random-pair cosine)", f"{profile.anisotropy:.3f}",
                  delta=f"{profile.anisotropy - raw.anisotropy:+.3f} from raw" if centre else None,
                  delta_color="off")
figures[0].write(profile.anisotropy_sentence())
figures[1].metric(f"Hubness (skewness of {profile.k}-occurrence)", f"{profile.hubness:.2f}",
                  delta=f"{profile.hubness - raw.hubness:+.2f} from raw" if centre else None, delta_color="off")
figures[1].write(profile.hubness_sentence())
label = " (centred)" if centre else ""
series = {"random pairs (baseline)": profile.random_pairs, "each point's nearest neighbour": profile.nearest}
if centre:  # the raw distributions stay on the chart, so the move is visible
    series |= {"random pairs, raw": raw.random_pairs, "nearest neighbour, raw": raw.nearest}
st.plotly_chart(distributions_figure(
    series, title=f"Random pairs vs nearest neighbours{label}", x_title="cosine similarity", ecdf=ecdf,
    marks={"baseline mean": profile.anisotropy}), key="baseline_figure", width="stretch")
if len(profile.within):
    st.plotly_chart(distributions_figure(
        {"same cluster": profile.within, "different clusters": profile.between},
        title=f"Within vs between HDBSCAN clusters{label}", x_title="cosine similarity", ecdf=ecdf),
        key="cluster_figure", width="stretch")
else:
    st.info("Fewer than two clusters: no within/between comparison (try re-clustering on the Map page).")

st.subheader("Compare neighbourhoods with another model")
st.caption("Embed the same texts with a second model and compare each point's 10 nearest neighbours under both: "
           "where the models agree, the neighbourhood stays; where they disagree, it changes.")
others = [model_id for model_id, spec in MODELS.items() if spec.available() and model_id != manifest.model]
compare = st.columns([3, 1])
other = compare[0].selectbox("Other model", others, format_func=model_label, key="other_model")
own = compare[0].text_input("Or your model: a sentence-transformers folder, or openai:NAME (a server at "
                            "$OPENAI_BASE_URL)", key="other_own_model").strip()
other = own or other
if compare[1].button("Compare", key="compare_models") or st.session_state.get("compared_with") == other:
    st.session_state["compared_with"] = other
    try:
        overlap = cache.neighbourhood_overlap(str(path), version, other, 10)
    except InputError as error:
        st.error(md(error))
        st.stop()
    measured_caption([other])
    data = opened.data
    st.metric(f"Mean share of the 10 nearest neighbours kept by {md(other)}", f"{overlap.mean():.0%}")
    change = pd.Series(1.0 - overlap, name="neighbourhood change")
    st.plotly_chart(map_figure(data.layout_2d, data.hover, change,
                               title=f"How much each point's neighbourhood changes with {other} (1 = entirely)",
                               continuous=True),
                    key="change_map", width="stretch")
    changed = data.points.assign(**{"neighbours kept": overlap}).sort_values("neighbours kept", kind="stable")
    show_table(changed.head(50))
    download_csv(changed,
                 label="Download every point's overlap (CSV)",
                 file_name=f"{manifest.name}-vs-{Path(other).name}.csv", key="download_overlap")
