"""Every write the app makes to a workspace goes through here, so the cached reads can be refreshed in one place
(the cache keys carry the workspace folder's version, which each write changes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from explorer.app.ui import cache
from explorer.app.ui.sample_build import SampleBuild
from explorer.app.ui.widgets import stage_progress
from explorer.build import map_repair, recluster
from explorer.build.flags import save_decisions
from explorer.build.pipeline import build_workspace
from explorer.build.sample import sample_workspace_path
from explorer.config import BuildConfig
from explorer.ingest.provenance import SourceFile
from explorer.workspace import Workspace, build_running

OWNER = "another user of this app"


def build(table: pd.DataFrame, config: BuildConfig, out: Path, *, source: str, vectors: np.ndarray | None,
          data: bytes) -> Workspace:
    """Build a workspace from the New workspace page (``data``: the uploaded file's bytes, whose size and sha256
    the provenance records), with a progress bar; InputError says what was refused."""
    return build_workspace(table, config, out, source=source, vectors=vectors,
                           encoder=None if vectors is not None else cache.encoder(config.model_id, config.backend),
                           progress=stage_progress(), owner=OWNER, source_file=SourceFile.of(source, data))


def start_sample_build() -> SampleBuild | None:
    """Start building the bundled sample in the background, once per process, unless another process (``explorer
    sample``, started with the server) is building it; None then."""
    if build_running(sample_workspace_path()):
        return None
    return cache.fresh_sample_build()


def save_clustering(path: Path, result: recluster.Reclustering, build_id: str) -> None:
    """Make a session's re-clustering the workspace's clustering, for every user (refused when the workspace was
    built again since ``build_id``, the build it was computed on)."""
    recluster.save_clusters(Workspace(path, build_id), result, owner=OWNER)


def rebuild_map(path: Path) -> None:
    """Compute a workspace's layouts and clusters again from its saved vectors (its map was missing or broken), with
    a progress bar."""
    map_repair.rebuild_map(Workspace.open(path), progress=stage_progress())


def save_duplicate_flags(path: Path, build_id: str, pairs, outliers, drop_rows: set[int]) -> None:
    """Save the duplicate decisions (and the outlier scores of the k the user chose) as the workspace's flags."""
    save_decisions(Workspace(path, build_id), pairs, outliers, drop_rows, owner=OWNER)
