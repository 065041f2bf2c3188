"""One fresh process of Embedding Atlas's map building, for benchmarks/pipeline.py (run by .venv-atlas's python,
which has embedding-atlas 0.26 and no explorer).

    .venv-atlas/bin/python benchmarks/atlas_worker.py VECTORS.npy

``compute_projection`` on the vectors as a user of its Python API would call it (vector modality, its defaults:
15 neighbours, cosine), twice in this process: "fresh" is the first call including the imports, "warm" the second.
Each call gets a new, empty cache folder, so neither reads the other's result. Prints JSON.
"""

import json
import sys
import tempfile
import time

started = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from embedding_atlas.projection import compute_projection  # noqa: E402


def project(vectors: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"vector": list(vectors)})
    with tempfile.TemporaryDirectory(prefix="atlas-cache-") as cache:
        result = compute_projection(frame, inputs="vector", modality="vector", cache_root=cache)
    return result[["projection_x", "projection_y"]].to_numpy()


vectors = np.load(sys.argv[1])
first = project(vectors)
fresh = time.perf_counter() - started
clock = time.perf_counter()
project(vectors)
warm = time.perf_counter() - clock
if len(sys.argv) > 2:  # where to keep the first layout, for the quality comparison
    np.save(sys.argv[2], first.astype(np.float32))
print(json.dumps({"fresh": fresh, "warm": warm, "fresh_stages": {}, "warm_stages": {}}))
