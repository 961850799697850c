"""What a build is asked to make, as one typed object: every build option and knob, checked in one place.

Lucene hands its writer an ``IndexWriterConfig`` holding a ``MergePolicy``; a jisr build is handed a
:class:`BuildOptions` holding a :class:`SegmentPolicy`, a :class:`VectorIndexPolicy` and a
:class:`VectorPrecision`. The command line, the Python API (:func:`jisr.build`), the web app's writes and
``jisr eval`` fill the same object, so each of them refuses the same mistakes with the same message.
The search side's knob (how many proposals are re-scored) is :class:`CandidatePolicy`.

Each field has one name, one default and, in its metadata, one line of help and its unit, so that a
listing of the effective settings can print them. Runtime objects (a loaded model, an encoder, callbacks)
are not options: they stay arguments of :func:`jisr.index.build.build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Protocol

from jisr import settings
from jisr.corpus import fields as record_fields
from jisr.corpus.readers import RecordFields
from jisr.embeddings import companion as companions
from jisr.errors import BuildError
from jisr.index.manifest import KINDS
from jisr.passages import ChunkSettings

# Every default below is the setting's (jisr.settings.BuildSettings), written once there.
BATCH_PASSAGES = settings.default("batch_passages")  # a Ray build multiplies it by its workers
PRECISIONS = settings.PRECISIONS  # how a segment may store vectors (jisr.index.local.vectors)


class MilvusDestination(Protocol):
    """Where a build on Milvus writes: a :class:`jisr.index.milvus.writer.MilvusTarget`, described here by
    its fields rather than imported, since the Milvus writer's own imports lead back to this module."""

    uri: str | None
    token: str | None
    collection: str


def _about(help: str, unit: str | None = None) -> dict[str, str | None]:
    """A field's metadata: its one line of help and its unit (None: it has none)."""
    return {"help": help, "unit": unit}


def _whole(owner: object, name: str, low: int) -> None:
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise BuildError(f"{type(owner).__name__}.{name} must be a whole number of at least {low}, not {value!r}")


@dataclass(frozen=True)
class SegmentPolicy:
    """When jisr's own store seals a segment and when it folds small ones together: a segment's size bounds a
    build's memory and a merge's work; merging keeps the count of segments a query visits small."""

    passages: int = field(
        default=settings.default("segment_passages"),
        metadata=_about(
            "a segment is sealed at this many passages; segments under half of it count as small", "passages"
        ),
    )
    max_small: int = field(
        default=settings.default("max_small_segments"),
        metadata=_about("more small segments than this are merged into one", "segments"),
    )

    def __post_init__(self) -> None:
        _whole(self, "passages", 1)
        _whole(self, "max_small", 0)


@dataclass(frozen=True)
class VectorIndexPolicy:
    """Where a segment's vector index gives way to exact search, whatever index type was asked for."""

    pq_min: int = field(
        default=settings.default("pq_min"),
        metadata=_about(
            "a segment with fewer passages is searched exactly rather than with PQ codes: FAISS wants 39 training "
            "points for each of a sub-quantizer's 16 centroids",
            "passages",
        ),
    )

    def __post_init__(self) -> None:
        _whole(self, "pq_min", 1)


@dataclass(frozen=True)
class VectorPrecision:
    """How a build stores each kind of vector (:mod:`jisr.index.local.vectors`): every query scans the passage
    vectors, so they keep more bits than sentence and companion vectors, which are read for candidates only."""

    passages: str = field(
        default=settings.default("passage_precision"), metadata=_about("stored form of passage vectors")
    )
    sentences: str = field(
        default=settings.default("sentence_precision"), metadata=_about("stored form of sentence vectors")
    )
    companion: str = field(
        default=settings.default("companion_precision"), metadata=_about("stored form of a companion's passage vectors")
    )

    def __post_init__(self) -> None:
        for f in dataclass_fields(self):
            if getattr(self, f.name) not in PRECISIONS:
                raise BuildError(
                    f"unknown vector precision {getattr(self, f.name)!r} for {f.name}; "
                    f"choose one of {', '.join(PRECISIONS)}"
                )


FLOAT32 = VectorPrecision("float32", "float32", "float32")  # as builds stored every vector before quantizing


@dataclass(frozen=True)
class CandidatePolicy:
    """The search side's knob of jisr's own store: of all segments' proposals for a query's ``n`` dense
    candidates, the best ``rescored`` x ``n`` by the vector indexes' own scores are re-scored exactly
    (re-scoring every segment's proposals grows with the count of segments; the default's trade of recall
    against time is in benchmarks/results/rescoring_depth.md)."""

    rescored: int = field(
        default=settings.default("rescored"),
        metadata=_about(
            "proposals re-scored exactly, as a multiple of the dense candidates a query keeps", "x candidates"
        ),
    )

    def __post_init__(self) -> None:
        _whole(self, "rescored", 1)


@dataclass(frozen=True)
class BuildOptions:
    """Every option of a build (:func:`jisr.index.build.build`), checked when it is made."""

    index_type: str = field(
        default=settings.default("index_type"),
        metadata=_about(f"vector index of each segment: {', '.join(KINDS)} (auto: exact for small segments, PQ above)"),
    )
    chunking: ChunkSettings | None = field(
        default=None, metadata=_about("how documents are cut into passages (None: at the model's window)")
    )
    follow_links: bool = field(
        default=False, metadata=_about("follow symbolic links that lead out of the corpus folder")
    )
    fields: RecordFields = field(
        default=RecordFields(),
        metadata=_about(
            "the text, title and id fields of .jsonl/.csv/.tsv records, and the fields a search may filter on"
        ),
    )
    batch_passages: int = field(
        default=BATCH_PASSAGES,
        metadata=_about("passages chunked, embedded and written together: what a killed build can lose", "passages"),
    )
    milvus: MilvusDestination | None = field(
        default=None,
        metadata=_about("the Milvus the passages and vectors go to (None: jisr's own segments in the index folder)"),
    )
    companion: str = field(
        default=companions.DEFAULT,
        metadata=_about(
            f"second encoder hybrid ranks queries not in Arabic by: {', '.join(companions.CHOICES)} "
            "(auto: use, none on Milvus)"
        ),
    )
    segments: SegmentPolicy = field(default=SegmentPolicy(), metadata=_about("when segments are sealed and merged"))
    vector_index: VectorIndexPolicy = field(
        default=VectorIndexPolicy(), metadata=_about("where a segment's vector index gives way to exact search")
    )
    precision: VectorPrecision = field(default=VectorPrecision(), metadata=_about("how each kind of vector is stored"))
    min_free_disk: int = field(
        default=settings.default("min_free_disk"),
        metadata=_about(
            "disk space a build leaves free beside the index it writes: it refuses to start with less", "bytes"
        ),
    )

    def __post_init__(self) -> None:
        if self.index_type not in KINDS:
            raise BuildError(f"unknown index type {self.index_type!r}; choose one of {', '.join(KINDS)}")
        on_milvus = self.milvus is not None
        if on_milvus and self.index_type == "pq":
            raise BuildError("index type 'pq' is jisr's own store; on Milvus choose auto, flat or ivf (IVF_SQ8)")
        try:
            choice = companions.resolve(self.companion, on_milvus)
        except (TypeError, ValueError):
            raise BuildError(
                f"unknown companion {self.companion!r}; choose one of {', '.join(companions.CHOICES)}"
            ) from None
        if on_milvus and choice != "none":
            raise BuildError(_COMPANION_ON_MILVUS)
        _whole(self, "batch_passages", 1)
        _whole(self, "min_free_disk", 0)
        _check_fields(self.fields)

    @property
    def companion_choice(self) -> str:
        """``use`` or ``none``: the companion this build gets (``auto`` resolved for its store)."""
        return companions.resolve(self.companion, self.milvus is not None)


_COMPANION_ON_MILVUS = (
    "a companion encoder's vectors are kept in jisr's own store only; on Milvus build with --companion none (or auto)"
)


def companion_refused_on_milvus() -> BuildError:
    """The error of a loaded companion given to a build on Milvus: the same words as a named one's."""
    return BuildError(_COMPANION_ON_MILVUS)


def _check_fields(given: RecordFields) -> None:
    """The declared fields (``--field NAME:KIND``) as the command line checks them: each well formed, none twice."""
    try:
        declared = [record_fields.declaration(f"{name}:{kind}") for name, kind in given.extra]
    except (TypeError, ValueError) as exc:
        raise BuildError(str(exc)) from None
    if len({name for name, _ in declared}) != len(declared):
        raise BuildError("--field: a field is named twice")


def from_settings(chosen: settings.BuildSettings, **arguments) -> BuildOptions:
    """The build options that ``chosen`` (the effective build settings: command line, environment, jisr.toml)
    sets, with ``arguments`` (what belongs to one build: ``fields``, ``follow_links``, ``milvus``, ...)."""
    return BuildOptions(
        index_type=chosen.index_type,
        companion=chosen.companion,
        batch_passages=chosen.batch_passages,
        segments=SegmentPolicy(chosen.segment_passages, chosen.max_small_segments),
        vector_index=VectorIndexPolicy(chosen.pq_min),
        precision=VectorPrecision(chosen.passage_precision, chosen.sentence_precision, chosen.companion_precision),
        min_free_disk=chosen.min_free_disk,
        **arguments,
    )
