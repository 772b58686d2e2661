"""A tiny BERT-shaped encoder with random weights, written in the runtime's own formats: an ONNX graph
(built with onnx's helper API) and a WordPiece tokenizer.json (built with the tokenizers library).

The graph: token + position + token-type embeddings, LayerNorm, then each token mixed with the
mean of the sequence's real tokens (the attention mask decides which count, as attention does in
BERT), MatMul and Tanh. So padding changes the output unless the mask is fed right.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["read", "write", "a", "the", "csv", "json", "file", "parse", "text", "vector", "search", "model",
         "fast", "slow", "cat", "dog", "sun", "rain", "word", "##s", "##ing", "##ed", "##er", "un", "##do"]
POSITIONS = 512


def build_tokenizer(path: Path, *, truncate_at: int | None = None) -> Tokenizer:
    """A BERT-style WordPiece tokenizer ([CLS] ... [SEP], lower case) saved as tokenizer.json."""
    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer.decoder = decoders.WordPiece()
    if truncate_at is not None:  # as some exported tokenizer.json files carry it
        tokenizer.enable_truncation(truncate_at)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return tokenizer


def build_graph(path: Path, hidden: int, *, seed: int = 7, token_types: bool = True) -> None:
    """The encoder as an ONNX graph: inputs input_ids, attention_mask (and token_type_ids), output
    last_hidden_state (batch, tokens, hidden)."""
    rng = np.random.default_rng(seed)

    def weight(name: str, *shape: int, scale: float = 0.5) -> TensorProto:
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    vocab = len(SPECIALS) + len(WORDS)
    init = [weight("word", vocab, hidden), weight("position", POSITIONS, hidden), weight("types", 2, hidden),
            weight("gamma", hidden), weight("beta", hidden), weight("w", hidden, hidden, scale=hidden ** -0.5),
            weight("b", hidden), weight("wc", hidden, hidden, scale=hidden ** -0.5),
            *(numpy_helper.from_array(np.array(value, np.int64), name)
              for name, value in (("one", 1), ("zero", 0), ("axis1", [1]), ("axis2", [2])))]
    node = helper.make_node
    nodes = [
        node("Gather", ["word", "input_ids"], ["tok"]),
        node("Shape", ["input_ids"], ["shape"]),
        node("Gather", ["shape", "one"], ["seq"]),
        node("Range", ["zero", "seq", "one"], ["pos_ids"]),
        node("Gather", ["position", "pos_ids"], ["pos"]),
        node("Add", ["tok", "pos"], ["emb0"]),
    ]
    if token_types:
        nodes += [node("Gather", ["types", "token_type_ids"], ["typ"]), node("Add", ["emb0", "typ"], ["emb"])]
    else:
        nodes += [node("Identity", ["emb0"], ["emb"])]
    nodes += [
        node("LayerNormalization", ["emb", "gamma", "beta"], ["x"], axis=-1),
        node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        node("Unsqueeze", ["maskf", "axis2"], ["m"]),
        node("Mul", ["x", "m"], ["xm"]),
        node("ReduceSum", ["xm", "axis1"], ["total"], keepdims=1),
        node("ReduceSum", ["m", "axis1"], ["count"], keepdims=1),
        node("Div", ["total", "count"], ["context"]),
        node("MatMul", ["x", "w"], ["xw"]),
        node("Add", ["xw", "b"], ["xwb"]),
        node("MatMul", ["context", "wc"], ["cw"]),
        node("Add", ["xwb", "cw"], ["pre"]),
        node("Tanh", ["pre"], ["last_hidden_state"]),
    ]
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in names]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden])
    graph = helper.make_graph(nodes, "tiny-bert", inputs, [output], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def build_repo(folder: Path, hidden: int = 384, **graph: object) -> tuple[Path, Path]:
    """A folder laid out like a Hugging Face repository: onnx/model.onnx and tokenizer.json."""
    build_graph(folder / "onnx" / "model.onnx", hidden, **graph)  # type: ignore[arg-type]
    build_tokenizer(folder / "tokenizer.json")
    return folder / "onnx" / "model.onnx", folder / "tokenizer.json"


def fill_hub_cache(cache: Path, repo: str, source: Path, commit: str = "0" * 40) -> None:
    """Lay `source`'s files out as huggingface_hub's cache does after a download of `repo`."""
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit, encoding="utf-8")
    snapshot = root / "snapshots" / commit
    for file in source.rglob("*"):
        if file.is_file():
            target = snapshot / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
