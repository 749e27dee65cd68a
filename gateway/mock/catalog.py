"""The mock's model catalogue and its embeddings endpoint body."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from gateway.mock.params import BadRequest, prompt_texts
from gateway.mock.text import prompt_seed

MODELS: tuple[tuple[str, str, int], ...] = (
    ("mock-gpt", "distillguard", 1767225600),
    ("gpt-4o", "system", 1715367049),
    ("gpt-4o-mini", "system", 1721172741),
    ("gpt-4.1", "system", 1744316542),
    ("gpt-4.1-mini", "system", 1744318173),
    ("o3-mini", "system", 1737146383),
    ("o4-mini", "system", 1744225351),
    ("gpt-3.5-turbo-instruct", "system", 1692901427),
    ("text-embedding-3-small", "system", 1705948997),
    ("text-embedding-3-large", "system", 1705953180),
)
MAX_DIMENSIONS = 3072


def model_object(model_id: str, owned_by: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def models_list() -> dict[str, Any]:
    return {"object": "list", "data": [model_object(*m) for m in MODELS]}


def find_model(model_id: str) -> dict[str, Any] | None:
    for entry in MODELS:
        if entry[0] == model_id:
            return model_object(*entry)
    return None


def embeddings(body: Any, default_dimensions: int, seed: int) -> dict[str, Any]:
    """A deterministic unit vector per input (same text, same vector), OpenAI's shape."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("you must provide a model parameter", "model")
    inputs = prompt_texts(body.get("input"), "input")
    dims = body.get("dimensions", default_dimensions)
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMENSIONS:
        raise BadRequest(f"Invalid 'dimensions': expected 1 to {MAX_DIMENSIONS}.", "dimensions")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise BadRequest(
            "Invalid 'encoding_format': expected 'float' or 'base64'.", "encoding_format"
        )
    data = []
    for index, (text, _) in enumerate(inputs):
        rng = np.random.default_rng(prompt_seed(text, seed))
        vector = rng.standard_normal(dims).astype(np.float32)
        vector /= np.float32(np.linalg.norm(vector))
        encoded: Any = (
            base64.b64encode(vector.astype("<f4").tobytes()).decode()
            if fmt == "base64"
            else np.round(vector.astype(np.float64), 8).tolist()
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(t for _, t in inputs)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
