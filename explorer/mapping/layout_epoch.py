"""One epoch of UMAP's layout optimisation, written for our settings (euclidean output, gamma 1, no densMAP).

umap-learn's epoch works through a point's negative samples one after the other, each computed from the
position the previous one left, so every sample waits for the last (a ``pow`` and a division each): the loop is
bound by that chain, not by arithmetic. Here a point's negative samples in one epoch are all computed from the
position before them and applied together, so they can overlap; the arithmetic is float32, and an attraction
computes ``pow`` once instead of twice. The random stream (umap-learn's tau rand), the sampling schedule,
gradient clipping at 4 and the learning rate are umap-learn's.

Measured on 50,000 real tweets (WordLlama, 2 cores, 100 epochs, single-threaded): the 5-D clustering layout
took 5.9 s against umap-learn's 10.5 s, the 2-D map 4.8 s against 8.7 s. Over two seeds each, the maps are as
trustworthy (0.842 and 0.843 against umap-learn's 0.840 and 0.839, 10 neighbours, cosine, 4,000-point sample),
HDBSCAN on the 5-D layouts finds as many clusters (390 and 400 against 383 and 398) and as much noise (43-46%
against 44-45%), and the clusters agree with umap-learn's as much as umap-learn's two seeds agree with each
other (adjusted Rand index 0.82-0.92 on points clustered in both, against 0.89).
"""

from __future__ import annotations

import numba
import numpy as np
from umap.utils import tau_rand_int

# Reassociation and fused multiply-adds, but NaN and infinity keep their meaning.
_FAST_MATH = {"contract", "afn", "reassoc", "arcp", "nsz"}


@numba.njit(nogil=True, cache=True, fastmath=_FAST_MATH, error_model="numpy")
def optimise_epoch(head_embedding, tail_embedding, head, tail, n_vertices, epochs_per_sample, a, b,
                   rng_state_per_sample, alpha, epochs_per_negative_sample, epoch_of_next_negative_sample,
                   epoch_of_next_sample, epoch, move_other):
    """Move ``head_embedding`` (float32, C order) in place for epoch number ``epoch``.

    Edges ``head[i] -> tail[i]`` due this epoch pull their ends together; each due edge's head is then pushed
    away from randomly drawn rows of ``tail_embedding`` (which is ``head_embedding`` itself when a layout is
    optimised against itself). ``move_other=False`` keeps the tail rows fixed, as when placing new points.
    """
    dim = head_embedding.shape[1]
    a32, b32, rate = np.float32(a), np.float32(b), np.float32(alpha)
    attraction = np.float32(-2.0) * a32 * b32
    repulsion = np.float32(2.0) * b32
    clip = np.float32(4.0)
    push = np.zeros(dim, np.float32)
    for i in range(epochs_per_sample.shape[0]):
        if epoch_of_next_sample[i] > epoch:
            continue
        j, k = head[i], tail[i]
        current, other = head_embedding[j], tail_embedding[k]
        dist_squared = np.float32(0.0)
        for d in range(dim):
            diff = current[d] - other[d]
            dist_squared += diff * diff
        coefficient = np.float32(0.0)
        if dist_squared > 0.0:
            power = dist_squared ** b32
            coefficient = attraction * power / (dist_squared * (a32 * power + np.float32(1.0)))
        for d in range(dim):
            step = min(max(coefficient * (current[d] - other[d]), -clip), clip) * rate
            current[d] += step
            if move_other:
                other[d] -= step
        epoch_of_next_sample[i] += epochs_per_sample[i]

        n_negative = int((epoch - epoch_of_next_negative_sample[i]) / epochs_per_negative_sample[i])
        for d in range(dim):
            push[d] = 0.0
        for _ in range(n_negative):
            k = tau_rand_int(rng_state_per_sample[j]) % n_vertices
            other = tail_embedding[k]
            dist_squared = np.float32(0.0)
            for d in range(dim):
                diff = current[d] - other[d]
                dist_squared += diff * diff
            # Coincident points (the point itself included) push nothing, as in umap-learn.
            if dist_squared > 0.0:
                coefficient = repulsion / ((np.float32(0.001) + dist_squared)
                                           * (a32 * dist_squared ** b32 + np.float32(1.0)))
                for d in range(dim):
                    push[d] += min(max(coefficient * (current[d] - other[d]), -clip), clip) * rate
        for d in range(dim):
            current[d] += push[d]
        epoch_of_next_negative_sample[i] += n_negative * epochs_per_negative_sample[i]
