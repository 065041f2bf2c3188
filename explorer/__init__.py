"""Embedding explorer core: a notebook-friendly pipeline from text to an inspectable vector space.

Each stage lives in its own module (ingest, chunk, encoders, embed, index, reduce, cluster,
label, store) as small pure functions over typed results. Heavy libraries are imported inside
the functions that need them, so ``import explorer`` stays fast.
"""

__version__ = "0.1.0"
