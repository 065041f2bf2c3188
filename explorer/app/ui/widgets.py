"""Small widget groups shared by pages."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from explorer.app.ui import cache, state
from explorer.app.ui.point_map import point_map
from explorer.app.ui.safe import md
from explorer.embedding.encoders import DEFAULT_MODEL, MODELS, ModelSpec
from explorer.embedding.loading import check_model_id
from explorer.errors import InputError
from explorer.export import to_safe_csv
from explorer.figures import charts as figures
from explorer.workspace import Workspace
from explorer.workspace.progress import Counts, stage_sentence

JS_MAX_SAFE_INTEGER = 2**53 - 1


def stage_progress() -> Callable[..., None]:
    """A progress bar that pipeline stages report into as (description, fraction[, (done, total)]): the stage, its
    share, the items done and their rate where it counts them, and the time left."""
    bar = st.progress(0.0, text="Starting…")
    started: dict[str, float] = {}

    def report(stage: str, fraction: float, counts: Counts | None = None) -> None:
        elapsed = time.monotonic() - started.setdefault(stage, time.monotonic())
        bar.progress(min(max(fraction, 0.0), 1.0), text=stage_sentence(stage, fraction, elapsed=elapsed,
                                                                        counts=counts))

    return report


def download_csv(frame: pd.DataFrame, *, label: str, file_name: str, key: str, container=None) -> None:
    """A download button for ``frame`` as formula-safe CSV: the app's only way to export a table (the tables' own
    toolbar export is off, ``client.disableDataExport``, since it writes cells raw). The CSV is made when the button
    is clicked (Streamlit's deferred download), not on every rerun: the Map page's table of a million points took
    14 s to write, nine tenths of each rerun. A click does not rerun the page."""
    (container or st).download_button(label, functools.partial(to_safe_csv, frame), file_name=file_name,
                                      mime="text/csv", key=key, on_click="ignore")


def model_label(model_id: str) -> str:
    spec = MODELS.get(model_id)
    if spec is None:
        return model_id if model_id.endswith("…") else f"{model_id} (your model)"
    return spec.label if spec.available() else f"{spec.label} — not installed"


def model_card(spec: ModelSpec) -> None:
    tokens = f"{spec.max_tokens} tokens" if spec.max_tokens else "no token limit"
    st.caption(f"{md(spec.description)} · {spec.dim} dimensions · {tokens} · speed {md(spec.speed_hint)}")
    if not spec.available():
        st.warning(f"This model is not installed on this machine. Install it with `{spec.install}` "
                   "and restart the app.")


def show_table(frame: pd.DataFrame, **kwargs) -> None:
    """``st.dataframe`` without the index, with integers beyond JavaScript's exact range (tweet ids, say) shown
    as text: the browser would otherwise round them to a different id."""
    wide = [column for column in frame.columns if pd.api.types.is_integer_dtype(frame[column])
            and (frame[column].dropna().abs() > JS_MAX_SAFE_INTEGER).any()]
    st.dataframe(frame.astype({column: str for column in wide}), hide_index=True, width="stretch", **kwargs)


@dataclass(frozen=True, eq=False)
class OpenWorkspace:
    """The workspace a page shows: its folder, its version (the cache key that changes with every write) and what
    the map draws (manifest, points, layout, clusters, flags)."""

    path: Path
    version: float
    data: cache.MapData


def open_workspace() -> OpenWorkspace | None:
    """The current workspace, loaded through the cache; None when there is none. A folder that cannot be opened
    (deleted, corrupt, of a newer format) is said on the page, which stops."""
    path = state.current_workspace()
    if path is None:
        return None
    try:
        version = Workspace.open(path).version()
        _offer_map_rebuild(path, cache.layout_problem(str(path), version))
        return OpenWorkspace(path, version, cache.map_data(str(path), version))
    except (InputError, OSError, KeyError, ValueError) as error:
        st.error(f"The workspace '{md(path.name)}' cannot be opened: {md(error)}. Build it again on the New "
                 "workspace page, or pick another in the sidebar.")
        st.stop()


def _offer_map_rebuild(path: Path, problem: str | None) -> None:
    """A workspace whose map is broken says what is wrong and offers to build the map again; the page stops."""
    if problem is None:
        return
    st.error(f"The workspace '{md(path.name)}' has no map to draw: {md(problem)} Its texts, vectors, index and "
             "neighbours are intact, so the map can be built again from them (the clusters too).")
    if st.button("Build the map again", key="rebuild_map", type="primary"):
        from explorer.app.ui import writes

        writes.rebuild_map(path)
        st.rerun()
    st.stop()


def open_workspace_or_stop(title: str) -> OpenWorkspace:
    """The current workspace; without one, the page says how to get one and stops."""
    opened = open_workspace()
    if opened is None:
        st.title(title)
        st.info("No workspace yet: open the Map page to build the bundled sample, or build one on New workspace.")
        st.stop()
    return opened


def models_to_compare(container, label: str, *, key: str) -> list[str]:
    """A multiselect of the installed models (the default first), and a field for the user's own model (a
    sentence-transformers folder, or ``openai:NAME`` for a server at $OPENAI_BASE_URL), added beside them;
    stops the page when none is picked or the own model cannot be used."""
    available = [model_id for model_id, spec in MODELS.items() if spec.available()]
    models = container.multiselect(label, available, default=[DEFAULT_MODEL], format_func=model_label, key=key)
    own = container.text_input("Your model (optional): a sentence-transformers folder on this machine, or "
                               "openai:NAME for an embeddings server at $OPENAI_BASE_URL", key=f"{key} own",
                               help="Measured on PyTorch as it is (bundled models: their exact backend). Press "
                                    "Enter.").strip()
    if own:
        try:
            check_model_id(own)
            cache.measuring_encoder(own)  # a server that does not answer is said here, not inside a figure
            models = [*models, own]
        except InputError as error:
            st.error(md(error))
            st.stop()
    if not models:
        st.info("Pick at least one model.")
        st.stop()
    return models


def measured_caption(model_ids: list[str]) -> None:
    """Which model, backend and fingerprint each figure on the page was measured with."""
    # A code span shows its text as it is (no link or image can form in it); a backtick would close it early.
    lines = [f"{md(measured['model'])} on {md(measured['runs_on'])} (`{measured['fingerprint'].replace('`', '')}`)"
             for measured in (cache.measured_by(model_id) for model_id in model_ids)]
    st.caption("Measured with " + "; ".join(lines) + ".")


def results_map(data: cache.MapData, path: Path, version: float, *, hits: np.ndarray, origin: np.ndarray | None,
                origin_label: str, title: str, key: str, clickable: bool = False) -> list[int]:
    """The map with search results on top: each ringed and numbered, joined to the query's star at ``origin``.
    Plotly with hover labels up to ``figures.MAX_DRAWN`` points; above, the WebGL point map with every point.
    Returns the rows clicked on it (when ``clickable``)."""
    if len(data.points) > figures.MAX_DRAWN:
        drawing = cache.results_drawing(str(path), version)
        marks = drawing.search_marks(data.layout_2d[hits], origin, origin_label)
        clicked = point_map(drawing, title=title, key=key, marks=marks, muted=True)
        return clicked if clickable else []
    hit_labels = [f"<b>#{rank}</b> {data.hover[row]}" for rank, row in enumerate(hits, start=1)]
    figure = figures.search_figure(data.layout_2d, data.hover, data.clustering.labels, data.keywords, hits=hits,
                                   hit_labels=hit_labels, origin=origin, origin_label=origin_label, title=title)
    event = st.plotly_chart(figure, key=key, on_select="rerun" if clickable else "ignore",
                            selection_mode=("points",), width="stretch")
    return figures.selected_rows(event.selection.points) if clickable else []
