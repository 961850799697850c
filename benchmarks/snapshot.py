"""What a snapshot and a restore cost (issue 48, item 2): time, files, bytes copied and extra disk, at N passages.

An index of ``--passages`` passages is built from a corpus as benchmarks/scale.py writes it (real Arabic
sentences recombined into documents of 10 passages; XQuAD's Arabic paragraphs, else the seed files), embedded
by a STAND-IN encoder (random unit vectors seeded by each text: what a snapshot costs does not depend on the
vectors' meaning), plus 100 documents sent as the API stores them. Then, with jisr.index.snapshot and
jisr.index.restore as shipped: a snapshot on the index's file system (hard links), and one to another file
system when ``--other`` names a folder there (a copy); the check a restore makes (every segment file hashed);
a restore into a new folder; and, after a build that added and removed documents, a restore over the index (a
new commit). Extra disk is the blocks of the files and folders the operation made that share no inode with the
index. Writes benchmarks/results/snapshot.md. Usage:
    python -m benchmarks.snapshot [--passages 10000] [--work /tmp/jisr-snapshot] [--other DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
import zlib
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, model_argument, parse
from benchmarks.scale import XQUAD, sentences, write_corpus

ROOT = Path(__file__).resolve().parents[1]


def stand_in(dim: int):
    """STAND-IN ENCODER (benchmark only): each text's own random unit vector, the same on every run."""

    def encode(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, dim), np.float32)
        out = np.stack([np.random.default_rng(zlib.crc32(t.encode("utf-8"))).standard_normal(dim) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    return encode


def pool() -> list[str]:
    if XQUAD.exists():
        return sentences()
    lines = [
        line.strip()
        for p in sorted((ROOT / "seeds").glob("*.txt"))
        for line in p.read_text(encoding="utf-8").splitlines()
    ]
    return [line for line in lines if len(line) > 20]


def blocks(folder: Path, shared: set[tuple[int, int]] = frozenset()) -> int:
    """Bytes on disk of ``folder``'s files and folders (st_blocks), those whose inode is in ``shared`` left out."""
    total = 0
    for path in [folder, *folder.rglob("*")]:
        st = os.lstat(path)
        if (st.st_dev, st.st_ino) not in shared:
            total += st.st_blocks * 512
    return total


def inodes(folder: Path) -> set[tuple[int, int]]:
    return {(st.st_dev, st.st_ino) for st in (os.lstat(p) for p in [folder, *folder.rglob("*")])}


def row(
    operation: str, passages: int, seconds: float, made=None, extra: int | None = None, index_bytes: int = 0
) -> dict:
    return {
        "operation": operation,
        "passages": passages,
        "seconds": seconds,
        "files": made.files if made else None,
        "linked": made.linked if made else None,
        "copied": made.copied_bytes if made else None,
        "extra": extra,
        "share": None if extra is None else 100 * extra / index_bytes,
    }


def measure(passages: int, work: Path, other: Path | None, model_path: str | None) -> tuple[list[dict], int]:
    """The rows of the table, and the index's bytes on disk."""
    import jisr
    from jisr.corpus import submitted
    from jisr.embeddings import load_model
    from jisr.index import commit, restore, snapshot
    from jisr.index.options import BuildOptions

    shutil.rmtree(work, ignore_errors=True)
    corpus, index = work / "corpus", work / "index"
    write_corpus(corpus, passages, pool())
    model = load_model(model_path)
    encoder = stand_in(model.get_embedding_dimension())
    options = BuildOptions(companion="none")
    jisr.build(corpus, index, model, options, encoder=encoder)
    sent = {
        f"api/{i}": submitted.from_json(f"api/{i}", {"title": "خبر", "text": f"نص مرسل رقم {i}"}) for i in range(100)
    }  # as the document API stores them
    jisr.build(corpus, index, model, options, encoder=encoder, submit=lambda: submitted.apply(index, sent))
    count = commit.readable(index)["counts"]["passages"]
    index_bytes = blocks(index)
    rows = []

    made = snapshot.take(index, work / "snap")
    rows.append(
        row(
            "snapshot, same file system (hard links)",
            count,
            made.seconds,
            made,
            blocks(work / "snap", inodes(index)),
            index_bytes,
        )
    )
    if other is not None:
        shutil.rmtree(other / "jisr-snap", ignore_errors=True)
        copied = snapshot.take(index, other / "jisr-snap")
        rows.append(
            row(
                "snapshot, another file system (copy)",
                count,
                copied.seconds,
                copied,
                blocks(other / "jisr-snap"),
                index_bytes,
            )
        )
        shutil.rmtree(other / "jisr-snap", ignore_errors=True)

    started = time.perf_counter()
    restore.checked(work / "snap")
    rows.append(
        row("check of the snapshot (every file hashed; part of a restore)", count, time.perf_counter() - started)
    )
    restored = restore.restore(work / "snap", work / "restored")
    rows.append(
        row(
            "restore into a new folder (check included)",
            count,
            restored.seconds,
            restored,
            blocks(work / "restored", inodes(work / "snap")),
            index_bytes,
        )
    )

    for path in sorted(corpus.rglob("*.txt"))[:3]:  # the index moves on: documents changed and removed
        path.unlink()
    (corpus / "added.txt").write_text("عنوان\n" + "\n".join(pool()[:20]) + "\n", encoding="utf-8")
    jisr.build(corpus, index, model, options, encoder=encoder)
    before = inodes(index)
    over = restore.restore(work / "snap", index)
    rows.append(
        row(
            "restore over the index, a new commit (check included)",
            count,
            over.seconds,
            over,
            blocks(index, before | inodes(work / "snap")),
            index_bytes,
        )
    )
    assert commit.readable(index)["counts"]["passages"] == count
    shutil.rmtree(work, ignore_errors=True)
    return rows, index_bytes


def markdown(rows: list[dict], environment: str, index_mb: float) -> str:
    def cell(value, fmt):
        return "-" if value is None else format(value, fmt)

    lines = [
        "# Snapshot and restore",
        "",
        f"`python -m benchmarks.snapshot` on {environment}. The index: {rows[0]['passages']:,} passages "
        f"({index_mb:.1f} MB on disk), built with a stand-in encoder (the vectors' meaning does not change what "
        "a snapshot costs). Extra disk: blocks of the files and folders made that share no inode with the index "
        "(or, for a restore, with the snapshot).",
        "",
        "| operation | passages | seconds | files | hard links | bytes copied | extra disk bytes | extra % of index |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['operation']} | {r['passages']:,} | {r['seconds']:.3f} | {cell(r['files'], ',')} | "
            f"{cell(r['linked'], ',')} | {cell(r['copied'], ',')} | {cell(r['extra'], ',')} | "
            f"{cell(r['share'], '.2f')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/jisr-snapshot"))
    parser.add_argument("--other", type=Path, default=None, help="a folder on another file system, for the copy")
    model_argument(parser)
    args = parse(parser, RESULTS / "snapshot.md", passages=200)
    work = args.work if not args.quick else args.out.parent / "snapshot-work"
    rows, index_bytes = measure(args.passages, work, args.other, args.model)
    for r in rows:
        print(
            f"{r['operation']}: {r['seconds']:.3f} s, {r['files']} files, {r['linked']} hard links, "
            f"{r['copied']} bytes copied, {r['extra']} extra disk bytes"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, f"{cpu()}; {os.cpu_count()} CPUs", index_bytes / 2**20), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
