"""Errors of text embedding, in the package's tree (`vectorize_nb.errors`), and Workers AI's codes for them.

    InvalidRequest (ValueError)
    ├── BadEmbeddingInput             5006  Workers AI's "Bad input"
    │   ├── EmptyText                       a text of length 0, named by row
    │   ├── TextNotString (TypeError)       None, NaN or another type, named by row
    │   ├── TextTooLong                     over the model's token limit, named by row
    │   └── UnsupportedPooling              a pooling the model does not offer
    └── UnknownModel                  5007  Workers AI's "No such model"
    ModelNotAvailable                       the model cannot run here now (weights missing, no network)

The classes carry no `code` of their own yet: `vectorize_nb.errors` keeps one class per code, and
these join its table when the server answers Workers AI's routes; `workers_ai_code` gives the code.
"""

from __future__ import annotations

from ..errors import InvalidRequest, VectorizeError

__all__ = ["BadEmbeddingInput", "EmptyText", "TextNotString", "TextTooLong", "UnsupportedPooling", "UnknownModel",
           "ModelNotAvailable", "workers_ai_code"]


class BadEmbeddingInput(InvalidRequest):
    """The texts or options of an embedding request break a rule; nothing was embedded."""


class EmptyText(BadEmbeddingInput):
    hint = "Workers AI refuses empty texts; drop or fill those rows first"


class TextNotString(BadEmbeddingInput, TypeError):
    hint = "Every text must be a str; drop missing values (e.g. df.dropna(subset=[column])) or convert them"


class TextTooLong(BadEmbeddingInput):
    hint = ("Workers AI documents a 400 for texts over the model's token limit, and the local runtime refuses "
            "them too rather than cut them; split long texts into passages (which also retrieves better)")


class UnsupportedPooling(BadEmbeddingInput):
    hint = "Leave pooling=None for the model's default"


class UnknownModel(InvalidRequest):
    hint = "vectorize_nb.embeddings.model_records() lists the models the package knows"


class ModelNotAvailable(VectorizeError):
    """The model is known but cannot run here now: its weights are not in the cache and cannot be
    fetched, or it has no local runtime."""

    status = 503


_WORKERS_AI_CODES: dict[type[VectorizeError], int] = {BadEmbeddingInput: 5006, UnknownModel: 5007}


def workers_ai_code(error: VectorizeError) -> int | None:
    """Workers AI's error code for an embedding error (5006 bad input, 5007 no such model), else None."""
    return next((_WORKERS_AI_CODES[cls] for cls in type(error).__mro__ if cls in _WORKERS_AI_CODES), None)
