"""Vectors to a map: the FAISS index (``index``), UMAP layouts (``reduce``, ``spectral``, ``layout_epoch``), HDBSCAN
(``cluster``), cluster keywords (``keywords``), maps fitted on a sample (``sampled``) and the whole map build
(``building``)."""
