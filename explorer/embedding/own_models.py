"""The user's own model: a sentence-transformers folder (a fine-tuned model, BGE, GTE, mpnet...) or an embeddings
server that speaks the OpenAI ``/v1/embeddings`` API (Ollama, vLLM, Text Embeddings Inference, LiteLLM, LocalAI).

A folder's identity is a hash of its files, not its path: the same folder moved is the same model, a retrained
one is not. A server's identity is its URL, the model's name, the dimension and the hash of a probe text's
vector, so a server that now serves another model is noticed.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from explorer.embedding.encoders import TORCH, Encoder, ModelSpec, _encode_in_batches, _unit_rows
from explorer.errors import InputError

ENDPOINT_PREFIX = "openai:"
ENDPOINT_BATCH = 64
ENDPOINT_TIMEOUT_S = 60.0
ENDPOINT_RETRIES = 3
PROBE_TEXT = "embedding explorer probe"
_HASHED_SUFFIXES = {".json", ".safetensors", ".bin", ".pt", ".txt", ".model", ".onnx"}


def is_own_model(model_id: str) -> bool:
    """Whether ``model_id`` names an endpoint (``openai:NAME``) or a folder rather than a registered model."""
    return model_id.startswith(ENDPOINT_PREFIX) or "/" in model_id or model_id.startswith((".", "~"))


def canonical_model_id(model_id: str) -> str:
    """A folder as its absolute path (so a workspace finds its model again from any working folder); other ids
    as they are."""
    if is_own_model(model_id) and not model_id.startswith(ENDPOINT_PREFIX):
        return str(Path(model_id).expanduser().resolve())
    return model_id


def folder_fingerprint(folder: Path) -> str:
    """sha256 over the folder's weight, config and tokenizer files (their relative paths and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in _HASHED_SUFFIXES and ".git" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode())
            with path.open("rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def check_model_folder(folder: Path) -> None:
    """Refuse, in one sentence, a folder that is not a local sentence-transformers model, or one that would need
    code from the hub (``trust_remote_code``), which this tool never runs."""
    if not folder.is_dir():
        raise InputError(f"'{folder}' is not a folder: give a sentence-transformers model folder, or openai:NAME "
                         "for an embeddings server.")
    if not (folder / "modules.json").is_file():
        raise InputError(f"'{folder}' is not a sentence-transformers model folder (it has no modules.json); save "
                         "your model with model.save(folder).")
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8")) if (
            folder / "config.json").is_file() else {}
    except (OSError, ValueError) as error:
        raise InputError(f"'{folder}' has an unreadable modules.json or config.json ({error}).") from None
    foreign = [module.get("type", "?") for module in modules
               if not str(module.get("type", "")).startswith("sentence_transformers.")]
    if foreign or "auto_map" in config:
        raise InputError(f"The model in '{folder}' needs code from the hub (trust_remote_code: "
                         f"{', '.join(foreign) or 'auto_map in config.json'}), which this tool never runs.")


class FolderEncoder(Encoder):
    """A local sentence-transformers model folder, on PyTorch (any pooling, any dimension, with or without a
    Normalize module: the vectors are normalised here, as for every model)."""

    def __init__(self, folder: Path) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        folder = folder.expanduser().resolve()
        check_model_folder(folder)
        digest = folder_fingerprint(folder)
        try:
            model = SentenceTransformer(str(folder), device="cpu", trust_remote_code=False, local_files_only=True)
        except (OSError, ValueError, KeyError) as error:
            raise InputError(f"The model in '{folder}' cannot be loaded: {error}".splitlines()[0]) from None
        self._model, self.folder = model, folder
        dim = int(model.get_embedding_dimension())
        limit = int(model.max_seq_length) if model.max_seq_length else None
        self._special = model.tokenizer.num_special_tokens_to_add(pair=False)
        self.spec = ModelSpec(folder.name, f"{folder.name} (your model)", dim, limit, "measured on your machine",
                              "sentence_transformers", "sentence-transformers", "", f"Your model in {folder}",
                              marker_tokens=self._special, runs_on="sentence-transformers on PyTorch (fp32)")
        self.fingerprint = f"{folder.name}@sha256:{digest[:16]}"
        self.token_limit = None if limit is None else limit - self._special
        self.backend = TORCH

    def encode(self, texts, *, batch_size=64, progress=None):
        return _encode_in_batches(texts, batch_size * 4, self.spec.dim, lambda batch: self._model.encode(
            batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False).astype(np.float32), progress)

    def token_spans(self, texts):
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                                        truncation=False)
        return [[tuple(span) for span in offsets] for offsets in encoded["offset_mapping"]]


class EndpointEncoder(Encoder):
    """A model served behind the OpenAI ``/v1/embeddings`` API at ``$OPENAI_BASE_URL`` (key, if any, from
    ``$OPENAI_API_KEY``): texts sent in batches, retried with backoff on timeouts, 429 and 5xx answers."""

    _WORD = re.compile(r"\S+")

    def __init__(self, name: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = ENDPOINT_TIMEOUT_S) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise InputError(f"{ENDPOINT_PREFIX}{name} needs the server's address: set OPENAI_BASE_URL (e.g. "
                             "http://127.0.0.1:11434/v1 for Ollama).")
        if not name:
            raise InputError("Name the served model: openai:NAME (e.g. openai:nomic-embed-text).")
        self.url = base_url.rstrip("/") + "/embeddings"
        self.name, self._key, self._timeout = name, api_key or os.environ.get("OPENAI_API_KEY"), timeout
        probe = self._embed([PROBE_TEXT])[0]
        dim = len(probe)
        identity = f"{self.url}|{name}|{dim}|{hashlib.sha256(np.round(probe, 4).tobytes()).hexdigest()}"
        self.spec = ModelSpec(f"{ENDPOINT_PREFIX}{name}", f"{name} (your server)", dim, None,
                              "as fast as the server", "json", "", "", f"Served at {base_url}",
                              runs_on=f"an OpenAI-compatible server at {base_url}")
        self.fingerprint = f"{ENDPOINT_PREFIX}{name}@sha256:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
        self.token_limit = None
        self.backend = None

    def encode(self, texts, *, batch_size=ENDPOINT_BATCH, progress=None):
        return _encode_in_batches(texts, ENDPOINT_BATCH, self.spec.dim,
                                  lambda batch: _unit_rows(self._embed(batch)), progress)

    def token_spans(self, texts):
        """The server's tokenizer is unknown here: words stand in for tokens (no truncation is predicted)."""
        return [[match.span() for match in self._WORD.finditer(text)] for text in texts]

    def _embed(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self.name, "input": list(texts)}).encode()
        headers = {"Content-Type": "application/json"} | (
            {"Authorization": f"Bearer {self._key}"} if self._key else {})
        for attempt in range(ENDPOINT_RETRIES + 1):
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                    return self._vectors(answer.read(), len(texts))
            except urllib.error.HTTPError as error:
                retry = error.code == 429 or error.code >= 500
                if not retry or attempt == ENDPOINT_RETRIES:
                    detail = error.read(300).decode("utf-8", "replace").strip().replace("\n", " ")
                    raise InputError(f"The embeddings server at {self.url} answered HTTP {error.code}"
                                     + (f": {detail}" if detail else "") + ".") from None
            except (TimeoutError, ConnectionError, http.client.HTTPException, urllib.error.URLError) as error:
                reason = getattr(error, "reason", error)
                if attempt == ENDPOINT_RETRIES:
                    timed_out = isinstance(error, TimeoutError) or isinstance(reason, TimeoutError)
                    what = (f"did not answer within {self._timeout:g} s" if timed_out
                            else f"cannot be reached ({reason})")
                    raise InputError(f"The embeddings server at {self.url} {what}; tried {attempt + 1} "
                                     "times.") from None
            backoff(attempt)
        raise AssertionError("unreachable")

    def _vectors(self, payload: bytes, expected: int) -> np.ndarray:
        try:
            items = sorted(json.loads(payload)["data"], key=lambda item: item["index"])
            vectors = np.asarray([item["embedding"] for item in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(f"The embeddings server at {self.url} answered something that is not an OpenAI "
                             f"embeddings response ({error.__class__.__name__}: {error}).") from None
        if vectors.ndim != 2 or len(vectors) != expected or not np.isfinite(vectors).all():
            raise InputError(f"The embeddings server at {self.url} returned {len(vectors)} vectors of shape "
                             f"{vectors.shape[1:]} for {expected} texts.")
        if hasattr(self, "spec") and vectors.shape[1] != self.spec.dim:
            raise InputError(f"The embeddings server at {self.url} now returns {vectors.shape[1]}-d vectors, not "
                             f"the {self.spec.dim}-d it returned before: the served model changed.")
        return vectors


def backoff(attempt: int) -> None:
    """Wait before retrying a server: 0.5, 1 and 2 s."""
    time.sleep(0.5 * 2 ** attempt)


def load_own_model(model_id: str, *, backend: str | None = None) -> Encoder:
    """The encoder of a folder path or of ``openai:NAME``; a folder runs on PyTorch only."""
    if model_id.startswith(ENDPOINT_PREFIX):
        if backend is not None:
            raise InputError("An embeddings server runs its model itself: leave out the backend.")
        return EndpointEncoder(model_id[len(ENDPOINT_PREFIX):])
    if backend not in (None, TORCH):
        raise InputError(f"Your model folder runs on PyTorch ('{TORCH}') only, not '{backend}'.")
    return FolderEncoder(Path(model_id))
