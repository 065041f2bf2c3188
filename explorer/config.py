"""The settings that decide a workspace's contents, recorded in its manifest and read back from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from explorer.embedding.encoders import DEFAULT_MODEL
from explorer.ingest.chunk import ChunkConfig
from explorer.ingest.corpus import IngestConfig
from explorer.mapping.building import MapConfig
from explorer.mapping.cluster import ClusterConfig
from explorer.mapping.index import IndexConfig
from explorer.mapping.reduce import LayoutConfig
from explorer.mapping.sampled import SampleConfig


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides a workspace's contents (recorded in its manifest)."""

    ingest: IngestConfig
    model_id: str = DEFAULT_MODEL
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    layout: LayoutConfig = field(default_factory=LayoutConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    backend: str | None = None
    """What runs the model (``ModelSpec.backends``; None: its default); the fingerprint records it."""
    sample: SampleConfig = field(default_factory=SampleConfig)
    """When the layouts and clusters are fitted on a sample (``explorer.mapping.sampled``)."""

    @property
    def map(self) -> MapConfig:
        """The settings that decide the map."""
        return MapConfig(self.index, self.layout, self.cluster, self.sample)


def config_from_dict(kind: type, values: dict[str, Any] | None):
    """A frozen config from its manifest record; keys of options since removed are ignored, missing ones take the
    config's default, and lists come back as tuples."""
    known = {item.name for item in fields(kind)}
    return kind(**{key: tuple(value) if isinstance(value, list) else value
                   for key, value in (values or {}).items() if key in known})
