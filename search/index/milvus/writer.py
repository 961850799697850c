"""A build whose data goes to Milvus (jisr.index.milvus.store): the same corpus reading, chunking,
vector reuse and commit as a local build, with the segment writing replaced by Milvus inserts.

Order of writes: the build's rows (tagged with its generation) first, then the commit in the index
folder, then the deletion of the rows of changed and removed documents, which the commit lists. A
build killed before its commit leaves rows no commit names (the next build deletes them); one
killed after it leaves rows readers already ignore (the next build deletes those too). A killed
build's encoding is not resumed: its rows are discarded and its documents encoded again.
"""

from __future__ import annotations

import json

import numpy as np

from jisr.errors import BuildError, StoreError
from jisr.index import commit
from jisr.index.contract import BuildSpec, MilvusTarget, Previous
from jisr.index.milvus.store import LITE, MilvusWriter, connect, recorded_uri
from jisr.passages import Passage, passage_input

CLAIM = "milvus.json"  # names the collection this index folder writes, before its first commit


def _entry_ok(f) -> bool:
    return (
        isinstance(f, dict)
        and isinstance(f.get("sha256"), str)
        and all(
            isinstance(f.get(k), int) and not isinstance(f.get(k), bool)
            for k in ("passages", "sentences", "terms", "gen")
        )
    )


class _Writing:
    """The client, its Milvus errors said as StoreError with the address: a build's one line of error."""

    def __init__(self, client, uri: str):
        self._client, self._uri = client, uri

    def __getattr__(self, name: str):
        method = getattr(self._client, name)
        if not callable(method):
            return method
        pymilvus = __import__("pymilvus")

        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except pymilvus.MilvusException as exc:
                raise StoreError(
                    f"cannot write to Milvus at {self._uri}: {exc.message}; the previous index is unchanged"
                ) from None

        return call


class MilvusStoreWriter:
    """A build's writer for the Milvus store (:class:`jisr.index.contract.StoreWriter`)."""

    def __init__(self, spec: BuildSpec, target: MilvusTarget):
        self.spec, self.index_dir, self.target = spec, spec.index_dir, target
        self.uri = target.uri or str(self.index_dir / LITE)
        self.recorded = recorded_uri(self.index_dir, self.uri)
        self.store_spec = {"kind": "milvus", "uri": self.recorded, "collection": target.collection}
        self.client = _Writing(connect(self.uri, target.token), self.uri)
        self.milvus: MilvusWriter | None = None
        self.old_gen = 0  # the previous commit's generation, when it wrote this collection
        self.old_docs: dict[str, dict] = {}  # its files, whatever model made them: their rows go if replaced
        self.old_replaced: list[str] = []  # documents whose older rows its build may not have deleted
        self.replaced: list[str] = []

    def previous(self) -> Previous:
        m = self.spec.live_manifest()
        if (
            m is None
            or not commit.on_milvus(m)
            or {k: m["store"].get(k) for k in ("uri", "collection")}
            != {k: self.store_spec[k] for k in ("uri", "collection")}
        ):
            return Previous()
        self.old_gen = m["generation"]
        self.old_docs = {d: f for d, f in m["files"].items() if _entry_ok(f)}
        replaced = m["store"].get("replaced")
        self.old_replaced = [d for d in replaced if isinstance(d, str)] if isinstance(replaced, list) else []
        if not self.spec.made_alike(m) or len(self.old_docs) != len(m["files"]):
            return Previous()  # every document is encoded again, and its old rows replaced
        return Previous(m, self.old_docs)

    def start(self, gen: int) -> None:
        self.milvus = MilvusWriter(
            self.client, self.target.collection, self.spec.info["dimension"], gen, self.spec.index_type
        )
        claim = self.index_dir / CLAIM
        try:
            claimed = json.loads(claim.read_text(encoding="utf-8")) == self.store_spec
        except (OSError, ValueError):
            claimed = False
        if not self.old_gen and not claimed and self.milvus.holds_rows():
            raise BuildError(
                f"the Milvus collection {self.target.collection} at {self.uri} holds passages that the "
                f"index at {self.index_dir} did not write: name another with --collection"
            )
        claim.write_text(json.dumps(self.store_spec), encoding="utf-8")
        self.milvus.discard_unfinished(self.old_gen)
        self.milvus.discard_replaced(self.old_replaced, self.old_gen)
        commit.clean(self.index_dir)

    def adopted(self, doc_id: str, sha256: str) -> None:
        return None  # a killed build's rows are discarded (start), not adopted

    def settle(self, files: dict[str, dict]) -> list[str]:
        return []

    def reusable(self, docs: list[str], todo) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        known: dict[str, np.ndarray] = {}
        for doc in docs:
            old = todo.get(doc)
            if not old:
                continue
            for p, vector, sentence_vectors in self.milvus.stored(doc, old["gen"]):
                known[passage_input(p)] = vector
                known.update(zip(p.sentence_texts(), sentence_vectors))
        return known, {}  # no companion on Milvus (jisr.index.build refuses one)

    def write(
        self,
        batch,
        passages: list[Passage],
        vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        companion_vectors: np.ndarray | None = None,
    ) -> dict[str, dict]:
        lengths = self.milvus.add(passages, vectors, sentence_vectors)
        entries = {
            d.id: {
                "sha256": d.sha256,
                "gen": self.milvus.gen,
                "passages": len(ps),
                "sentences": sum(len(p.sentences) for p in ps),
                "terms": 0,
            }
            for d, ps in batch
        }
        for p, n in zip(passages, lengths):
            entries[p.doc_id]["terms"] += n
        return entries

    def finish(self, files: dict[str, dict], gen: int) -> tuple[int, int, int, dict]:
        # a document whose rows this commit does not name: older ones of a changed file, all of a removed one
        self.replaced = sorted(d for d, f in self.old_docs.items() if files.get(d, {}).get("gen") != f["gen"])
        return (
            sum(f["passages"] for f in files.values()),
            sum(f["sentences"] for f in files.values()),
            0,
            {
                "store": {**self.store_spec, "replaced": self.replaced, "fields": self.milvus.has_fields},
                "lexical": {"terms": sum(f["terms"] for f in files.values())},
            },
        )

    def failed(self, interrupted: bool) -> None:
        """Nothing to remove now: rows no commit names are discarded by the next build."""

    def committed(self, gen: int) -> None:
        self.milvus.discard_replaced(self.replaced, gen)
        commit.clean(self.index_dir)

    def close(self) -> None:
        self.client.close()
