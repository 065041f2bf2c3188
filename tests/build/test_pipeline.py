import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from explorer import store
from explorer.build.layout3d import ensure_layout_3d
from explorer.build.pipeline import build_workspace
from explorer.build.recluster import recluster
from explorer.config import BuildConfig
from explorer.errors import InputError
from explorer.export import to_safe_csv
from explorer.ingest.corpus import IngestConfig
from explorer.mapping.cluster import ClusterConfig
from explorer.workspace import Workspace, list_workspaces, workspaces_root

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_workspace_holds_every_artifact_with_sidecars(small_workspace):
    files = {path.name for path in small_workspace.path.iterdir()}
    for artifact in ("points.parquet", "embeddings.npy", "index.faiss", "knn_indices.npy", "layout_2d.npy",
                     "layout_5d.npy", "clusters.parquet"):
        assert artifact in files
        sidecar = artifact.rsplit(".", 1)[0] + ".json"
        meta = store.load_json(small_workspace.path / sidecar)
        assert meta["created"] and "versions" in meta
    index_meta = store.load_json(small_workspace.path / "index.json")
    assert index_meta["fingerprint"].startswith("all-MiniLM-L6-v2@") and index_meta["metric"] == "cosine"
    assert index_meta["normalization"] == "l2"
    manifest = small_workspace.manifest
    assert manifest.n_points == 400 and manifest.index_type == "exact" and manifest.n_clusters >= 1
    assert small_workspace.path in list_workspaces()
    assert not list(small_workspace.path.parent.glob(".*building*"))


def test_recluster_keeps_the_umap_layouts(small_workspace, tmp_path):
    import shutil

    copy = Workspace.open(shutil.copytree(small_workspace.path, tmp_path / "copy"))
    before_2d, before_5d = copy.layout(2), copy.layout(5)
    mtime = (copy.path / "layout_5d.npy").stat().st_mtime
    recluster(copy, ClusterConfig(min_cluster_size=40, min_samples=10))
    saved = copy.clustering()
    assert saved.config.min_cluster_size == 40 and copy.manifest.config.cluster.min_cluster_size == 40
    np.testing.assert_array_equal(copy.layout(2), before_2d)
    np.testing.assert_array_equal(copy.layout(5), before_5d)
    assert (copy.path / "layout_5d.npy").stat().st_mtime == mtime
    assert ensure_layout_3d(copy).shape == (400, 3)


@pytest.mark.slow
def test_bad_input_leaves_the_existing_workspace_untouched(small_workspace, tweets, minilm):
    before = {path.name: path.stat().st_mtime for path in small_workspace.path.iterdir()}
    empty = pd.DataFrame({"text": ["", None, "<p></p>"]})
    with pytest.raises(InputError):
        build_workspace(empty, BuildConfig(IngestConfig("text")), small_workspace.path, source="x", encoder=minilm)
    with pytest.raises(InputError, match="one vector per row"):
        build_workspace(tweets.head(10), BuildConfig(IngestConfig("text")), small_workspace.path, source="x",
                        vectors=np.ones((9, 4), np.float32))
    assert {path.name: path.stat().st_mtime for path in small_workspace.path.iterdir()} == before


def test_precomputed_vectors_build_a_workspace(small_workspace, tweets):
    table = tweets.head(60).copy()
    table.loc[3, "text"] = None
    vectors = np.random.default_rng(1).normal(size=(60, 16)).astype(np.float32)
    config = BuildConfig(IngestConfig("text", "tweet_id"), cluster=ClusterConfig(min_cluster_size=5))
    workspace = build_workspace(table, config, workspaces_root() / "vectors", source="v.npy", vectors=vectors)
    stored = workspace.embeddings().vectors
    assert stored.shape == (59, 16)
    np.testing.assert_array_equal(stored[3], vectors[4])
    assert workspace.manifest.model == "precomputed"


@pytest.mark.slow
def test_tiny_corpus_still_gets_a_map(minilm, tweets):
    workspace = build_workspace(tweets.head(3), BuildConfig(IngestConfig("text")), workspaces_root() / "tiny",
                                source="x", encoder=minilm)
    assert workspace.layout(2).shape == (3, 2)
    assert any("PCA" in note for note in workspace.manifest.notes)
    assert workspace.manifest.noise_fraction == 1.0


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "a.json"
    store.save_json(target, {"v": 1})

    def failing(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.write_bytes(target, failing)
    assert store.load_json(target) == {"v": 1}
    assert list(tmp_path.iterdir()) == [target]


def test_safe_csv_neutralises_formulas():
    frame = pd.DataFrame({"=cmd": ["=1+1", "+x", "-y", "@z", "plain"], "n": [-1, 2, 3, 4, 5]})
    text = to_safe_csv(frame).decode()
    assert text.splitlines() == ["'=cmd,n", "'=1+1,-1", "'+x,2", "'-y,3", "'@z,4", "plain,5"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


@pytest.mark.slow
def test_cli_build_info_and_models(tmp_path, news):
    source = tmp_path / "news.csv"
    news.to_csv(source, index=False)
    out = tmp_path / "ws"
    built = _cli("build", str(source), "--out", str(out), "--text-col", "text", "--id-col", "article_id",
                 "--chunk-tokens", "200", "--chunk-overlap", "20", "--min-cluster-size", "5", "--json")
    assert built.returncode == 0, built.stderr
    info = json.loads(_cli("info", str(out), "--json").stdout)
    for field in ("n_documents", "n_points", "model", "dim", "metric", "index_type", "n_clusters", "noise_fraction"):
        assert field in info
    assert info["n_documents"] == 40 and info["n_points"] > 40 and info["model"] == "all-MiniLM-L6-v2"
    points = Workspace.open(out).points()
    assert set(points["id"]) == set(news["article_id"]) and points["chunk"].max() > 0
    models = {row["id"]: row for row in json.loads(_cli("models", "--json").stdout)}
    assert models["all-MiniLM-L6-v2"]["available"] and models["all-MiniLM-L6-v2"]["dim"] == 384
    assert models["all-MiniLM-L6-v2"]["backends"] == ["onnx-int8", "torch"] and models["wordllama-l2"]["backends"] == []


@pytest.mark.parametrize("content, message", [("", "empty"), ("a,b\n1,2,3\n", "ragged"), ("text\n", "no rows")])
def test_cli_bad_input_exits_non_zero_with_one_line(tmp_path, content, message):
    source = tmp_path / "bad.csv"
    source.write_text(content)
    result = _cli("build", str(source), "--out", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "ws").exists()
