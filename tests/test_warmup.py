"""The server's warm-up: what queries read is read into the page cache, within a memory budget."""

import numpy as np

from jisr.answers.searcher import Searcher
from jisr.index.build import build
from jisr.index.local import store, warmup
from jisr.index.local import vectors as stored
from tests.conftest import HANG, more_passages
from tests.test_segments import WORDS, everything, write_docs


def test_plan_reads_what_every_query_needs_then_what_fits_the_budget(tmp_path):
    sizes = {"postings": 100, "vectors": 50, "sentences-a": 30, "sentences-b": 40}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    region = {name: (tmp_path / name, np.zeros(size, np.uint8)) for name, size in sizes.items()}
    needed, wanted = [region["postings"], region["vectors"]], [region["sentences-a"], region["sentences-b"]]
    assert warmup.plan(needed, wanted, budget=10) == needed  # what every query reads, whatever the budget
    assert warmup.plan(needed, wanted, budget=180) == needed + wanted[:1]
    assert warmup.plan(needed, wanted, budget=220) == needed + wanted


def test_a_warm_searcher_reads_its_segments_files_and_answers_as_a_cold_one(tmp_path, tiny_model):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 30)
    more_passages(corpus)
    build(corpus, index, tiny_model)
    cold = Searcher.open(index, tiny_model)
    assert cold.warmup is None
    warm = Searcher.open(index, tiny_model, warm=True)
    assert warm.warmup.wait(timeout=HANG)
    segment = warm.index.segments[0].folder
    read = {p.relative_to(segment).as_posix() for p in warm.warmup.paths}
    assert {
        "vectors.bin",
        "lexical/rows.npy",
        "lexical/tf.npy",
        "lexical/norms.npy",
        "lexical/dense.npy",
        "sentences.bin",
    } <= read
    assert all(array.size for _, array in warm.warmup.regions)
    assert warm.warmup.bytes_read == sum(p.stat().st_size for p in warm.warmup.paths) > 0
    for q in WORDS[:4] + ["Damascus rain"]:
        assert [r["doc_id"] for r in warm.search(q, lang="any").to_json()["results"]] == [
            r["doc_id"] for r in cold.search(q, lang="any").to_json()["results"]
        ]
    assert everything(index, tiny_model) == everything(index, tiny_model)


def test_a_file_removed_during_the_warm_up_is_skipped(tmp_path, tiny_model):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 12)
    build(corpus, index, tiny_model)
    regions = [r for seg in store.load(index).segments for r in seg.expect_queries()[0]]
    regions[0][0].unlink()
    job = warmup.Warmup(regions)
    assert job.wait(timeout=HANG)
    assert job.bytes_read == sum(path.stat().st_size for path, _ in regions[1:])


def test_sentence_rows_read_through_the_scattered_map_are_the_stored_ones(tmp_path, tiny_model):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 12)
    build(corpus, index, tiny_model)
    seg = store.load(index).segments[0]
    before = np.array(seg.sentence_vectors)
    seg.expect_queries()
    kind = seg.meta["sentence_dtype"]
    packed = np.fromfile(seg.folder / "sentences.bin", np.uint8).reshape(len(before), -1)
    codes = stored.unpack(packed, before.shape[1], stored.BITS[kind])
    raw = codes * np.fromfile(seg.folder / "sentences.scales.bin", np.float32)[:, None] + np.load(
        seg.folder / "sentences.center.npy"
    )
    assert np.array_equal(np.array(seg.sentence_vectors), raw) and np.array_equal(before, raw)


def test_the_web_app_warms_the_index_it_opens(tmp_path, tiny_model, tiny_model_path):
    from jisr.web import create_app

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 12)
    build(corpus, index, tiny_model)
    app = create_app({"INDEX": str(index), "MODEL": str(tiny_model_path)})
    searcher = app.extensions["jisr"]["index"].searcher
    assert searcher.warmup is not None and searcher.warmup.wait(timeout=HANG) and searcher.warmup.bytes_read > 0


def test_a_memory_budget_lets_go_of_the_droppable_maps_only_while_over_it(tmp_path):
    import mmap

    path = tmp_path / "rows.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 255, 64 << 20, dtype=np.uint8).tobytes())
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    rows = np.frombuffer(mapped, np.uint8)
    warmup.touch(rows)
    touched = warmup.resident_bytes()
    kept = warmup.Warmup([], budget=1 << 30, droppable=[mapped])  # far under its budget: nothing goes
    assert kept.keep() == 0 and warmup.resident_bytes() >= touched - (8 << 20)
    kept.stop()
    over = warmup.Warmup([], budget=1 << 20, droppable=[mapped])
    over.baseline -= 64 << 20  # as if the map had been touched after the warm-up began
    before = warmup.resident_bytes()  # after the keepers' threads and their stacks: what the map alone gives back
    assert over.keep() == 1 and warmup.resident_bytes() <= before - (48 << 20)  # the map's pages let go of
    over.stop()
    assert int(rows[::4096].sum()) > 0  # and read again on demand


def test_a_searcher_with_a_memory_budget_answers_as_without_one(tmp_path, tiny_model):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 12)
    build(corpus, index, tiny_model)
    plain = Searcher.open(index, tiny_model)
    budgeted = Searcher.open(index, tiny_model, warm=True, memory_budget=1 << 20)
    assert budgeted.warmup.wait(timeout=HANG) and budgeted.warmup.budget == 1 << 20
    budgeted.warmup.baseline = 0  # as if the index were all this process holds: over 1 MB, the sentence maps go
    assert budgeted.warmup.keep() >= 1
    for q in ("المطر", "Damascus"):
        assert [r.doc_id for r in budgeted.search(q).hits] == [r.doc_id for r in plain.search(q).hits]
    budgeted.close()
