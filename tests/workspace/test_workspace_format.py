"""The workspace format: every artifact with its own record, a format version, and workspaces written by the
previous format (a committed fixture built by that code: 60 real tweets, MiniLM) still open, whole and unchanged."""

import json
import shutil

import numpy as np
import pytest

from explorer import store
from explorer.errors import InputError
from explorer.workspace import FORMAT_VERSION, Manifest, Workspace, files
from explorer.workspace.writer import write_manifest

from ..conftest import ROOT

FORMAT1 = ROOT / "tests" / "fixtures" / "format1-workspace"


def test_format1_workspace_opens_with_every_artifact(tmp_path):
    workspace = Workspace.open(shutil.copytree(FORMAT1, tmp_path / "old"))
    before = {path.name: path.read_bytes() for path in workspace.path.iterdir()}
    manifest = workspace.manifest
    assert manifest.format_version == 1 and manifest.n_points == 60 and manifest.model == "all-MiniLM-L6-v2"
    assert manifest.config.ingest.metadata_columns == ("outlet",) and manifest.config.cluster.min_cluster_size == 5
    saved = workspace.clustering()
    assert saved.clustering.n_clusters == manifest.n_clusters == 5 and saved.config.min_samples == 3
    assert set(saved.keywords.keywords) == set(saved.clustering.labels.tolist())
    assert workspace.embeddings().vectors.shape == (60, 384) and len(workspace.index()) == 60
    assert workspace.knn().indices.shape == (60, 30) and workspace.layout(2).shape == (60, 2)
    flags = workspace.flags()
    assert len(flags.table) == 60 and flags.threshold == 0.95 and flags.k == 10
    assert {path.name: path.read_bytes() for path in workspace.path.iterdir()} == before  # read, not rewritten


def test_format1_manifest_round_trips_through_the_typed_manifest():
    record = store.load_json(FORMAT1 / files.MANIFEST)
    again = json.loads(json.dumps(Manifest.from_json(record).to_json()))
    assert again["format_version"] == 1
    # Fields added since format 1 read as their defaults.
    assert {key: again[key] for key in record} == {**record, "report": {**record["report"], "n_split_chunks": 0},
                                                   "cluster": {**record["cluster"], "selection": "eom"},
                                                   "layout": {**record["layout"], "prune_epochs": None}}


def test_a_newer_format_is_refused_with_what_to_do(tmp_path):
    newer = shutil.copytree(FORMAT1, tmp_path / "newer")
    record = store.load_json(newer / files.MANIFEST)
    (newer / files.MANIFEST).write_text(json.dumps({**record, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(InputError, match=f"newer version of the explorer \\(format {FORMAT_VERSION + 1}"):
        Workspace.open(newer)


def test_every_artifact_of_a_new_workspace_has_its_own_record(small_workspace):
    folder = small_workspace.path
    assert small_workspace.manifest.format_version == FORMAT_VERSION
    binaries = [path for path in folder.iterdir() if path.suffix in (".npy", ".parquet", ".faiss")]
    records = [store.sidecar_path(path) for path in binaries]
    assert len(set(records)) == len(binaries) and all(record.is_file() for record in records)
    for record in records:
        assert {"step", "created", "versions"} <= set(store.load_json(record))
    clusters = store.load_sidecar(folder / files.CLUSTERS)
    keywords = store.load_json(folder / files.KEYWORDS)
    expected = small_workspace.manifest.config.cluster.min_cluster_size
    assert clusters["step"] == "cluster" and clusters["min_cluster_size"] == expected
    assert keywords["step"] == "label" and keywords["upstream"] == [files.CLUSTERS, files.POINTS]


def test_manifest_written_and_read_back_is_equal(small_workspace, tmp_path):
    manifest = small_workspace.manifest
    write_manifest(tmp_path, manifest)
    again = Manifest.from_json(store.load_json(tmp_path / files.MANIFEST))
    assert again == manifest and np.isclose(again.noise_fraction, manifest.noise_fraction)


def test_a_build_records_its_provenance(tweets, tmp_path):
    """The source file's size and sha256 (checked against hashlib), when it was built, and by which versions."""
    import hashlib
    import importlib.metadata
    import subprocess
    from datetime import datetime

    from explorer import cli

    source = tmp_path / "tweets.csv"
    tweets.head(80).to_csv(source, index=False)
    assert cli.main(["build", str(source), "--out", str(tmp_path / "ws"), "--model", "tfidf-svd",
                     "--text-col", "text"]) == 0
    provenance = Workspace.open(tmp_path / "ws").manifest.provenance
    data = source.read_bytes()
    assert provenance["source_file"] == {"name": "tweets.csv", "size": len(data),
                                         "sha256": hashlib.sha256(data).hexdigest()}
    assert datetime.fromisoformat(provenance["built_at"]).tzinfo is not None
    assert provenance["libraries"]["numpy"] == importlib.metadata.version("numpy")
    assert provenance["libraries"]["faiss-cpu"] == importlib.metadata.version("faiss-cpu")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert provenance["git_commit"] == (head.stdout.strip() if head.returncode == 0 else None)


def test_the_workspace_format_doc_is_generated_from_the_code():
    import importlib.util

    from ..conftest import ROOT

    spec = importlib.util.spec_from_file_location("workspace_doc", ROOT / "scripts" / "workspace_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "workspace-format.md").read_text() == module.workspace_doc(), (
        "run: python scripts/workspace_doc.py")
