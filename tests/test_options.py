"""Build options as one object: checked where they are made, so the CLI, the Python API and eval refuse alike."""

from dataclasses import fields

import pytest

import jisr
from jisr.corpus.readers import RecordFields
from jisr.errors import BuildError
from jisr.index.local import vectors
from jisr.index.milvus.writer import MilvusTarget
from jisr.index.options import (
    PRECISIONS,
    BuildOptions,
    CandidatePolicy,
    SegmentPolicy,
    VectorIndexPolicy,
    VectorPrecision,
)
from tests.conftest import SEEDS
from tests.test_cli import jisr as run_jisr

TWICE = RecordFields(extra=(("year", "number"), ("year", "date")))


def test_a_field_named_twice_is_refused_by_the_python_api_as_by_the_cli(tmp_path, tiny_model_path):
    with pytest.raises(BuildError, match="a field is named twice"):
        jisr.build(SEEDS, tmp_path / "index", str(tiny_model_path), BuildOptions(fields=TWICE))
    cli = run_jisr(
        "build",
        "--corpus",
        str(SEEDS),
        "--index",
        str(tmp_path / "index"),
        "--model",
        str(tiny_model_path),
        "--field",
        "year:number",
        "--field",
        "year:date",
    )
    assert cli.returncode == 1 and "a field is named twice" in cli.stderr and "Traceback" not in cli.stderr
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: BuildOptions(index_type="ivf-magic"), "unknown index type 'ivf-magic'"),
        (lambda: BuildOptions(index_type="pq", milvus=MilvusTarget()), "index type 'pq' is jisr's own store"),
        (lambda: BuildOptions(companion="usee"), "unknown companion 'usee'"),
        (lambda: BuildOptions(companion="use", milvus=MilvusTarget()), "--companion none"),
        (lambda: BuildOptions(fields=RecordFields(extra=(("doc_id", "keyword"),))), "every passage has that field"),
        (lambda: BuildOptions(fields=RecordFields(extra=(("year", "decade"),))), "the type is one of"),
        (lambda: BuildOptions(batch_passages=0), "batch_passages must be a whole number of at least 1"),
        (lambda: BuildOptions(min_free_disk=-1), "min_free_disk must be a whole number of at least 0"),
        (lambda: SegmentPolicy(passages=0), "SegmentPolicy.passages must be"),
        (lambda: SegmentPolicy(max_small=-1), "SegmentPolicy.max_small must be"),
        (lambda: SegmentPolicy(max_small=2.5), "SegmentPolicy.max_small must be"),
        (lambda: VectorIndexPolicy(pq_min=True), "VectorIndexPolicy.pq_min must be"),
        (lambda: VectorPrecision(sentences="int3"), "unknown vector precision 'int3' for sentences"),
        (lambda: CandidatePolicy(rescored=0), "CandidatePolicy.rescored must be"),
    ],
)
def test_bad_options_are_refused_with_what_is_wrong(make, message):
    with pytest.raises(BuildError, match=message):
        make()


def test_the_defaults_are_the_knobs_builds_and_searches_used_as_module_constants():
    """Index files and search results do not change with default options."""
    options = BuildOptions()
    assert (options.index_type, options.companion, options.batch_passages, options.milvus) == (
        "auto",
        "auto",
        1024,
        None,
    )
    assert options.segments == SegmentPolicy(passages=100_000, max_small=8)
    assert options.vector_index.pq_min == 39 * 16
    assert options.precision == VectorPrecision("int8", "int6", "int6") and CandidatePolicy().rescored == 4
    assert set(PRECISIONS) == set(vectors.KINDS)  # every form a segment can be read in, and no other
    assert BuildOptions(milvus=MilvusTarget()).companion_choice == "none" and options.companion_choice == "use"


def test_every_option_has_one_line_of_help():
    for kind in (BuildOptions, SegmentPolicy, VectorIndexPolicy, VectorPrecision, CandidatePolicy):
        for f in fields(kind):
            assert f.metadata["help"] and "\n" not in f.metadata["help"] and "unit" in f.metadata, (kind, f.name)
