"""Tokens of a text read from a model's tokenizer without changing the tokenizer.

A fast tokenizer keeps its padding and truncation as state of one Rust object, and every call through
transformers sets that state to what the call asks for: ``encode`` pads its batches, a count asks for no
padding. A server searches on threads while its intake thread encodes a build with the same model, so a
count made on one thread between another thread's "pad" and its batch leaves that batch ragged ("Unable
to create tensor"), and a change made while the batch is being encoded fails as "Already borrowed". So
jisr's own reading of a text (a query cut to its tokens, the lengths a build batches by, a model's
fingerprint) only ever *reads* the tokenizer: it calls the Rust tokenizer as it stands and takes out what
its state added (the padding, by the attention mask; the pieces cut off, from ``overflowing``). ``encode``
is then the only caller that sets the state, always to the same values, and transformers changes nothing
when the state already holds them. A copy of the tokenizer for reading would avoid the question too, at
the size of a vocabulary (hundreds of MB for a multilingual model), once per loaded model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def token_counts(tokenizer: Any, texts: Sequence[str], special: bool = True) -> list[int]:
    """How many tokens each text is, with the special tokens when ``special``; nothing cut or padded."""
    backend = _backend(tokenizer)
    if backend is None:  # a Python tokenizer pads and cuts per call: it keeps no state between calls
        return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=special, verbose=False)["input_ids"]]
    added = _added(backend, special)
    encodings = backend.encode_batch_fast(list(texts), add_special_tokens=special)
    return [len(_pieces(e, added, backend)[0]) if e.overflowing else sum(e.attention_mask) for e in encodings]


def tokens(tokenizer: Any, text: str, special: bool = False) -> tuple[list[int], list[tuple[int, int]] | None]:
    """The ids of ``text``'s tokens and each one's character span (None from a Python tokenizer)."""
    backend = _backend(tokenizer)
    if backend is None:
        return tokenizer(text, add_special_tokens=special)["input_ids"], None
    return _pieces(backend.encode(text, add_special_tokens=special), _added(backend, special), backend)


def _backend(tokenizer: Any):
    return tokenizer.backend_tokenizer if getattr(tokenizer, "is_fast", False) else None


def _added(backend, special: bool) -> int:
    """Special tokens the state's truncation adds to each piece it cuts a text into."""
    processor = backend.post_processor
    return processor.num_special_tokens_to_add(False) if special and processor is not None else 0


def _pieces(encoding, added: int, backend) -> tuple[list[int], list[tuple[int, int]]]:
    """The whole text's ids and spans: the first piece without its padding, then each piece truncation cut
    off without its padding, its special tokens and the stride it repeats of the piece before."""
    stride = (backend.truncation or {}).get("stride", 0)
    ids, spans = _unpadded(encoding)
    if not encoding.overflowing:
        return ids, spans
    # with special tokens, each piece is [CLS] body [SEP]: the whole text is [CLS] bodies [SEP]
    head = 1 if added else 0
    tail = added - head
    ids, spans = ids[: len(ids) - tail], spans[: len(spans) - tail]
    for piece in encoding.overflowing:
        more, more_spans = _unpadded(piece)
        ids += more[head + stride : len(more) - tail]
        spans += more_spans[head + stride : len(more_spans) - tail]
    if tail:
        last, last_spans = _unpadded(encoding.overflowing[-1])
        ids += last[len(last) - tail :]
        spans += last_spans[len(last_spans) - tail :]
    return ids, spans


def _unpadded(encoding) -> tuple[list[int], list[tuple[int, int]]]:
    keep = [i for i, m in enumerate(encoding.attention_mask) if m]
    return [encoding.ids[i] for i in keep], [encoding.offsets[i] for i in keep]
