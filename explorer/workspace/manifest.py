"""The manifest (``workspace.json``): what a workspace holds and how it was made, as one typed record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from explorer.config import BuildConfig, config_from_dict
from explorer.errors import InputError
from explorer.ingest.chunk import ChunkConfig
from explorer.ingest.corpus import IngestConfig
from explorer.mapping.cluster import ClusterConfig
from explorer.mapping.index import IndexConfig
from explorer.mapping.reduce import LayoutConfig
from explorer.mapping.sampled import SampleConfig
from explorer.types import IngestReport
from explorer.workspace.files import FORMAT_VERSION


@dataclass(frozen=True)
class Manifest:
    """A workspace's record.

    Attributes:
        name: the workspace folder's name.
        source: where the texts came from (file name, or the bundled sample).
        model: the embedding model's id (``precomputed`` for uploaded vectors); ``fingerprint`` its exact identity.
        dim, metric, index_type: the vectors' width, the index's metric and kind (``exact`` or ``hnsw``).
        n_documents, n_points, n_chunked: input documents kept, points (chunks) and points beyond a document's first.
        config: the settings the workspace was built with (the clustering ones as last re-clustered).
        report: what cleaning and chunking did to the rows; ``notes`` every message shown about the build.
        timings: seconds per build stage.
        n_clusters, noise_fraction: of the current clustering.
        provenance: the source file's name, size and sha256, when and by which versions it was built (see
            :mod:`explorer.ingest.provenance`); empty for workspaces built before it was recorded.
        format_version: the folder's format (see ``files``).
        build_id: this build's own id: an edit (re-clustering, flags, the map rebuilt, the 3-D layout) writes only
            into the build it read, never into one swapped in meanwhile; empty for workspaces built before.
    """

    name: str
    source: str
    model: str
    fingerprint: str
    dim: int
    metric: str
    index_type: str
    n_documents: int
    n_points: int
    n_chunked: int
    config: BuildConfig
    report: IngestReport
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    n_clusters: int = 0
    noise_fraction: float = 0.0
    provenance: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    build_id: str = ""

    def with_clustering(self, cluster: ClusterConfig, *, n_clusters: int, noise_fraction: float) -> Manifest:
        return replace(self, config=replace(self.config, cluster=cluster), n_clusters=n_clusters,
                       noise_fraction=noise_fraction)

    def to_json(self) -> dict[str, Any]:
        """The JSON record; the settings keep format 1's top-level keys, so older readers still find them."""
        config = self.config
        return {
            "format_version": self.format_version, "name": self.name, "source": self.source, "model": self.model,
            "fingerprint": self.fingerprint, "dim": self.dim, "metric": self.metric, "index_type": self.index_type,
            "n_documents": self.n_documents, "n_points": self.n_points, "n_chunked": self.n_chunked,
            "ingest": asdict(config.ingest), "chunk": asdict(config.chunk), "index": asdict(config.index),
            "layout": asdict(config.layout), "cluster": asdict(config.cluster),
            "map_sample": asdict(config.sample), "report": asdict(self.report),
            "report_messages": list(self.notes), "timings": dict(self.timings), "n_clusters": self.n_clusters,
            "noise_fraction": self.noise_fraction, "provenance": dict(self.provenance), "build_id": self.build_id,
            "model_source": config.model_id}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Manifest:
        """Read a manifest of this format or an older one; a newer one is refused with what to do."""
        version = int(record.get("format_version", 1))
        if version > FORMAT_VERSION:
            raise InputError(f"The workspace '{record.get('name', '?')}' was written by a newer version of the "
                             f"explorer (format {version}; this one reads up to {FORMAT_VERSION}). Update the "
                             "explorer, or build the workspace again.")
        config = BuildConfig(
            ingest=config_from_dict(IngestConfig, record["ingest"]),
            model_id=record.get("model_source", record["model"]),
            chunk=config_from_dict(ChunkConfig, record.get("chunk")),
            index=config_from_dict(IndexConfig, record.get("index")),
            layout=config_from_dict(LayoutConfig, record.get("layout")),
            cluster=config_from_dict(ClusterConfig, record.get("cluster")),
            sample=config_from_dict(SampleConfig, record.get("map_sample")))
        return cls(
            name=record["name"], source=record.get("source", ""), model=record["model"],
            fingerprint=record["fingerprint"], dim=int(record["dim"]), metric=record["metric"],
            index_type=record["index_type"], n_documents=int(record["n_documents"]),
            n_points=int(record["n_points"]), n_chunked=int(record.get("n_chunked", 0)), config=config,
            report=config_from_dict(IngestReport, record.get("report") or {"n_input_rows": record["n_points"]}),
            notes=tuple(record.get("report_messages", ())), timings=dict(record.get("timings", {})),
            n_clusters=int(record.get("n_clusters", 0)), noise_fraction=float(record.get("noise_fraction", 0.0)),
            provenance=dict(record.get("provenance") or {}), format_version=version,
            build_id=str(record.get("build_id", "")))
