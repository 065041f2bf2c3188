"""A build never destroys what it was not asked to replace, refuses a second build of the same workspace, checks
its name before any work and cleans up after builds that were killed."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from explorer.build.pipeline import build_workspace
from explorer.config import BuildConfig
from explorer.errors import InputError
from explorer.ingest.corpus import IngestConfig
from explorer.mapping.cluster import ClusterConfig
from explorer.workspace import MANIFEST, Workspace, build_lock, clean_stale_builds, files

from ..conftest import ROOT

CONFIG = BuildConfig(IngestConfig("text"), cluster=ClusterConfig(min_cluster_size=5))


def _table_and_vectors(n: int = 40):
    table = pd.DataFrame({"text": [f"text number {i}" for i in range(n)]})
    vectors = np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32)
    return table, vectors


def _build(out):
    table, vectors = _table_and_vectors()
    return build_workspace(table, CONFIG, out, source="test", vectors=vectors)


def _tree(folder):
    return sorted((str(path.relative_to(folder)), path.read_bytes() if path.is_file() else None)
                  for path in folder.rglob("*"))


def test_a_folder_that_is_not_a_workspace_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "mydocs"
    (out / "photos").mkdir(parents=True)
    (out / "thesis.txt").write_text("four years of work")
    (out / "photos" / "a.jpg").write_bytes(b"\xff\xd8 jpeg")
    before = _tree(out)
    with pytest.raises(InputError, match="not a workspace"):
        _build(out)
    assert _tree(out) == before
    assert [path.name for path in tmp_path.iterdir()] == ["mydocs"]  # no hidden leftovers


def test_a_plain_file_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "notes"
    out.write_text("keep me")
    with pytest.raises(InputError, match="not a workspace"):
        _build(out)
    assert out.read_text() == "keep me" and [path.name for path in tmp_path.iterdir()] == ["notes"]


def test_a_workspace_and_an_empty_folder_may_be_replaced(tmp_path):
    (tmp_path / "empty").mkdir()
    assert (_build(tmp_path / "empty").path / MANIFEST).is_file()
    first = _build(tmp_path / "ws").manifest.timings
    second = _build(tmp_path / "ws")
    assert second.manifest.timings != first and sorted(p.name for p in tmp_path.iterdir()) == ["empty", "ws"]


def test_a_name_too_long_is_refused_before_any_work(tmp_path, monkeypatch):
    def no_model(model_id):
        raise AssertionError("the model was loaded before the name was checked")

    monkeypatch.setattr("explorer.build.pipeline.load_encoder", no_model)
    table, _ = _table_and_vectors()
    with pytest.raises(InputError, match="at most 200"):
        build_workspace(table, CONFIG, tmp_path / ("x" * 240), source="test")
    assert not list(tmp_path.iterdir())


def test_a_second_build_of_the_same_workspace_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "shared"
    with build_lock(out, "a colleague"):
        with pytest.raises(InputError, match="being built right now by a colleague"):
            _build(out)
    assert not out.exists()
    assert (_build(out).path / MANIFEST).is_file()  # the lock was released
    assert not list(tmp_path.glob(".*"))


def test_a_lock_left_by_a_killed_build_is_taken_over(tmp_path):
    out = tmp_path / "ws"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    lock = tmp_path / ".ws.lock"
    import json
    import socket

    lock.write_text(json.dumps({"owner": "a killed build", "pid": pid, "host": socket.gethostname()}))
    assert Workspace.open(_build(out).path).manifest.n_points == 40


def test_stale_build_folders_are_cleaned_and_running_ones_kept(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    stale = tmp_path / f".old.building-{dead}-abc123"
    running = tmp_path / f".new.building-{os.getpid()}-def456"
    for folder in (stale, running):
        (folder / "sub").mkdir(parents=True)
        (folder / files.BUILD_MARK).write_text("{}")  # as building_folder marks them
    assert clean_stale_builds(tmp_path) == ["old"]
    assert not stale.exists() and running.exists()


def test_look_alike_files_in_the_parent_folder_survive_builds_and_clean_ups(tmp_path):
    """Files of the user's whose names only look like a build's (no mark, not our record) are never removed."""
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    look_alikes = [tmp_path / ".mydb.lock", tmp_path / ".editor.progress.json",
                   tmp_path / f".cache.building-{dead}-keep", tmp_path / ".emptyws.previous"]
    look_alikes[0].write_text("my database lock")
    look_alikes[1].write_text('{"cursor": 3}')
    look_alikes[2].mkdir()
    (look_alikes[2] / "notes.txt").write_text("mine")
    look_alikes[3].mkdir()
    assert clean_stale_builds(tmp_path) == []
    _build(tmp_path / "emptyws")
    _build(tmp_path / "emptyws")  # a rebuild swaps the workspace in
    assert all(path.exists() for path in look_alikes)
    with pytest.raises(InputError, match="was not written by this tool"):
        _build(tmp_path / "mydb")  # the lock name a build of 'mydb' would take is the user's file
    assert look_alikes[0].read_text() == "my database lock"


def test_out_inside_a_workspace_and_a_rebuild_over_foreign_files_are_refused(tmp_path):
    workspace = _build(tmp_path / "W")
    with pytest.raises(InputError, match="inside the workspace 'W'"):
        _build(tmp_path / "W" / "nested")
    (tmp_path / "W" / "NOTES.txt").write_text("my notes")
    with pytest.raises(InputError, match="also holds NOTES.txt, which a rebuild would remove"):
        _build(tmp_path / "W")
    assert (tmp_path / "W" / "NOTES.txt").read_text() == "my notes" and workspace.path.exists()


def test_cli_refuses_to_replace_a_folder_that_is_not_a_workspace(tmp_path, tweets):
    source = tmp_path / "in.csv"
    tweets.head(20).to_csv(source, index=False)
    out = tmp_path / "mydocs"
    out.mkdir()
    (out / "thesis.txt").write_text("keep")
    result = subprocess.run([sys.executable, "-m", "explorer", "build", str(source), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 2 and "not a workspace" in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert [path.name for path in out.iterdir()] == ["thesis.txt"] and (out / "thesis.txt").read_text() == "keep"


def test_an_out_below_a_file_is_refused_in_one_line(tmp_path, capsys):
    from ..cli import run_cli

    (tmp_path / "afile").write_text("mine")
    table = tmp_path / "in.csv"
    pd.DataFrame({"text": [f"text number {i}" for i in range(10)]}).to_csv(table, index=False)
    ran = run_cli(capsys, "build", table, "--out", tmp_path / "afile" / "sub")
    assert ran.returncode == 2 and "is a file, not a folder" in ran.stderr and "Errno" not in ran.stderr
    assert (tmp_path / "afile").read_text() == "mine"


def test_a_swap_stopped_between_its_renames_loses_no_workspace(tmp_path, monkeypatch):
    """Where folders cannot be exchanged atomically, a kill between the two renames leaves the old workspace in a
    hidden folder: the next start puts it back, and the finished build's folder is cleaned only as a stale build."""
    import explorer.workspace.safety as safety

    old = _build(tmp_path / "W")
    monkeypatch.setattr(safety, "_exchange", lambda first, second: False)
    renames = []
    real_rename = type(tmp_path).rename

    def killed_after_first(self, target):
        renames.append(target)
        if len(renames) == 2:
            raise KeyboardInterrupt  # the process dies here
        return real_rename(self, target)

    monkeypatch.setattr(type(tmp_path), "rename", killed_after_first)
    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path / "W")
    monkeypatch.undo()
    assert not (tmp_path / "W").exists()  # both copies are hidden now
    clean_stale_builds(tmp_path)
    assert Workspace.open(tmp_path / "W").manifest.build_id == old.manifest.build_id
