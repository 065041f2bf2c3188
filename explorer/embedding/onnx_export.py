"""all-MiniLM-L6-v2 for ONNX Runtime: exported from the bundled weights on first use (nothing is downloaded) and
quantised to 8-bit weights (dynamic quantisation), then kept in the data folder's model cache.

On these 2 cores the 8-bit model embeds about 3x as many texts a second as the PyTorch path, with the same
STS-B Spearman within 0.01 (``benchmarks/onnx.py``). Its vectors differ from PyTorch's (cosine about 0.96), so they
carry their own fingerprint and an index refuses to mix the two.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def quantised_minilm(model_dir: Path, cache_dir: Path, *, version: str) -> Path:
    """The 8-bit ONNX file of the MiniLM in ``model_dir`` (the package ``version``), exported once per version."""
    path = cache_dir / f"all-MiniLM-L6-v2-{version}-int8.onnx"
    if path.exists():
        return path
    logger.info("exporting all-MiniLM-L6-v2 to ONNX (first use only): %s", path)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    cache_dir.mkdir(parents=True, exist_ok=True)
    # Made in a folder of its own beside the cache and moved in whole: another process sees the file complete or
    # not at all.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".export-") as work:
        float_path, quantised = Path(work) / "float32.onnx", Path(work) / "int8.onnx"
        _export(model_dir, float_path)
        with _quiet_root_warnings():  # ONNX Runtime suggests a pre-processing step this model does not need
            quantize_dynamic(float_path, quantised, weight_type=QuantType.QInt8)
        os.replace(quantised, path)
    return path


@contextmanager
def _quiet_root_warnings():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _export(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        """BERT's token vectors, called with keyword arguments (its forward takes more positional ones)."""

        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = LastHiddenState(AutoModel.from_pretrained(model_dir).eval())
    example = tuple(torch.ones((2, 8), dtype=torch.int64) for _ in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, example, str(out), input_names=list(INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
