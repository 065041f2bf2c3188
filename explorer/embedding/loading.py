"""Loading a model by what the user typed: a registered model's id, a sentence-transformers folder, or
``openai:NAME`` for an embeddings server."""

from __future__ import annotations

from explorer.embedding.encoders import Encoder, get_spec
from explorer.embedding.own_models import is_own_model, load_own_model
from explorer.errors import InputError


def load_encoder(model_id: str, *, backend: str | None = None) -> Encoder:
    """Load a registered model (on ``backend``, or its default; a missing package gives its install command), or
    the user's own model (a folder on PyTorch, or an embeddings server)."""
    if is_own_model(model_id):
        return load_own_model(model_id, backend=backend)
    spec = get_spec(model_id)
    if not spec.available():
        raise InputError(f"Model '{model_id}' is not installed. Install it with: {spec.install}")
    if not spec.backends:
        if backend is not None:
            raise InputError(f"{model_id} runs one way only; there is no backend '{backend}' to choose.")
        return spec.factory(spec)
    if backend is not None and backend not in spec.backends:
        raise InputError(f"{model_id} runs on {' or '.join(spec.backends)}, not '{backend}'.")
    return spec.factory(spec, backend or spec.default_backend())
