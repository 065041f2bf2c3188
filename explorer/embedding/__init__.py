"""Texts to vectors: the model registry and encoders (``encoders``), embedding with an on-disk cache (``embed``),
the 8-bit ONNX export (``onnx_export``) and the Ray Data engine (``ray_engine``)."""
