"""What the model reads: Arabic without its optional marks. What people see is never changed.

Fully vocalized Arabic (the Quran, hadith, poetry, school texts) carries a mark on almost
every letter. Multilingual tokenizers learned their vocabulary from mostly unvocalized text,
so the marks split each word into many pieces: the text costs several times the tokens and
the model no longer recognizes its words (a held-out hadith collection: English -> Arabic
MRR@10 0.151 with the marks, 0.575 without). Only the marks go: tashkeel, Quranic
annotation signs, tatweel, and invisible format characters (zero-width, bidi controls,
the Arabic letter mark); alef wasla (ٱ, an alef carrying the wasla sign, the Quran's
spelling of a plain alef) becomes a plain alef. Letters are not folded (hamza forms,
ta marbuta): that measured worse for the model, unlike for BM25 (jisr.arabic).

The rule is put into the tokenizer's own normalizer when a model is loaded, so every text
any model reads goes through it (queries, passages, token counts for chunking), in build,
search, serve and eval alike; an index records it (``NAME``) and one built without it is
refused with a "rebuild" message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NAME = "arabic-marks/1"  # bump when MARKS changes: indexes built with another rule must be rebuilt
MARKS = (
    "\u0610-\u061a"  # honorific and Quranic signs above letters
    "\u061c"  # Arabic letter mark (bidi)
    "\u064b-\u065f"  # tashkeel: tanwin, fatha, damma, kasra, shadda, sukun, and the rarer marks
    "\u0670"  # superscript (dagger) alef
    "\u0640"  # tatweel
    "\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"  # Quranic annotation signs
    "\u08d3-\u08e1\u08e3-\u08ff"  # extended Arabic marks
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"  # zero-width and bidi format characters
)
ALEF_WASLA, ALEF = "\u0671", "\u0627"
_MARKS = re.compile(f"[{MARKS}]")


def strip_marks(text: str) -> str:
    """``text`` as the model reads it (for code that reads text outside a tokenizer)."""
    return _MARKS.sub("", text).replace(ALEF_WASLA, ALEF)


def _rule() -> list:
    """The marks rule as the tokenizer's normalizer steps."""
    from tokenizers import Regex, normalizers

    return [normalizers.Replace(Regex(f"[{MARKS}]"), ""), normalizers.Replace(ALEF_WASLA, ALEF)]


def _backend(model: SentenceTransformer):
    """The Rust tokenizer ``model`` (or an :class:`~jisr.embeddings.embedder.Embedder`) reads text through, or
    None (a slow tokenizer, or none: USE)."""
    return getattr(getattr(model, "tokenizer", None), "backend_tokenizer", None)


def rule(model: SentenceTransformer) -> str | None:
    """``NAME`` when ``model``'s tokenizer drops the marks first (:func:`apply` made it so), else None: the
    tokenizer is asked, so the answer holds however the model was loaded."""
    from tokenizers import normalizers

    backend = _backend(model)
    steps = backend.normalizer if backend is not None else None
    if not isinstance(steps, normalizers.Sequence):
        return None
    try:
        return (
            NAME if [steps[0].__getstate__(), steps[1].__getstate__()] == [r.__getstate__() for r in _rule()] else None
        )
    except IndexError:  # a sequence of fewer than two steps
        return None


def apply(model: SentenceTransformer) -> str:
    """Make ``model``'s tokenizer drop the marks before anything else it does; idempotent. Returns the
    rule's name (``NAME``), which an index records."""
    from tokenizers import normalizers

    backend = _backend(model)
    if backend is None:
        raise ValueError("jisr needs a model with a fast (Rust) tokenizer to normalize what it reads")
    if rule(model) == NAME:
        return NAME
    steps = _rule()
    backend.normalizer = normalizers.Sequence(steps + [backend.normalizer] if backend.normalizer else steps)
    return NAME
