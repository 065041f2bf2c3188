"""Loading a model by what the user typed: a registered model's id, a sentence-transformers folder, or
``openai:NAME`` for an embeddings server."""

from __future__ import annotations

from pathlib import Path

from explorer.embedding.encoders import BACKEND_NAMES, TORCH, Encoder, backend_of, get_spec
from explorer.embedding.own_models import ENDPOINT_PREFIX, check_model_folder, is_own_model, load_own_model
from explorer.errors import InputError


def check_model_id(model_id: str) -> None:
    """Refuse, before any file is read, a model id that names no registered model and no model folder (a server
    is only known once asked)."""
    if not is_own_model(model_id):
        get_spec(model_id)
    elif not model_id.startswith(ENDPOINT_PREFIX):
        check_model_folder(Path(model_id).expanduser())


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


def load_for_measuring(model_id: str, *, backend: str | None = None) -> Encoder:
    """The model as an audit or evaluation measures it: on the backend asked for, else the exact one (PyTorch,
    fp32) where there is a choice. Maps keep the fast default; an audit measures the model as it is deployed."""
    if backend is None and not is_own_model(model_id):
        spec = get_spec(model_id)
        backend = TORCH if TORCH in spec.backends else None
    return load_encoder(model_id, backend=backend)


def measured_by(encoder: Encoder) -> dict[str, str]:
    """Which model, backend and fingerprint a figure was measured with (every audit's JSON and page say it)."""
    backend = getattr(encoder, "backend", None) or backend_of(encoder.spec.id, encoder.fingerprint)
    return {"model": encoder.spec.id, "backend": backend or "",
            "runs_on": BACKEND_NAMES.get(backend, encoder.spec.runs_on), "fingerprint": encoder.fingerprint}
