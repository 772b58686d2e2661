"""Open-weights encoders (BERT family) run by ONNX Runtime, tokenised by the `tokenizers` library.

The recipe is the reference one: the model's own WordPiece tokenizer adds [CLS] ... [SEP], the graph
gives the last hidden state, the requested pooling makes one vector per text (mean over the real
tokens, or the [CLS] token), and the vector is scaled to unit length. Nothing is prepended to the
texts. A text over the model's token limit is refused (Workers AI documents a 400), never cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..contract.errors import ModelNotAvailable
from .pooling import normalise, pool
from .texts import too_long

__all__ = ["TransformerModel"]

_FEEDS = ("input_ids", "attention_mask", "token_type_ids")
_ORT_INTS = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


class TransformerModel:
    """An ONNX encoder and its tokenizer: texts in, pooled unit-length float32 vectors out.

    Parameters
    ----------
    session
        An onnxruntime.InferenceSession whose inputs are named like BERT's ONNX exports
        (input_ids, attention_mask and optionally token_type_ids) and whose output is the last
        hidden state (batch, tokens, hidden).
    tokenizer
        A tokenizers.Tokenizer that adds the model's special tokens.
    name
        The model's id, for error messages.
    max_tokens
        Tokens per text, special tokens included; None for no limit.
    token_budget
        Tokens per call of the graph (rows x longest row): bounds memory, keeps calls efficient.
    """

    def __init__(self, session: Any, tokenizer: Any, *, name: str, max_tokens: int | None = None,
                 token_budget: int = 8192):
        self.session = session
        self.tokenizer = tokenizer
        self.name = name
        self.max_tokens = max_tokens
        self.token_budget = token_budget
        padding = tokenizer.padding or {}
        self._pad_id = int(padding.get("pad_id", tokenizer.token_to_id("[PAD]") or 0))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._inputs = _input_types(session, name)
        self._output, self.dimensions = _hidden_output(session, name)

    @classmethod
    def load(cls, onnx: str | Path, tokenizer: str | Path, *, name: str, max_tokens: int | None = None,
             dimensions: int | None = None) -> TransformerModel:
        """Load the graph and the tokenizer.json from files.

        Raises
        ------
        ModelNotAvailable
            The graph's inputs or output are not a BERT-style encoder's, or it does not give
            `dimensions` (when given) values per token.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: keep notebooks free of graph-optimiser chatter
        session = ort.InferenceSession(str(onnx), sess_options=options, providers=["CPUExecutionProvider"])
        model = cls(session, Tokenizer.from_file(str(tokenizer)), name=name, max_tokens=max_tokens)
        if dimensions is not None and model.dimensions not in (None, dimensions):
            raise ModelNotAvailable(f"The graph at {onnx} gives {model.dimensions} values per token, but {name} "
                                    f"has {dimensions} dimensions: these are not its weights")
        return model

    def count_tokens(self, texts: list[str]) -> np.ndarray:
        """Tokens per text, special tokens included, as the model would see them (int64)."""
        counts = np.empty(len(texts), np.int64)
        for start in range(0, len(texts), 4096):
            encodings = self.tokenizer.encode_batch_fast(texts[start:start + 4096])
            counts[start:start + len(encodings)] = [len(e.ids) for e in encodings]
        return counts

    def embed(self, texts: list[str], pooling: str = "mean") -> np.ndarray:
        """One unit-length float32 row per text, in order, pooled with `pooling` ("mean" or "cls").

        Raises
        ------
        TextTooLong
            A text is over `max_tokens` (checked for every text before the graph runs).
        """
        counts = self.count_tokens(texts)
        self._check_lengths(counts)
        order = np.argsort(-counts, kind="stable")
        out: np.ndarray | None = None
        start = 0
        while start < len(order):
            rows = order[start:start + max(1, self.token_budget // int(counts[order[start]]))]
            vectors = self._run([texts[i] for i in rows], pooling)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), np.float32)
            out[rows] = vectors
            start += len(rows)
        return normalise(out) if out is not None else np.empty((0, self.dimensions or 0), np.float32)

    def check(self, texts: list[str]) -> None:
        """Raise TextTooLong for the first text over `max_tokens`, saying how many more are; cheap next to `embed`
        (the tokenizer alone runs)."""
        if self.max_tokens is not None:
            self._check_lengths(self.count_tokens(texts))

    def _check_lengths(self, counts: np.ndarray) -> None:
        if self.max_tokens is None:
            return
        over = np.flatnonzero(counts > self.max_tokens)
        if len(over):
            raise too_long(over.tolist(), f"has {int(counts[over[0]])} tokens; {self.name} takes at most "
                           f"{self.max_tokens} per text, [CLS] and [SEP] included")

    def _run(self, texts: list[str], pooling: str) -> np.ndarray:
        encodings = self.tokenizer.encode_batch_fast(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(texts), width), self._pad_id, np.int64)
        mask = np.zeros((len(texts), width), np.int64)
        types = np.zeros((len(texts), width), np.int64)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            ids[row, :n] = encoding.ids
            mask[row, :n] = 1
            types[row, :n] = encoding.type_ids
        given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feed = {name: given[name].astype(dtype, copy=False) for name, dtype in self._inputs.items()}
        (hidden,) = self.session.run([self._output], feed)
        return pool(hidden, mask, pooling)


def _input_types(session: Any, name: str) -> dict[str, Any]:
    inputs = {i.name: i.type for i in session.get_inputs()}
    unknown = sorted(set(inputs) - set(_FEEDS))
    if unknown or "input_ids" not in inputs or "attention_mask" not in inputs:
        raise ModelNotAvailable(f"The graph for {name} takes inputs {sorted(inputs)}; a BERT-style encoder takes "
                                f"input_ids and attention_mask (and optionally token_type_ids)")
    return {n: _ORT_INTS.get(t, np.int64) for n, t in inputs.items()}


def _hidden_output(session: Any, name: str) -> tuple[str, int | None]:
    outputs = session.get_outputs()
    chosen = next((o for o in outputs if o.name == "last_hidden_state"), None)
    chosen = chosen or next((o for o in outputs if len(o.shape) == 3), None)
    if chosen is None:
        raise ModelNotAvailable(f"The graph for {name} has no (batch, tokens, hidden) output to pool")
    width = chosen.shape[-1]
    return chosen.name, width if isinstance(width, int) else None
