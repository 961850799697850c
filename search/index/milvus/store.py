"""The index on Milvus, for collections past one machine's memory: the second store, beside jisr.index.local.store.

What stays in the index folder is what a local index has there too: ``CURRENT`` and the commits
(the manifest: model, chunking, files). What moves to Milvus is the data: one collection of
passages (text, metadata, BM25 terms, vector) and one of sentence vectors, named after it.
Milvus writes are not transactional, so every row carries the generation of the build that wrote
it: a reader of commit G sees only rows with ``gen <= G`` (a build's rows are invisible until it
commits), and a build deletes the rows of changed and removed documents only after its commit.
Between that commit and those deletes, and after a build killed between them, a document's old
rows still exist: readers drop any row whose document version is not the one their manifest
names, and the next build deletes them.

Ranking stays jisr's (jisr.answers.searcher): Milvus proposes candidates, by its vector index and by its
BM25 function over terms jisr has already normalized and stemmed (jisr.index.lexical), and jisr scores
them with its own BM25, from each candidate's terms and collection statistics (document counts by
Milvus's text match, lengths from the manifest), so both stores give the same scores.

An address read from a manifest is data: jisr opens a Milvus Lite folder inside the index folder
by itself, and any other address only when the user names it (``--milvus-uri``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from jisr import arabic
from jisr.errors import IndexUnavailable, StoreError
from jisr.index import lexical
from jisr.index.milvus.expression import expression, one_of, quote
from jisr.index.titles import EMPTY as NO_TITLES
from jisr.index.titles import Titles
from jisr.index.vocabulary import EMPTY, Vocabulary
from jisr.passages import Passage

LITE = "milvus.db"  # the default: Milvus Lite, embedded, in this folder inside the index folder
SENTENCES = "_sentences"  # the sentence collection's name: the passage collection's plus this
MAX_TEXT = 65_535  # bytes in a Milvus VARCHAR
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
_CHUNK = 500  # ids or document ids in one filter expression
_FIELDS = ["id", "gen", "doc_id", "title", "source", "ordinal", "start", "end", "lang", "text", "sentences", "locator"]
_TIMEOUT = 30.0
DF_CACHE = 200_000  # terms whose document frequency a reader remembers (a few MB)


def _pymilvus():
    try:
        import pymilvus
    except ImportError:
        raise StoreError("the Milvus store needs the milvus extra: pip install 'jisr[milvus]'") from None
    return pymilvus


def check_collection(name: str) -> str:
    if not _NAME.fullmatch(name or "") or name.endswith(SENTENCES):
        raise StoreError(
            f"{name!r} is not a collection name jisr uses: letters, digits and _, starting with a "
            f"letter or _, not ending in {SENTENCES}"
        )
    return name


def is_lite(uri: str) -> bool:
    return "://" not in uri


def recorded_uri(index_dir: Path, uri: str) -> str:
    """What the manifest records: a Lite folder inside the index folder relative to it, any other as given."""
    if is_lite(uri):
        path = Path(uri).resolve()
        if path.is_relative_to(index_dir.resolve()):
            return str(path.relative_to(index_dir.resolve()))
        return str(path)
    return uri


def resolve_uri(index_dir: Path, recorded: str, given: str | None) -> str:
    """The address to open: the user's, else the manifest's only when it is a Lite folder inside the index."""
    if given:
        return str(Path(given).resolve()) if is_lite(given) else given
    inside = (index_dir / recorded).resolve()
    if is_lite(recorded) and not Path(recorded).is_absolute() and inside.is_relative_to(index_dir.resolve()):
        return str(inside)
    raise IndexUnavailable(
        f"the index at {index_dir} lives on Milvus at {recorded}: jisr connects to an address "
        f"read from an index only when you name it, with --milvus-uri {recorded}"
    )


def connect(uri: str, token: str | None = None):
    """A pymilvus client for ``uri`` (a Lite folder, or http(s)://host:port), failing with one line if unreachable."""
    pymilvus = _pymilvus()
    if is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return pymilvus.MilvusClient(uri=uri, token=token or "", timeout=_TIMEOUT)
    except pymilvus.MilvusException as exc:
        hint = (
            (
                "; Milvus Lite opens its folder in one process at a time: to build while `jisr serve` reads it, run "
                f"`milvus-lite server --data-dir {uri} --host 127.0.0.1` and give both --milvus-uri "
                "http://127.0.0.1:19530"
            )
            if is_lite(uri)
            else ""
        )
        raise StoreError(f"cannot connect to Milvus at {uri}: {exc.message}{hint}") from None
    except Exception as exc:  # noqa: BLE001 - grpc and the client raise many kinds for an address with no server
        raise StoreError(f"cannot connect to Milvus at {uri}: {type(exc).__name__}: {str(exc)[:200]}") from None


def _rows(client, collection: str, expr: str, fields: list[str]) -> list[dict]:
    return list(client.query(collection, filter=expr, output_fields=fields))


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for a in range(0, len(values), size):
        yield values[a : a + size]


class MilvusWriter:
    """Writes one build's rows (generation ``gen``) into the two collections, creating them if needed."""

    def __init__(self, client, collection: str, dimension: int, gen: int, index_type: str):
        self.client, self.collection, self.sentences = client, check_collection(collection), collection + SENTENCES
        self.dim, self.gen = dimension, gen
        self.passage_seq = self.sentence_seq = 0
        for name in (self.collection, self.sentences):
            if client.has_collection(name):
                dims = [
                    f.get("params", {}).get("dim")
                    for f in client.describe_collection(name)["fields"]
                    if f.get("name") == "vector"
                ]
                if dims and int(dims[0]) != dimension:
                    raise StoreError(
                        f"the Milvus collection {name} holds vectors of {dims[0]} dimensions, and this "
                        f"model gives {dimension}: name another with --collection"
                    )
                client.load_collection(name)
            else:
                self._create(name, index_type, passages=name == self.collection)
        # collections made before documents had fields have no "fields" field: they still take documents without
        self.has_fields = any(f.get("name") == "fields" for f in client.describe_collection(self.collection)["fields"])

    def _create(self, name: str, index_type: str, passages: bool) -> None:
        pymilvus = _pymilvus()
        DataType = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_TEXT)
        if passages:
            for field in ("title", "source", "text", "sentences", "locator"):
                schema.add_field(field, DataType.VARCHAR, max_length=MAX_TEXT)
            for field in ("ordinal", "start", "end"):
                schema.add_field(field, DataType.INT64)
            schema.add_field("lang", DataType.VARCHAR, max_length=8)
            schema.add_field("fields", DataType.JSON)  # a document's declared fields (jisr.corpus.fields)
            # jisr's own terms, space-separated: Milvus's standard analyzer (\w+) gives them back one by one
            schema.add_field("terms", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True, enable_match=True)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                pymilvus.Function(
                    name="bm25",
                    function_type=pymilvus.FunctionType.BM25,
                    input_field_names=["terms"],
                    output_field_names=["sparse"],
                )
            )
        else:
            schema.add_field("passage", DataType.INT64)
            schema.add_field("position", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self.client.prepare_index_params()
        if index_type == "ivf":  # candidates only: every candidate is re-scored exactly from its stored vector
            params.add_index("vector", index_type="IVF_SQ8", metric_type="IP", params={"nlist": 1024})
        else:
            params.add_index("vector", index_type="FLAT", metric_type="IP")
        if passages:
            params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        # the fields that filters name: a document's rows, a passage's sentences
        for field in ("doc_id", "gen") + (() if passages else ("passage",)):
            params.add_index(field, index_type="INVERTED")
        self.client.create_collection(name, schema=schema, index_params=params)

    def holds_rows(self) -> bool:
        found = _rows(self.client, self.collection, "", ["count(*)"])
        return bool(found and found[0].get("count(*)"))

    def discard(self, expr: str) -> None:
        """Delete the rows matching ``expr`` from both collections."""
        for name in (self.collection, self.sentences):
            self.client.delete(name, filter=expr)

    def discard_unfinished(self, current: int) -> None:
        """Rows of builds killed before their commit."""
        self.discard(f"gen > {int(current)}")

    def discard_replaced(self, doc_ids: Sequence[str], gen: int) -> None:
        """Rows that commit ``gen`` no longer names: those of documents it replaced or removed."""
        for chunk in _chunks(list(doc_ids)):
            self.discard(f"gen < {int(gen)} and {one_of('doc_id', chunk)}")

    def stored(self, doc_id: str, gen: int) -> list[tuple[Passage, np.ndarray, np.ndarray]]:
        """A document's passages as build ``gen`` wrote them, with their vectors and sentence vectors."""
        rows = _rows(
            self.client, self.collection, f"gen == {int(gen)} and doc_id == {quote(doc_id)}", _FIELDS + ["vector"]
        )
        if not rows:
            return []
        sentences = _sentence_rows(self.client, self.sentences, [r["id"] for r in rows], self.dim)
        return [
            (_passage(r), np.asarray(r["vector"], np.float32), sentences.get(r["id"], np.zeros((0, self.dim))))
            for r in rows
        ]

    def add(self, passages: Sequence[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray) -> list[int]:
        """Insert passages and their sentences; return each passage's term count."""
        rows, sentence_rows, lengths, s = [], [], [], 0
        for p, v in zip(passages, vectors):
            pid = (self.gen << 32) | self.passage_seq
            self.passage_seq += 1
            terms = lexical.terms(p.text)
            lengths.append(len(terms) or 1)  # an empty text still has a length, as in jisr.index.lexical
            row = {
                "id": pid,
                "gen": self.gen,
                "doc_id": p.doc_id,
                "title": p.title,
                "source": p.source,
                "ordinal": p.ordinal,
                "start": p.start,
                "end": p.end,
                "lang": p.lang,
                "text": p.text,
                "sentences": json.dumps(p.sentences),
                "locator": json.dumps(p.locator, ensure_ascii=False),
                "terms": " ".join(terms),
                "vector": np.asarray(v, np.float32).tolist(),
            }
            if self.has_fields:
                row["fields"] = p.fields
            elif p.fields:
                raise StoreError(
                    f"the Milvus collection {self.collection} was made before documents had fields "
                    f"and cannot hold {p.doc_id}'s: build into a new one with --collection"
                )
            for field in ("doc_id", "title", "source", "text", "locator", "terms"):
                if len(row[field].encode("utf-8")) > MAX_TEXT:
                    raise StoreError(
                        f"a passage of {p.doc_id} has a {field} of more than {MAX_TEXT} bytes, more "
                        "than a Milvus text field holds"
                    )
            rows.append(row)
            for position in range(len(p.sentences)):
                sentence_rows.append(
                    {
                        "id": (self.gen << 32) | self.sentence_seq,
                        "gen": self.gen,
                        "doc_id": p.doc_id,
                        "passage": pid,
                        "position": position,
                        "vector": np.asarray(sentence_vectors[s], np.float32).tolist(),
                    }
                )
                self.sentence_seq += 1
                s += 1
        for chunk in _chunks(sentence_rows, 1000):
            self.client.insert(self.sentences, list(chunk))
        for chunk in _chunks(rows, 1000):
            self.client.insert(self.collection, list(chunk))
        return lengths


def _passage(row: dict) -> Passage:
    try:
        locator = json.loads(row["locator"])
    except ValueError:
        locator = {}
    fields = row.get("fields")
    return Passage(
        row["doc_id"],
        row["title"],
        row["source"],
        int(row["ordinal"]),
        int(row["start"]),
        int(row["end"]),
        row["lang"],
        row["text"],
        tuple(tuple(s) for s in json.loads(row["sentences"])),
        locator if isinstance(locator, dict) else {},
        fields if isinstance(fields, dict) else {},
    )


def _sentence_rows(client, collection: str, passage_ids: Sequence[int], dim: int) -> dict[int, np.ndarray]:
    """Each passage's sentence vectors, in sentence order."""
    found: dict[int, list] = {}
    for chunk in _chunks(list(passage_ids)):
        for r in _rows(client, collection, one_of("passage", chunk), ["passage", "position", "vector"]):
            found.setdefault(int(r["passage"]), []).append((int(r["position"]), r["vector"]))
    return {
        pid: np.asarray([v for _, v in sorted(rows, key=lambda r: r[0])], np.float32).reshape(-1, dim)
        for pid, rows in found.items()
    }


class _Answering:
    """A reader's client: a Milvus that fails mid-search is an unavailable index (a 503, a CLI error), not a crash."""

    def __init__(self, client, where: str):
        self.client, self.where = client, where

    def _ask(self, method: str, *args, **kwargs):
        pymilvus = _pymilvus()
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except pymilvus.MilvusException as exc:
            raise IndexUnavailable(f"Milvus at {self.where} did not answer: {exc.message}") from None

    def search(self, *args, **kwargs):
        return self._ask("search", *args, **kwargs)

    def query(self, *args, **kwargs):
        return self._ask("query", *args, **kwargs)

    def close(self) -> None:
        self.client.close()


class MilvusIndex:
    """A commit whose data lives on Milvus: the same reading interface as
    :class:`jisr.index.local.store.StoredIndex`."""

    def __init__(self, directory: Path, manifest: dict, client):
        self.directory, self.manifest, self.client = directory, manifest, client
        self.collection = check_collection(manifest["store"]["collection"])
        self.sentences = self.collection + SENTENCES
        self.dim = int(manifest["model"]["dimension"])
        self.live = f"gen <= {int(manifest['generation'])}"
        self.files = manifest["files"]
        lexical_stats = manifest.get("lexical") or {}
        self.total_terms = float(lexical_stats.get("terms") or 0)
        self._df: dict[str, int] = {}  # a term's document frequency in this commit
        self._read = _FIELDS + (["fields"] if manifest["store"].get("fields") else [])  # what a passage is read from

    @property
    def size(self) -> int:
        return int(self.manifest["counts"]["passages"])

    def _current(self, hits: Iterable[dict]) -> list[dict]:
        """Rows of the document versions this commit names (a later build's stale rows dropped)."""
        out = []
        for h in hits:
            e = h.get("entity", h)
            f = self.files.get(e["doc_id"])
            if isinstance(f, dict) and f.get("gen") == e["gen"]:
                out.append(e | {"id": h.get("id", e.get("id"))})
        return out

    def _where(self, where) -> str:
        """The live rows, kept by ``where`` (a filter, in Milvus's expression language) when there is one."""
        return self.live if where is None else f"{self.live} and {expression(where)}"

    def dense_candidates(self, q: np.ndarray, n: int, where=None) -> np.ndarray:
        hits = self.client.search(
            self.collection,
            data=[np.asarray(q, np.float32).tolist()],
            anns_field="vector",
            limit=n,
            filter=self._where(where),
            output_fields=["doc_id", "gen"],
            search_params={"metric_type": "IP"},
        )[0]
        return np.array([int(r["id"]) for r in self._current(hits)], np.int64)

    def _document_frequency(self, term: str) -> int:
        """Live passages holding ``term``, counted by Milvus once per term and commit, then remembered."""
        if term in self._df:
            return self._df[term]
        if not re.fullmatch(r"\w+", term):
            return 0  # never the case for lexical.terms; a guard, since the term enters an expression
        found = _rows(self.client, self.collection, f"{self.live} and TEXT_MATCH(terms, {quote(term)})", ["count(*)"])
        if len(self._df) >= DF_CACHE:
            self._df.clear()
        self._df[term] = df = int(found[0]["count(*)"]) if found else 0
        return df

    def vocabulary(self) -> Vocabulary:
        """Empty: Milvus does not list a field's terms, so a query on Milvus is searched as typed."""
        return EMPTY

    def titles(self) -> Titles:
        """Empty, as the vocabulary is: a suggestion on Milvus offers nothing."""
        return NO_TITLES

    def lexical_candidates(self, query: str, n: int, where=None) -> tuple[np.ndarray, np.ndarray, float]:
        """As the local store's: BM25 as jisr.index.lexical scores it, over the candidates Milvus's BM25 finds."""
        query_terms = lexical.terms(query)
        unique = list(dict.fromkeys(query_terms))
        words = [t[: lexical.MAX_TERM] for t in arabic.terms(query, stems=False)]
        df = {t: self._document_frequency(t) for t in unique}
        known = {t for t, d in df.items() if d}
        coverage = lexical.coverage(words, df, self.size)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32), coverage)
        if not known or not self.size:
            return empty
        hits = self.client.search(
            self.collection,
            data=[" ".join(t for t in query_terms if t in known)],
            anns_field="sparse",
            limit=n,
            filter=self._where(where),
            output_fields=["doc_id", "gen", "terms"],
            search_params={"metric_type": "BM25", "params": {"bm25_k1": lexical.K1, "bm25_b": lexical.B}},
        )[0]
        rows = self._current(hits)
        if not rows:
            return empty
        n_docs, avgdl = self.size, self.total_terms / self.size if self.total_terms else 1.0
        weight = {t: query_terms.count(t) * lexical.idf(d, n_docs) for t, d in df.items() if d}
        ids, scores = [], []
        for r in rows:
            terms = r["terms"].split(" ") if r["terms"] else []
            tf = np.array([terms.count(t) for t in weight], np.float64)
            saturated = lexical.saturation(tf, np.full(len(tf), len(terms) or 1, np.float64), avgdl)
            ids.append(int(r["id"]))
            scores.append(sum(w * s for w, s in zip(weight.values(), saturated)))
        ids, scores = np.array(ids, np.int64), np.array(scores, np.float32)
        keep = scores > 0
        return lexical.top(ids[keep], scores[keep], n) + (coverage,)

    def _by_id(self, ids: Sequence[int], fields: list[str]) -> dict[int, dict]:
        found: dict[int, dict] = {}
        for chunk in _chunks([int(i) for i in ids]):
            for r in _rows(self.client, self.collection, one_of("id", chunk), ["id"] + fields):
                found[int(r["id"])] = r
        if len(found) < len(set(int(i) for i in ids)):  # a newer build deleted a row this search had found
            raise IndexUnavailable(
                f"the index at {self.directory} was updated during this search: search again "
                "(or reopen it: it now has a newer commit)"
            )
        return found

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        found = self._by_id(ids, ["vector"])
        out = np.zeros((len(ids), self.dim), np.float32)
        for i, pid in enumerate(ids):
            out[i] = found[int(pid)]["vector"]
        return out

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = _sentence_rows(self.client, self.sentences, [int(i) for i in ids], self.dim)
        parts = [found.get(int(i), np.zeros((0, self.dim), np.float32)) for i in ids]
        counts = np.array([len(p) for p in parts], np.int64)
        return counts, (np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32))

    def languages(self, ids: np.ndarray) -> np.ndarray:
        found = self._by_id(ids, ["lang"])
        return np.array([found[int(i)]["lang"] for i in ids]) if len(ids) else np.zeros(0, "<U2")

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        found = self._by_id(ids, self._read)
        return [_passage(found[int(i)]) for i in ids]

    def passage(self, pid: int) -> Passage:
        return self.passages([pid])[0]

    def ids(self) -> np.ndarray:
        """Every live passage's id, in order (for tests and tools: at scale, iterate instead)."""
        rows = self._current(_rows(self.client, self.collection, self.live, ["id", "doc_id", "gen"]))
        return np.array(sorted(int(r["id"]) for r in rows), np.int64)

    def document(self, doc_id: str) -> list[Passage]:
        rows = self._current(
            _rows(self.client, self.collection, f"{self.live} and doc_id == {quote(doc_id)}", self._read)
        )
        return sorted((_passage(r) for r in rows), key=lambda p: p.ordinal)

    def count(self) -> int:
        """Rows Milvus holds up to this commit (:meth:`verify` compares them with the manifest's passages:
        more means rows a build killed after its commit left, which the next build deletes)."""
        found = _rows(self.client, self.collection, self.live, ["count(*)"])
        return int(found[0]["count(*)"]) if found else 0

    @property
    def location(self) -> str:
        return f"on Milvus (collection {self.collection})"

    def verify(self) -> list[str]:
        """The rows Milvus holds for this commit, counted against the passages the commit names."""
        held = self.count()
        return (
            [] if held == self.size else [f"Milvus holds {held} of the {self.size} passages the index's commit names"]
        )

    def companion_vectors(self, ids: np.ndarray) -> np.ndarray:
        raise IndexUnavailable(f"the index at {self.directory} is on Milvus, which holds no companion vectors")

    def expect_queries(self, warm: bool = False, budget: int | None = None) -> None:
        """Nothing to do: Milvus loads a collection into its own memory (``load_collection``)."""

    def close(self) -> None:
        self.client.close()


def load(index_dir: Path, manifest: dict, uri: str | None = None, token: str | None = None) -> MilvusIndex:
    """Open the commit ``manifest`` of ``index_dir``, whose data lives on Milvus."""
    spec = manifest.get("store")
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("uri"), str)
        or not isinstance(spec.get("collection"), str)
    ):
        raise IndexUnavailable(f"index at {index_dir} is damaged (its Milvus store is not named): rebuild it")
    address = resolve_uri(index_dir, spec["uri"], uri)
    try:
        check_collection(spec["collection"])
        client = connect(address, token)
        for name in (spec["collection"], spec["collection"] + SENTENCES):
            if not client.has_collection(name):
                client.close()
                raise StoreError(f"Milvus at {address} has no collection {name!r}")
            client.load_collection(name)  # into memory: Milvus searches only loaded collections
    except StoreError as exc:
        raise IndexUnavailable(f"the index at {index_dir} cannot be read: {exc}") from None
    return MilvusIndex(index_dir, manifest, _Answering(client, address))
