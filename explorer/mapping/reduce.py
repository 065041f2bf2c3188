"""UMAP layouts built from the FAISS k-nearest-neighbour graph (UMAP's own neighbour search is skipped).

The fuzzy graph is computed once and shared: a 2-D (or 3-D) layout for display and a 5-D layout,
optimised with fewer epochs, for clustering. Both are optimised side by side in two threads, each one
single-threaded (so reproducible), with an epoch kernel that releases the GIL (``explorer.mapping.layout_epoch``:
umap-learn's optimisation with a point's negative samples applied together, 1.8x faster). When both
run the same epochs (above 20,000 points), the 2-D layout starts from the 5-D one's spectral eigenvectors
instead of solving the eigenproblem again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, fields, replace

import numpy as np

from explorer.errors import InputError
from explorer.types import Neighbors

MIN_POINTS = 5


@dataclass(frozen=True)
class LayoutConfig:
    """UMAP parameters. ``n_epochs=None`` (the default) means 200 epochs up to 20,000 points, 100 above.

    Measured on real tweets (trustworthiness, 10 neighbours, cosine): at 10k, 500 epochs took 2.7x longer than
    200 for 0.837 against 0.829; at 50k (on a 4,000-point sample), 200 epochs took 19 s for 0.852 and 100
    epochs 10.6 s for 0.844.
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    spread: float = 1.0
    n_epochs: int | None = None
    seed: int = 42
    prune_epochs: int | None = None
    """Drop the graph's edges as a layout of this many epochs would (UMAP drops those too weak to be sampled once);
    None: as for ``n_epochs``. A layout with fewer epochs pruned like a longer one shares its spectral start."""

    @classmethod
    def from_dict(cls, values: dict) -> LayoutConfig:
        """From a manifest's record; keys of options since removed are ignored."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def __post_init__(self) -> None:
        if not 2 <= self.n_neighbors <= 200:
            raise InputError("UMAP n_neighbors must be between 2 and 200.")
        if not 0.0 <= self.min_dist <= self.spread:
            raise InputError("UMAP min_dist must be between 0 and spread (1.0).")
        if self.n_epochs is not None and self.n_epochs < 10:
            raise InputError("UMAP needs at least 10 epochs.")


def default_epochs(n_points: int) -> int:
    """Display-layout epochs when none are given: 200 up to 20,000 points, 100 above (see LayoutConfig)."""
    return 200 if n_points <= 20_000 else 100


CLUSTER_EPOCHS = (100, 60)
"""The clustering layout's epochs up to 20,000 points and above. Above, 60 epochs instead of 100 end the 5-D layout
(the longer of the two, optimised beside the 2-D one) at about the time the 2-D layout ends: at 50k tweets its
clusters agree with the 100-epoch ones at ARI 0.94, with 48% noise instead of 45% (benchmarks/pipeline.py)."""


def cluster_layout_config(display: LayoutConfig = LayoutConfig(), n_points: int = 0) -> LayoutConfig:
    """The clustering layout's parameters for ``n_points`` points: the display layout's, with tight clumps
    (min_dist 0) and fewer epochs (``CLUSTER_EPOCHS``), since nobody looks at it. Above 20,000 points its graph is
    pruned as the display layout's, so that the two share one spectral start."""
    if n_points > 20_000:
        return replace(display, min_dist=0.0, n_epochs=CLUSTER_EPOCHS[1],
                       prune_epochs=display.prune_epochs or display.n_epochs or default_epochs(n_points))
    return replace(display, min_dist=0.0, n_epochs=CLUSTER_EPOCHS[0])


@dataclass(frozen=True, eq=False)
class FuzzyGraph:
    """UMAP's weighted neighbour graph over the corpus's distinct vectors, shared by every layout.

    Identical vectors (repeated texts) share one node, as with UMAP's ``unique=True``: otherwise a
    handful of copies take all of each other's weight and split off as a far-away island.

    Attributes:
        graph: sparse (u, u) weights between the u distinct vectors.
        n_neighbors: neighbours per node used to build it.
        representatives: (u,) corpus row of each distinct vector's first occurrence.
        inverse: (n,) node of every corpus row.
    """

    graph: object
    n_neighbors: int
    representatives: np.ndarray
    inverse: np.ndarray


def distinct_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(representatives (u,), inverse (n,)): first row of each distinct vector, in corpus order, and each row's one."""
    rows = np.ascontiguousarray(vectors)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]


def fuzzy_graph(knn: Neighbors, vectors: np.ndarray, *, n_neighbors: int = 15) -> FuzzyGraph:
    """Turn the k-NN graph (self excluded) of ``vectors`` (n, d) into UMAP's fuzzy graph over distinct vectors."""
    representatives, inverse = distinct_rows(vectors)
    u = len(representatives)
    if u < MIN_POINTS:
        raise InputError(f"A map needs at least {MIN_POINTS} distinct texts; this corpus has {u}.")
    k = min(n_neighbors, u - 1, knn.indices.shape[1])
    neighbours, distances = _distinct_neighbours(knn, representatives, inverse, k - 1)
    # UMAP expects each node to be its own first neighbour at distance 0.
    indices = np.hstack([np.arange(u)[:, None], neighbours]).astype(np.int32)
    distances = np.hstack([np.zeros((u, 1), np.float32), distances])
    return FuzzyGraph(fuzzy_simplicial_set(indices, distances, k), k, representatives, inverse)


def fuzzy_simplicial_set(indices: np.ndarray, distances: np.ndarray, n_neighbors: int):
    """umap-learn's ``fuzzy_simplicial_set`` for a given k-NN graph, with its numba kernels cached on disk.

    Args:
        indices: (u, k) int32 neighbours of each node, itself first; -1 pads.
        distances: (u, k) float32 matching distances, 0 first.

    Returns a sparse (u, u) matrix of symmetric membership strengths (fuzzy union).
    """
    import scipy.sparse

    smooth_knn_dist, compute_membership_strengths = _cached_umap_kernels()
    distances = np.ascontiguousarray(distances, dtype=np.float32)
    sigmas, rhos = smooth_knn_dist(distances, float(n_neighbors), local_connectivity=1.0)
    rows, cols, values, _ = compute_membership_strengths(indices, distances, sigmas, rhos, False)
    strengths = scipy.sparse.coo_matrix((values, (rows, cols)), shape=(len(indices), len(indices)))
    strengths.eliminate_zeros()
    transpose = strengths.transpose()
    union = strengths + transpose - strengths.multiply(transpose)
    union.eliminate_zeros()
    return union


def _cached(dispatcher):
    """Recompile one of umap-learn's numba functions with ``cache=True``, its other options kept."""
    import numba

    options = {key: value for key, value in dispatcher.targetoptions.items() if key != "nopython"}
    return numba.njit(cache=True, locals=dispatcher.locals, **options)(dispatcher.py_func)


@functools.cache
def _cached_umap_kernels():
    """umap-learn's graph kernels recompiled with ``cache=True``: umap-learn does not cache them, so every
    fresh process would spend ~6 s compiling them; with the cache only the first process on a machine does."""
    import umap.umap_ as umap_

    return _cached(umap_.smooth_knn_dist), _cached(umap_.compute_membership_strengths)


def _distinct_neighbours(knn: Neighbors, representatives: np.ndarray, inverse: np.ndarray,
                         width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each node's nearest other nodes: neighbour rows mapped to nodes, copies and itself dropped; -1 pads."""
    rows, all_distances = knn.indices[representatives], knn.distances()[representatives]
    if len(representatives) == len(inverse):
        return rows[:, :width], all_distances[:, :width]
    nodes = np.where(rows >= 0, inverse[np.maximum(rows, 0)], -1)
    # A candidate is kept unless it is padding, the node itself, or a node already met earlier in its row.
    by_node = np.argsort(nodes, axis=1, kind="stable")
    sorted_nodes = np.take_along_axis(nodes, by_node, axis=1)
    repeat_in_sorted = np.zeros_like(sorted_nodes, dtype=bool)
    repeat_in_sorted[:, 1:] = sorted_nodes[:, 1:] == sorted_nodes[:, :-1]
    repeat = np.empty_like(repeat_in_sorted)
    np.put_along_axis(repeat, by_node, repeat_in_sorted, axis=1)
    keep = ~repeat & (nodes >= 0) & (nodes != np.arange(len(nodes))[:, None])
    # Kept candidates move to the front of their row, in their original order.
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    kept = np.take_along_axis(keep, order, axis=1)
    indices = np.where(kept, np.take_along_axis(nodes, order, axis=1), -1)
    distances = np.where(kept, np.take_along_axis(all_distances, order, axis=1), np.inf).astype(np.float32)
    return indices, distances


LayoutProgress = Callable[[float], None]
"""Called with the fraction of optimisation epochs done."""


def layout(graph: FuzzyGraph, vectors: np.ndarray, *, n_components: int, metric: str = "cosine",
           config: LayoutConfig = LayoutConfig(), progress: LayoutProgress | None = None) -> np.ndarray:
    """Optimise an (n, n_components) float32 layout of the fuzzy graph; same seed, same layout.

    Args:
        graph: the shared fuzzy graph of the n points' distinct vectors.
        vectors: (n, d) the embeddings; UMAP places disconnected parts of the graph by them.

    Identical vectors get identical coordinates.
    """
    return layouts(graph, vectors, [(n_components, config)], metric=metric, progress=progress)[0]


def layouts(graph: FuzzyGraph, vectors: np.ndarray, requests: Sequence[tuple[int, LayoutConfig]], *,
            metric: str = "cosine", progress: LayoutProgress | None = None,
            timings: dict[str, float] | None = None) -> list[np.ndarray]:
    """Several layouts of one graph, e.g. the 2-D map and the 5-D clustering layout, optimised side by side.

    Each layout's optimisation is single-threaded and so reproducible, but they run in parallel threads
    (the epoch kernel releases the GIL), so two layouts on two cores take as long as the longer one. A smaller
    layout with the same epochs as a larger one reuses its spectral start (see SpectralStart). Every start is
    umap-learn's up to the eigensolver's sign and tolerance (exactly umap-learn's up to 1,024 points).
    ``progress`` is called from this thread only, never from the workers. ``timings``, when given, receives each
    layout's own seconds (its start, then its epochs in its thread) as ``umap_2d``, ``umap_5d``...

    Returns one (n, n_components) float32 layout per request, in request order.
    """
    progress = progress or (lambda fraction: None)
    runs: list[_LayoutRun | None] = [None] * len(requests)
    start_seconds = [0.0] * len(requests)
    for i in sorted(range(len(requests)), key=lambda i: -requests[i][0]):  # largest first, to share its start
        n_components, config = requests[i]
        pruned_for = config.prune_epochs or config.n_epochs or default_epochs(graph.graph.shape[0])
        shared = next((run.spectral for run in runs if run is not None and run.spectral is not None
                       and run.spectral.n_epochs == pruned_for), None)
        clock = time.perf_counter()
        runs[i] = _LayoutRun.prepare(graph, vectors, n_components, metric, config, shared=shared)
        start_seconds[i] = time.perf_counter() - clock
    results = _optimise_side_by_side(runs, progress)
    if timings is not None:
        for (n_components, _), seconds, (_, optimised) in zip(requests, start_seconds, results):
            timings[f"umap_{n_components}d"] = seconds + optimised
    return [_standardise(embedding[graph.inverse]) for embedding, _ in results]


def _optimise_side_by_side(runs: Sequence[_LayoutRun], progress: LayoutProgress,
                           targets: Sequence[np.ndarray | None] | None = None) -> list[tuple[np.ndarray, float]]:
    """Optimise each run in its own thread; (layout, seconds) per run. ``progress`` is called from this thread
    only; when it raises (a cancelled build), the workers stop at their next epoch. ``targets``: a fixed layout
    per run that only the run's own points move against (placement), or None."""
    if not runs:
        return []
    targets = targets or [None] * len(runs)
    total_epochs = sum(run.n_epochs for run in runs)
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [pool.submit(_timed, run.optimise if target is None else functools.partial(
            run.optimise, tail=target, n_vertices=len(target), initial_alpha=0.25, move_other=False))
            for run, target in zip(runs, targets)]
        finished = False
        try:
            while wait(futures, timeout=0.2).not_done:
                progress(sum(run.epochs_done for run in runs) / total_epochs)
            finished = True
        finally:
            if not finished:
                for run in runs:
                    run.stopped = True
    progress(1.0)
    return [future.result() for future in futures]


def _timed(work: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    clock = time.perf_counter()
    return work(), time.perf_counter() - clock


@dataclass(frozen=True, eq=False)
class SpectralStart:
    """umap-learn's spectral start of a pruned graph (``explorer.mapping.spectral``): the leading non-trivial
    eigenvectors of its normalised Laplacian, each connected part scaled and placed around its own anchor.

    The eigenproblem takes a second or more at 50k points, so a smaller layout of the same pruned graph (same epochs)
    reuses a larger one's leading columns: they are the same eigenvectors. Where the graph has several parts,
    umap-learn anchors up to 2 x dims parts at axis corners and more by a spectral layout of their centroids;
    the columns are reused only where both layouts anchor the parts the same way, so that no two parts
    collapse onto one corner.

    Attributes:
        coordinates: (u, d) start before umap-learn's noisy rescaling.
        n_parts: connected parts of the pruned graph.
        n_epochs: the epochs that decided the pruning.
    """

    coordinates: np.ndarray
    n_parts: int
    n_epochs: int

    @classmethod
    def solve(cls, weights, data: np.ndarray, n_components: int, metric: str, random_state: np.random.RandomState,
              n_epochs: int) -> SpectralStart:
        import scipy.sparse.csgraph

        from explorer.mapping.spectral import spectral_layout

        n_parts = scipy.sparse.csgraph.connected_components(weights)[0]
        coordinates = spectral_layout(data, weights, n_components, random_state,
                                      metric="euclidean" if metric == "euclidean" else "cosine")
        return cls(coordinates, int(n_parts), n_epochs)

    def serves(self, n_components: int) -> bool:
        """Whether this start's leading columns are umap-learn's start in ``n_components`` dimensions."""
        dims = self.coordinates.shape[1]
        corners_in_both = self.n_parts <= 2 * n_components
        centroid_layout_in_both = self.n_parts > 2 * dims
        return n_components <= dims and (corners_in_both or centroid_layout_in_both)


@dataclass(eq=False)
class _LayoutRun:
    """One layout being optimised: umap-learn's ``simplicial_set_embedding`` (euclidean output, no densMAP),
    split so that the epochs run in a worker thread with a GIL-free, disk-cached kernel of our own."""

    embedding: np.ndarray
    head: np.ndarray
    tail: np.ndarray
    epochs_per_sample: np.ndarray
    rng_state: np.ndarray
    a: float
    b: float
    n_epochs: int
    spectral: SpectralStart | None = None
    epochs_done: int = 0
    stopped: bool = False
    """Set from another thread to end the optimisation after the current epoch."""

    @classmethod
    def prepare(cls, graph: FuzzyGraph, vectors: np.ndarray, n_components: int, metric: str,
                config: LayoutConfig, *, shared: SpectralStart | None = None) -> _LayoutRun:
        """Prune weak edges, initialise (spectral, or random for tiny graphs) and draw the random state,
        consuming the seeded generator in the same order as umap-learn.

        ``shared``: another layout's spectral start on the same pruned graph, whose leading eigenvectors are
        used instead of solving the eigenproblem again where they give the same start (see SpectralStart).
        """
        from umap.umap_ import find_ab_params, make_epochs_per_sample, noisy_scale_coords

        weights = graph.graph.tocoo(copy=True)
        weights.sum_duplicates()
        n_epochs = config.n_epochs or default_epochs(weights.shape[0])
        pruned_for = config.prune_epochs or n_epochs
        weights.data[weights.data < weights.data.max() / float(pruned_for)] = 0.0
        weights.eliminate_zeros()
        random_state = np.random.RandomState(config.seed)
        spectral = None
        if weights.shape[0] > n_components + 1:
            if shared is not None and shared.serves(n_components):
                spectral = SpectralStart(shared.coordinates[:, :n_components], shared.n_parts, pruned_for)
            else:
                spectral = SpectralStart.solve(weights, vectors[graph.representatives], n_components, metric,
                                               random_state, pruned_for)
            start = noisy_scale_coords(spectral.coordinates, random_state, max_coord=10, noise=0.0001)
        else:
            start = random_state.uniform(low=-10.0, high=10.0, size=(weights.shape[0], n_components)).astype(np.float32)
        epochs_per_sample = make_epochs_per_sample(weights.data, n_epochs)
        rng_state = random_state.randint(np.iinfo(np.int32).min, np.iinfo(np.int32).max, 3).astype(np.int64)
        span = np.max(start, 0) - np.min(start, 0)
        embedding = (10.0 * (start - np.min(start, 0)) / span).astype(np.float32, order="C")
        a, b = find_ab_params(config.spread, config.min_dist)
        return cls(embedding, weights.row, weights.col, epochs_per_sample, rng_state, float(a), float(b), n_epochs,
                   spectral)

    def optimise(self, *, tail: np.ndarray | None = None, n_vertices: int | None = None, initial_alpha: float = 1.0,
                 move_other: bool = True) -> np.ndarray:
        """umap-learn's ``optimize_layout_euclidean`` epoch loop (gamma 1, 5 negative samples), each epoch
        run by ``explorer.mapping.layout_epoch``.

        By default the layout moves against itself; with a fixed ``tail`` layout (and ``move_other=False``)
        only this run's points move, as in umap-learn's ``transform``.
        """
        from explorer.mapping.layout_epoch import optimise_epoch

        embedding = self.embedding
        tail = embedding if tail is None else tail
        n_vertices = len(embedding) if n_vertices is None else n_vertices
        negative_sample_rate = 5.0
        epochs_per_negative_sample = self.epochs_per_sample / negative_sample_rate
        epoch_of_next_negative_sample = epochs_per_negative_sample.copy()
        epoch_of_next_sample = self.epochs_per_sample.copy()
        rng_state_per_sample = np.full((len(embedding), len(self.rng_state)), self.rng_state, dtype=np.int64) + \
            embedding[:, 0].astype(np.float64).view(np.int64).reshape(-1, 1)
        alpha = initial_alpha
        for epoch in range(self.n_epochs):
            if self.stopped:
                break
            optimise_epoch(embedding, tail, self.head, self.tail, n_vertices, self.epochs_per_sample, self.a, self.b,
                           rng_state_per_sample, alpha, epochs_per_negative_sample, epoch_of_next_negative_sample,
                           epoch_of_next_sample, epoch, move_other)
            alpha = initial_alpha * (1.0 - float(epoch) / float(self.n_epochs))
            self.epochs_done = epoch + 1
        return embedding


def place_points(neighbours: Neighbors, layout_coords: np.ndarray, *,
                 config: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """Place new points (e.g. a typed query) on an existing layout without refitting it: umap-learn's
    ``UMAP.transform`` for a k-NN graph we already have.

    Each point starts at the membership-weighted mean of its neighbours' positions, then a few epochs pull it
    towards them and away from random others while the layout stays fixed (30 epochs above 10k points, 100
    below, as umap-learn does).

    Args:
        neighbours: (q, k) the new points' nearest corpus rows, best first (the first ``config.n_neighbors`` used).
        layout_coords: (n, c) the saved layout of the corpus.

    Returns (q, c) float32 coordinates in the layout's frame.
    """
    return place_on_layouts(neighbours, [(layout_coords, config)])[0]


def place_on_layouts(neighbours: Neighbors, targets: Sequence[tuple[np.ndarray, LayoutConfig]], *,
                     progress: LayoutProgress | None = None) -> list[np.ndarray]:
    """:func:`place_points` on several layouts of the same corpus at once (e.g. the 2-D map and the 5-D
    clustering layout), each placement optimised in its own thread. Returns one (q, c) layout per target."""
    # Writable: the epoch kernel is compiled for layouts that move (a shared read-only layout is copied).
    tails = [np.require(coords, np.float32, ["C_CONTIGUOUS", "WRITEABLE"]) for coords, _ in targets]
    runs = [_placement(neighbours, tail, config) for tail, (_, config) in zip(tails, targets)]
    moving = [i for i, run in enumerate(runs) if isinstance(run, _LayoutRun)]
    optimised = _optimise_side_by_side([runs[i] for i in moving], progress or (lambda fraction: None),
                                       [tails[i] for i in moving])
    placed = list(runs)
    for i, (embedding, _) in zip(moving, optimised):
        placed[i] = embedding
    return placed


def _placement(neighbours: Neighbors, tail: np.ndarray, config: LayoutConfig) -> _LayoutRun | np.ndarray:
    """The epochs that place new points on ``tail``, or their start alone when no edge is strong enough."""
    import scipy.sparse
    from sklearn.preprocessing import normalize
    from umap.umap_ import find_ab_params, make_epochs_per_sample

    smooth_knn_dist, compute_membership_strengths = _cached_umap_kernels()
    k = min(config.n_neighbors, neighbours.indices.shape[1])
    indices = np.ascontiguousarray(neighbours.indices[:, :k], dtype=np.int32)
    distances = np.ascontiguousarray(neighbours.distances()[:, :k], dtype=np.float32)
    n_queries, n = len(indices), len(tail)
    # A new point's nearest neighbour is another point, so no local connectivity is assumed (umap-learn's choice).
    sigmas, rhos = smooth_knn_dist(distances, float(k), local_connectivity=0.0)
    rows, cols, values, _ = compute_membership_strengths(indices, distances, sigmas, rhos, True)
    graph = scipy.sparse.coo_matrix((values, (rows, cols)), shape=(n_queries, n))
    weights = normalize(graph.tocsr(), norm="l1")
    start = np.asarray(weights @ tail, dtype=np.float32)
    weightless = np.flatnonzero(np.diff(weights.indptr) == 0)  # no membership at all: the plain mean
    start[weightless] = tail[indices[weightless]].mean(axis=1)
    n_epochs = 100 if n <= 10_000 else 30
    graph.data[graph.data < graph.data.max(initial=0.0) / float(n_epochs)] = 0.0
    graph.eliminate_zeros()
    if graph.nnz == 0:
        return start
    epochs_per_sample = make_epochs_per_sample(graph.data, n_epochs)
    rng_state = np.random.RandomState(config.seed).randint(np.iinfo(np.int32).min, np.iinfo(np.int32).max, 3)
    a, b = find_ab_params(config.spread, config.min_dist)
    return _LayoutRun(start, graph.row, graph.col, epochs_per_sample, rng_state.astype(np.int64), float(a), float(b),
                      n_epochs)


def small_layout(vectors: np.ndarray, *, n_components: int) -> np.ndarray:
    """PCA coordinates for corpora too small for UMAP: (n, n_components) float32, zero-padded."""
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:n_components].T
    padded = np.zeros((len(vectors), n_components), np.float32)
    padded[:, : projected.shape[1]] = projected
    return _standardise(padded)


def _standardise(embedding: np.ndarray) -> np.ndarray:
    """Centre and scale so the bulk of the points spans about [-10, 10] (a few far islands may lie beyond)."""
    centred = embedding - np.median(embedding, axis=0)
    scale = np.percentile(np.abs(centred), 99) or np.abs(centred).max() or 1.0
    return (centred / scale * 10).astype(np.float32)
