"""Edits after a build (re-clustering, flags and decisions, the map rebuilt, the 3-D layout) take the lock builds
take and write only into the build they read; readers refuse, in one line, a workspace whose files disagree."""

import threading

import pandas as pd
import pytest

from explorer.build.pipeline import build_workspace
from explorer.build.recluster import compute_clusters, recluster, save_clusters
from explorer.config import BuildConfig
from explorer.errors import InputError
from explorer.ingest.corpus import IngestConfig
from explorer.mapping.cluster import ClusterConfig
from explorer.workspace import Workspace, build_lock, files

from ..cli import run_cli
from ..conftest import _replayed_minilm

CONFIG = BuildConfig(IngestConfig("text", "tweet_id", ("outlet",)))


def _build(tweets, out, rows):
    return build_workspace(tweets.head(rows), CONFIG, out, source="test", encoder=_replayed_minilm())


def test_a_recluster_racing_a_rebuild_leaves_a_consistent_workspace(tweets, tmp_path):
    out = tmp_path / "W"
    _build(tweets, out, 400)
    rebuild = threading.Thread(target=_build, args=(tweets, out, 300))
    outcomes = []
    rebuild.start()
    while rebuild.is_alive() or not outcomes:
        try:
            recluster(Workspace.open(out), ClusterConfig(8, 3))
            outcomes.append("saved")
        except InputError as error:  # the rebuild holds the lock, or swapped in after the re-cluster read
            outcomes.append(str(error))
    rebuild.join()
    workspace = Workspace.open(out)  # refuses files that disagree
    assert workspace.manifest.n_points == 300
    assert len(workspace.points()) == len(workspace.clustering().clustering.labels) == 300
    assert len(workspace.flags().table) == len(workspace.layout(5)) == 300
    assert all(outcome == "saved" or "being built" in outcome or "built again" in outcome for outcome in outcomes)


def test_an_edit_computed_on_an_older_build_is_refused_and_writes_nothing(tweets, tmp_path):
    out = tmp_path / "W"
    _build(tweets, out, 400)
    opened = Workspace.open(out)
    result = compute_clusters(opened, ClusterConfig(8, 3))
    _build(tweets, out, 300)
    before = (out / files.CLUSTERS).read_bytes()
    with pytest.raises(InputError, match="built again since it was opened"):
        save_clusters(opened, result)
    assert (out / files.CLUSTERS).read_bytes() == before and Workspace.open(out).manifest.n_points == 300


def test_an_edit_while_a_build_holds_the_lock_is_refused_in_one_line(tweets, tmp_path, capsys):
    out = tmp_path / "W"
    _build(tweets, out, 300)
    with build_lock(out, "a test build"):
        ran = run_cli(capsys, "recluster", out, "--min-cluster-size", "8")
    assert ran.returncode == 2 and "being built right now by a test build" in ran.stderr
    assert ran.stderr.count("\n") == 1


def test_a_torn_workspace_is_refused_by_every_reader_in_one_line(tweets, tmp_path, capsys):
    out = tmp_path / "W"
    workspace = _build(tweets, out, 300)
    frame = pd.read_parquet(out / files.CLUSTERS)
    pd.concat([frame, frame.head(10)]).to_parquet(out / files.CLUSTERS)
    with pytest.raises(InputError, match="clusters.parquet holds 310 rows where the manifest says 300 points"):
        Workspace.open(out)
    for command in (["outliers", out], ["info", out], ["report", out, "--out", tmp_path / "r.html"]):
        ran = run_cli(capsys, *command)
        assert ran.returncode == 2 and "inconsistent" in ran.stderr and ran.stderr.count("\n") == 1
    assert workspace.path == out  # the handle opened before the tear stays a plain path: readers check on opening
