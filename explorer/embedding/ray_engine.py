"""The embedding stage on Ray Data (issue 13, item 3), for corpora one machine embeds too slowly.

The texts are cut into shards of ``RayConfig.shard_rows``; Ray Data sends each shard to a pool of long-lived encoder
actors (one model load per actor, ``map_batches`` with a callable class), and this process writes each shard's
vectors as it comes back, as one Parquet file (``row``, ``id``, ``chunk``, ``vector``) in a shards folder that
outlives the process. A build that is killed resumes from the shards already written: only the missing ones are
sent again. A shard whose embedding raises is retried in its actor, and a shard that keeps failing stops the build
with its rows named. Map building stays in one process (see the README).

Ray is optional (``requirements-ray.txt``): nothing imports it unless ``--engine ray`` is asked for.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from explorer import store
from explorer.embedding.encoders import Encoder
from explorer.errors import InputError
from explorer.types import CHUNK, ID, Corpus, Embeddings

SHARD_RECORD = "shards.json"
CONNECT_SECONDS = 5.0


@dataclass(frozen=True)
class RayConfig:
    """Where and how the embedding stage runs on Ray.

    ``address``: a running Ray cluster (``host:port`` of its head, or ``auto``); None starts a local Ray runtime on
    this machine's cores. ``actors``: encoder actors (default: one per CPU Ray sees, at most 8).
    """

    address: str | None = None
    actors: int | None = None
    shard_rows: int = 10_000
    attempts: int = 3

    def __post_init__(self) -> None:
        if self.shard_rows < 1 or self.attempts < 1 or (self.actors is not None and self.actors < 1):
            raise InputError("Ray shards need at least 1 row, 1 attempt and 1 actor.")


@dataclass(frozen=True, eq=False)
class ShardedEmbeddings:
    """The corpus's vectors embedded on Ray, in corpus order.

    Attributes:
        embeddings: (n, d) the vectors, as the in-process path makes them.
        shards: shards in all; ``reused`` of them were written by an earlier, interrupted build.
        rows_per_node: rows embedded by each Ray node this time (node id -> rows).
    """

    embeddings: Embeddings
    shards: int
    reused: int
    rows_per_node: dict[str, int] = field(default_factory=dict)


def shard_path(folder: Path, shard: int) -> Path:
    return folder / f"shard-{shard:05d}.parquet"


def embed_on_ray(corpus: Corpus, make_encoder: Callable[[], Encoder], *, model_id: str, fingerprint: str,
                 folder: Path, config: RayConfig = RayConfig(),
                 progress: Callable[[int, int], None] | None = None) -> ShardedEmbeddings:
    """Embed the corpus's texts on Ray, writing and reusing Parquet shards in ``folder``.

    Args:
        make_encoder: builds the encoder in each actor (called there, once per actor); pickled to the workers.
        fingerprint: the encoder's fingerprint: shards of another model or corpus in ``folder`` are discarded.
        progress: hears (texts done, texts in all), shards already written counted as done.
    """
    texts = corpus.texts
    n_shards = -(-len(texts) // config.shard_rows)
    _prepare_folder(folder, fingerprint=fingerprint, texts=texts, shard_rows=config.shard_rows)
    pending = [shard for shard in range(n_shards) if not shard_path(folder, shard).exists()]
    done = sum(_shard_size(len(texts), shard, config.shard_rows) for shard in range(n_shards) if shard not in pending)
    if progress:
        progress(done, len(texts))
    rows_per_node: dict[str, int] = {}
    if pending:
        if importlib.util.find_spec("ray") is None:
            raise InputError("--engine ray needs Ray, which is not installed: pip install -r requirements-ray.txt")
        import ray

        started_here = _connect(config.address)
        try:
            for frame in _run(corpus, pending, make_encoder, config):
                node = frame["node"].iloc[0]
                rows_per_node[node] = rows_per_node.get(node, 0) + len(frame)
                _write_shard(folder, int(frame["shard"].iloc[0]), frame)
                done += len(frame)
                if progress:
                    progress(done, len(texts))
        finally:
            if started_here:  # a local runtime, or this process's connection: map building needs the memory
                ray.shutdown()
    vectors = read_shards(folder, n_shards, len(texts))
    return ShardedEmbeddings(Embeddings(vectors, model_id, fingerprint, normalized=True), n_shards,
                             n_shards - len(pending), rows_per_node)


def read_shards(folder: Path, n_shards: int, n_rows: int) -> np.ndarray:
    """(n_rows, d) float32 the vectors of every shard, in row order."""
    import pyarrow.parquet as pq

    parts = []
    for shard in range(n_shards):
        table = pq.read_table(shard_path(folder, shard), columns=["row", "vector"])
        rows = table.column("row").to_numpy()
        vectors = np.stack(table.column("vector").to_numpy(zero_copy_only=False)).astype(np.float32)
        parts.append(vectors[np.argsort(rows)])
    vectors = np.concatenate(parts)
    if len(vectors) != n_rows:
        raise InputError(f"The Ray shards hold {len(vectors):,} vectors for {n_rows:,} texts; build again.")
    return vectors


def _shard_size(n_rows: int, shard: int, shard_rows: int) -> int:
    return min(shard_rows, n_rows - shard * shard_rows)


def _prepare_folder(folder: Path, *, fingerprint: str, texts: list[str], shard_rows: int) -> None:
    """Keep the shards of an interrupted build of the same texts with the same model; discard any others."""
    record = {"fingerprint": fingerprint, "texts": store.text_hash(texts), "n": len(texts), "shard_rows": shard_rows}
    record_path = folder / SHARD_RECORD
    if record_path.exists() and json.loads(record_path.read_text()) == record:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("shard-*.parquet"):
        stale.unlink()
    store.save_json(record_path, record)


def _write_shard(folder: Path, shard: int, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.stack(frame["vector"].to_numpy()).astype(np.float32)
    table = pa.table({"row": frame["row"].to_numpy(np.int64), "id": frame[ID].astype(str).to_numpy(),
                      "chunk": frame[CHUNK].to_numpy(np.int64),
                      "vector": pa.FixedSizeListArray.from_arrays(vectors.ravel(), vectors.shape[1])})
    store.write_bytes(shard_path(folder, shard), lambda path: pq.write_table(table, str(path)))


def _run(corpus: Corpus, pending: list[int], make_encoder: Callable[[], Encoder], config: RayConfig):
    """Yield each pending shard's rows with their vectors and the node that embedded them, as they finish."""
    import ray

    points = corpus.points
    frames = []
    for shard in pending:
        rows = np.arange(shard * config.shard_rows, min((shard + 1) * config.shard_rows, len(points)))
        frames.append(pd.DataFrame({"row": rows, "shard": shard, ID: points[ID].to_numpy()[rows],
                                    CHUNK: points[CHUNK].to_numpy()[rows], "text": points["text"].to_numpy()[rows]}))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the build reports its own progress
    context.wait_for_min_actors_s = 600  # every actor loads its model before shards are handed out, so all share them
    actors = config.actors or max(1, min(8, int(ray.cluster_resources().get("CPU", 1))))
    dataset = ray.data.from_pandas(frames).map_batches(
        _EncodeShard, fn_constructor_kwargs={"make_encoder": make_encoder, "attempts": config.attempts},
        batch_size=None, batch_format="pandas", compute=ray.data.ActorPoolStrategy(size=min(actors, len(frames))),
        num_cpus=1)
    failed = []
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
            for _, frame in batch.groupby("shard", sort=False):
                if frame["error"].iloc[0]:
                    failed.append((frame["row"].min(), frame["row"].max(), frame["error"].iloc[0]))
                else:
                    yield frame
    except ray.exceptions.RayError as error:
        reason = str(error).strip().splitlines()[-1][:300]
        raise InputError(f"The Ray workers stopped ({type(error).__name__}: {reason}). The shards written so far are "
                         "kept: build again to embed only the others.") from error
    if failed:
        first, last, error = min(failed)
        raise InputError(f"{len(failed)} shard(s) failed {config.attempts} times; the first holds rows "
                         f"{first:,}-{last:,}: {error}. The other shards are kept: build again to retry only "
                         "these.")


class _EncodeShard:
    """A Ray actor: loads the encoder once, then embeds each shard it is given, retrying a shard that raises."""

    def __init__(self, make_encoder: Callable[[], Encoder], attempts: int) -> None:
        import ray

        self.encoder, self.attempts = make_encoder(), attempts
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from explorer.embedding.embed import encode_once_each

        error = ""
        for _ in range(self.attempts):
            try:
                vectors = encode_once_each(batch["text"].tolist(), self.encoder)
            except Exception as failure:  # noqa: BLE001 -- any failure of the model is retried, then reported
                error = f"{type(failure).__name__}: {failure}"
            else:
                return batch.drop(columns="text").assign(vector=list(vectors), node=self.node, error="")
        return batch.drop(columns="text").assign(vector=[np.zeros(0, np.float32)] * len(batch), node=self.node,
                                                 error=error)


def _connect(address: str | None) -> bool:
    """Join the Ray cluster at ``address`` (or start a local runtime), unless this process is connected already;
    whether it connected here. An address that does not answer is one clear error, before Ray waits on it."""
    import ray

    if ray.is_initialized():
        return False
    if address not in (None, "auto"):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_SECONDS):
                pass
        except (OSError, ValueError) as error:
            raise InputError(f"No Ray cluster answers at '{address}' ({error}). Start one with 'ray start --head' "
                             "and give its address as host:port, or leave --ray-address out to run Ray on this "
                             "machine.") from error
    # The build reports its own progress; Ray's notices stay in its session logs (/tmp/ray/session_*/logs).
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")
    ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    return True
