"""The embedding stage on Ray Data (explorer.embedding.ray_engine), on a real Ray runtime: a local one, a two-node
cluster on this machine, a build killed in the middle, and shards that fail."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from explorer.config import BuildConfig
from explorer.embedding.embed import embed_texts
from explorer.embedding.loading import load_encoder
from explorer.embedding.ray_engine import RayConfig, embed_on_ray, shard_path
from explorer.errors import InputError
from explorer.ingest.corpus import IngestConfig, build_corpus

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")
MODEL = "wordllama-l2"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tweets):
    return build_corpus(tweets.head(600), IngestConfig("text", "tweet_id"))[0]


@pytest.fixture(scope="module")
def in_process(corpus):
    return embed_texts(corpus.texts, load_encoder(MODEL)).vectors


def _make_wordllama():
    return load_encoder(MODEL)


class _FailingEncoder:
    """WordLlama that raises while a shard holds ``poison`` (the first ``failures`` times it is asked, counted in a
    file, since every actor is its own process)."""

    def __init__(self, poison: str, failures: int, counter: Path) -> None:
        self.encoder, self.poison, self.failures, self.counter = load_encoder(MODEL), poison, failures, counter

    def __getattr__(self, name):
        return getattr(self.encoder, name)

    def encode(self, texts, **options):
        if self.poison in texts:
            with self.counter.open("a") as tally:
                tally.write("x")
            if len(self.counter.read_text()) <= self.failures:
                raise RuntimeError("the model ran out of memory")
        return self.encoder.encode(texts, **options)


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_local_ray_gives_the_in_process_vectors_and_writes_shards(corpus, in_process, tmp_path):
    encoder = load_encoder(MODEL)
    done = []
    result = embed_on_ray(corpus, _make_wordllama, model_id=MODEL, fingerprint=encoder.fingerprint,
                          folder=tmp_path / "shards", config=RayConfig(shard_rows=100, actors=2),
                          progress=lambda texts, total: done.append((texts, total)))
    assert np.abs(result.embeddings.vectors - in_process).max() < 1e-5
    assert (result.shards, result.reused) == (6, 0) and sum(result.rows_per_node.values()) == 600
    assert done[0] == (0, 600) and done[-1] == (600, 600)
    import pyarrow.parquet as pq

    shard = pq.read_table(shard_path(tmp_path / "shards", 1)).to_pandas()
    assert list(shard.columns) == ["row", "id", "chunk", "vector"] and sorted(shard["row"]) == list(range(100, 200))
    np.testing.assert_array_equal(shard.sort_values("row")["id"].to_numpy(),
                                  corpus.points["id"].astype(str).to_numpy()[100:200])
    assert not ray.is_initialized()  # the local runtime it started is shut down for map building


def test_a_two_node_cluster_embeds_shards_on_both_nodes(corpus, in_process, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        result = embed_on_ray(corpus, _make_wordllama, model_id=MODEL, fingerprint=load_encoder(MODEL).fingerprint,
                              folder=tmp_path / "shards", config=RayConfig(shard_rows=50, actors=2))
        assert len(result.rows_per_node) == 2 and min(result.rows_per_node.values()) > 0
        assert np.abs(result.embeddings.vectors - in_process).max() < 1e-5
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_a_failing_shard_is_retried_and_one_that_keeps_failing_names_its_rows(corpus, in_process, tmp_path,
                                                                                local_ray):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors cannot import this test module
    poison = corpus.texts[250]
    fingerprint = load_encoder(MODEL).fingerprint
    flaky = RayConfig(shard_rows=100, actors=2, attempts=3)
    result = embed_on_ray(corpus, lambda: _FailingEncoder(poison, 2, tmp_path / "flaky"), model_id=MODEL,
                          fingerprint=fingerprint, folder=tmp_path / "flaky-shards", config=flaky)
    assert len((tmp_path / "flaky").read_text()) == 3  # failed twice, then embedded
    assert np.abs(result.embeddings.vectors - in_process).max() < 1e-5
    with pytest.raises(InputError, match="1 shard\\(s\\) failed 3 times; the first holds rows 200-299: "
                                         "RuntimeError: the model ran out of memory"):
        embed_on_ray(corpus, lambda: _FailingEncoder(poison, 99, tmp_path / "broken"), model_id=MODEL,
                     fingerprint=fingerprint, folder=tmp_path / "broken-shards", config=flaky)
    kept = sorted(path.name for path in (tmp_path / "broken-shards").glob("shard-*.parquet"))
    assert kept == [f"shard-0000{shard}.parquet" for shard in (0, 1, 3, 4, 5)]  # the others are kept for a retry


def _cli_build(source: Path, out: Path, data_dir: Path, *extra: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "explorer", "build", str(source), "--out", str(out),
                             "--text-col", "text", "--model", MODEL, "--engine", "ray", "--progress", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_a_killed_build_resumes_from_the_shards_it_wrote(tweets, tmp_path):
    from explorer.workspace import Workspace, shards_folder

    source, out = tmp_path / "tweets.csv", tmp_path / "data" / "workspaces" / "ray"
    tweets.to_csv(source, index=False)
    first = _cli_build(source, out, tmp_path / "data", "--ray-shard-rows", "10", "--ray-actors", "1",
                       start_new_session=True)
    deadline = time.monotonic() + 240
    while not list(shards_folder(out).glob("shard-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the build and the local Ray runtime it started
    first.wait()
    written = len(list(shards_folder(out).glob("shard-*.parquet")))
    assert 1 <= written < 301 and not out.exists()
    second = _cli_build(source, out, tmp_path / "data", "--ray-shard-rows", "10")
    _, errors = second.communicate(timeout=600)
    assert second.returncode == 0, errors[-2000:]
    workspace = Workspace.open(out)
    note = next(note for note in workspace.manifest.notes if note.startswith("Embedded on Ray"))
    kept = int(note.split(", ")[1].split(" of them")[0].replace(",", ""))
    assert kept >= written and "301 shard(s) of up to 10 texts" in note
    expected = embed_texts(workspace.texts(), load_encoder(MODEL)).vectors
    assert np.abs(workspace.embeddings().vectors - expected).max() < 1e-5
    assert not shards_folder(out).exists()  # removed once the workspace is in place


def test_a_ray_address_that_does_not_answer_is_one_line_and_writes_nothing(tweets, tmp_path):
    source, out = tmp_path / "tweets.csv", tmp_path / "data" / "workspaces" / "ray"
    tweets.head(50).to_csv(source, index=False)
    build = _cli_build(source, out, tmp_path / "data", "--ray-address", "127.0.0.1:1")
    _, errors = build.communicate(timeout=300)
    lines = [line for line in errors.splitlines() if line.startswith("error:")]
    assert build.returncode == 2 and len(lines) == 1 and "Traceback" not in errors
    assert "No Ray cluster answers at '127.0.0.1:1'" in lines[0]
    assert not out.exists() and not list(out.parent.glob(".ray.building-*"))


def test_bad_ray_options_are_refused(corpus):
    with pytest.raises(InputError, match="at least 1 row"):
        RayConfig(shard_rows=0)
    assert BuildConfig(IngestConfig("text")).model_id  # the default build needs no Ray
