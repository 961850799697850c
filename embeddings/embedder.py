"""A loaded model and what jisr knows about it, held in one object of ours.

Beyond its weights jisr needs three facts about a model: the name it was loaded under (an index records
it, to load the model again), the rule its tokenizer reads text through (:mod:`jisr.embeddings.normalizer`;
an index built through another rule is refused) and the shift its queries move by
(:mod:`jisr.answers.centering`). They live on an :class:`Embedder` beside the sentence-transformers model,
never as attributes set on the model: a third-party object keeps only what its own library put there, so
a user's model is handed back as it was given, and no name of ours can collide with one of a later
release (txtai's ``vectors`` wrap their models the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from jisr.embeddings import normalizer as rules

if TYPE_CHECKING:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

T = TypeVar("T")
_UNSET: Any = object()


class Embedder:
    """A SentenceTransformer (``.model``) with the name it was loaded under.

    What jisr's code reads of a model has a member here (``encode_query``, ``encode_document``, ``encode``,
    ``tokenizer``, ``prompts``, ``max_seq_length``, ``device``, ``get_embedding_dimension``, its modules by
    index or iteration); any other attribute is read from the SentenceTransformer (``__getattr__``), so code
    written for a SentenceTransformer runs on an Embedder unchanged. Setting an attribute sets it on the
    Embedder (a test replacing ``encode_query``), never on the model.
    """

    def __init__(self, model: SentenceTransformer, name: str):
        self.model = model
        self.name = name
        self._centering = _UNSET

    @property
    def normalizer(self) -> str | None:
        """The rule the tokenizer reads text through (:data:`jisr.embeddings.normalizer.NAME`), or None. Read
        from the tokenizer itself, so it says what the model does, whoever set the tokenizer up."""
        return rules.rule(self.model)

    def centering(self, lookup: Callable[[Embedder], T]) -> T:
        """``lookup(self)`` on the first call, kept for later ones: the query shift that
        :mod:`jisr.answers.centering` finds for this model's weights (looked up once, not per query)."""
        if self._centering is _UNSET:
            self._centering = lookup(self)  # two threads at once: the same value twice
        return self._centering

    def encode_query(self, sentences: str | list[str], **kwargs: Any) -> np.ndarray:
        """The model's ``encode_query``: its query prompt applied, L2-normalized float32 rows."""
        return self.model.encode_query(sentences, **kwargs)

    def encode_document(self, sentences: str | list[str], **kwargs: Any) -> np.ndarray:
        """The model's ``encode_document``: its document prompt applied."""
        return self.model.encode_document(sentences, **kwargs)

    def encode(self, sentences: str | list[str], **kwargs: Any) -> np.ndarray:
        """The model's ``encode``: no prompt unless one is passed."""
        return self.model.encode(sentences, **kwargs)

    def get_embedding_dimension(self) -> int:
        return self.model.get_embedding_dimension()

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (None for a model that tokenizes inside its own module, such as USE)."""
        return self.model.tokenizer

    @property
    def prompts(self) -> dict[str, str]:
        return self.model.prompts

    @property
    def max_seq_length(self) -> int | float:
        return self.model.max_seq_length

    @property
    def device(self) -> torch.device:
        return self.model.device

    def __getitem__(self, i: int) -> torch.nn.Module:
        return self.model[i]

    def __iter__(self) -> Iterator[torch.nn.Module]:
        return iter(self.model)

    def __len__(self) -> int:
        return len(self.model)

    def __getattr__(self, attribute: str) -> Any:
        """Anything else the SentenceTransformer has (``save``, ``modules``, ``state_dict``, ...), read from it."""
        if attribute.startswith("__") or attribute in ("model", "name", "_centering"):
            raise AttributeError(attribute)  # not set yet (a copy being made): never looked up on the model
        return getattr(self.model, attribute)

    def __repr__(self) -> str:
        return f"Embedder({self.name!r})"


def wrap(model: SentenceTransformer | Embedder) -> Embedder:
    """``model`` as jisr holds it; an Embedder is returned as it is. A SentenceTransformer of the user's own
    (handed to ``jisr.build``, ``jisr.Index.open``, a Searcher) is named by its model card's base model, as
    an index records it; its tokenizer is left as it is (:func:`jisr.embeddings.load_model` adds the rule)."""
    if isinstance(model, Embedder):
        return model
    return Embedder(model, str(model.model_card_data.base_model or "unknown"))
