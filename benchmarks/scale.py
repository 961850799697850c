"""How jisr's costs grow from 10k to 1M passages on one machine, embedding excluded.

Real Arabic text (the XQuAD Arabic paragraphs, cut into sentences) is recombined into
documents of 10 paragraphs of 3-6 sentences each, written as a corpus folder per size. The
encoder is replaced by a STAND-IN: a deterministic hashing bag-of-words vector (each normalized
word adds a fixed random 384-d vector), so that texts sharing words get close vectors, as with a
real model, and the vector index meets clustered data. Everything else is jisr as shipped: the
real tokenizer counts tokens for chunking, the real store, BM25, IVF and searcher. The real
encoder's throughput is measured in the same run and used to state what the real build would
take. Each build and each open runs in its own process, so peak memory is that process's.

Per size it prints and writes (benchmarks/results/scale.{md,json,svg}): build time and peak
memory, disk size, open time and memory after open, the first query's time with the index
evicted from the page cache (as after a reboot) and after a server's warm-up, dense and hybrid p50/p99
with the query vector given, and with the real query encoding added, recall@10 of the dense top
10 against exact search, and the cost of adding one file. Usage:
    python -m benchmarks.scale [--sizes 10000 100000 1000000] [--work /tmp/jisr-scale] [--queries 500] [--sample 64]
        [--out DIR [--quick]]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import ROOT, cpu
from benchmarks.quick import RESULTS, parse
from jisr.index.local import vectors as stored
from jisr.index.options import VectorPrecision

XQUAD = ROOT.parent / "shared" / "data" / "xquad" / "xquad.ar.json"
PARAGRAPHS_PER_DOC = 10
# bytes a passage's companion (USE v3, 512-d) vector takes as a build stores it, with its scale: not built here
COMPANION_ROW = sum(stored.row_bytes(VectorPrecision().companion, 512))
DIM = 384
BUCKETS = 1 << 16

STAND_IN = '''
import re, zlib
import numpy as np

_rng = np.random.default_rng(7)
_table = _rng.standard_normal((1 << 16, 384)).astype(np.float32)
_ids = {}
_word = re.compile(r"\\w+")


def _id(w):
    i = _ids.get(w)
    if i is None:
        i = _ids[w] = zlib.crc32(w.encode("utf-8")) & 0xFFFF
    return i


def stand_in(texts):
    """STAND-IN ENCODER (benchmark only): a normalized sum of fixed random vectors of the words (a sparse
    product: 11x faster than gathering the rows, the same vectors to 1e-7)."""
    import scipy.sparse
    ids = [[_id(w) for w in _word.findall(t)] or [0] for t in texts]
    lengths = np.fromiter((len(r) for r in ids), np.int64, len(ids))
    flat = np.fromiter((i for row in ids for i in row), np.int64, int(lengths.sum()))
    counts = scipy.sparse.csr_matrix((np.ones(len(flat), np.float32), flat, np.concatenate([[0], np.cumsum(lengths)])),
                                     shape=(len(texts), 1 << 16))
    vectors = np.asarray(counts @ _table, np.float32).reshape(len(texts), 384)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    return vectors
'''

BUILD = (
    STAND_IN
    + """
import json, resource, sys, time
from jisr.embeddings import load_model
from jisr import BuildOptions, build
model = load_model()
loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
stand_in_seconds = 0.0

def timed_stand_in(texts):  # the stand-in's own time is embedding time: it is taken out of the build's
    global stand_in_seconds
    t = time.perf_counter()
    try:
        return stand_in(texts)
    finally:
        stand_in_seconds += time.perf_counter() - t

started = time.perf_counter()
report = build(sys.argv[1], sys.argv[2], model, BuildOptions(companion="none"),
               encoder=timed_stand_in)  # the store alone
print(json.dumps({"seconds": time.perf_counter() - started - stand_in_seconds, "stand_in_seconds": stand_in_seconds,
                  "passages": report.passages,
                  "sentences": report.sentences, "segments": report.segments, "embedded": report.embedded,
                  "model_loaded_mb": loaded_mb,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
)

OPEN = (
    STAND_IN
    + """
import json, os, resource, sys, time
from pathlib import Path
import numpy as np
from jisr.index.contract import CANDIDATES
from jisr.index.local import ann, store
from jisr.answers.searcher import Searcher

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

def evict(folder):  # drop the index's files from the page cache, as a reboot would
    for path in Path(folder).rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)

def opened(warm):
    evict(sys.argv[1])
    started = time.perf_counter()
    index = store.load(sys.argv[1])
    searcher = Searcher(index, None, warm=warm)  # ranks the stand-in's query vectors: no model loaded
    return searcher, time.perf_counter() - started

def run(mode, q, v):
    t = time.perf_counter()
    searcher.rank(q, mode, lang="any", vector=v)
    return (time.perf_counter() - t) * 1000

queries = json.load(open(sys.argv[2], encoding="utf-8"))
vectors = stand_in(queries)
base = rss_mb()
searcher, open_s = opened(warm=False)  # what `jisr search` does
after_open = rss_mb()
out = {"open_s": open_s, "open_rss_mb": after_open - base, "first_query_ms": run("hybrid", queries[-1], vectors[-1])}
searcher.index.close()
searcher, _ = opened(warm=True)  # what `jisr serve` does
searcher.warmup.wait()
out["warmup"] = {"seconds": searcher.warmup.seconds, "mb": searcher.warmup.bytes_read / 2**20}
out["first_query_warm_ms"] = run("hybrid", queries[-2], vectors[-2])
index = searcher.index
for mode in ("dense", "hybrid"):
    times = [run(mode, q, v) for q, v in zip(queries, vectors)]
    out[mode] = {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99))}
times = []
for q in queries:  # hybrid's BM25 part alone
    t = time.perf_counter()
    index.lexical_candidates(q, CANDIDATES)
    times.append((time.perf_counter() - t) * 1000)
out["lexical"] = {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99))}
out["rss_after_queries_mb"] = rss_mb() - base

# recall@10 of the dense top 10 against exact search over the same segments
def top10(v):
    ids, _, _ = searcher.rank("", "dense", lang="any", vector=v)
    return set(ids[:10].tolist())
approx = [top10(v) for v in vectors[:200]]
for seg in index.segments:
    seg.vector_index = ann.exact(seg.vectors)
exact = [top10(v) for v in vectors[:200]]
out["recall@10"] = float(np.mean([len(a & e) / 10 for a, e in zip(approx, exact)]))
out["vector_index"] = [seg.meta["vector_index"] for seg in index.segments]
print(json.dumps(out))
"""
)

BUDGET = (
    OPEN.split("base = rss_mb()")[0]
    + """
base = rss_mb()
evict(sys.argv[1])
budget = float(sys.argv[3]) * 2**30  # `jisr serve --memory-budget`: warmed within it and kept to
searcher = Searcher(store.load(sys.argv[1]), None, warm=True, memory_budget=int(budget))
searcher.warmup.wait()
times = [run("hybrid", q, v) for q, v in zip(queries, vectors)]
searcher.warmup.keep()
print(json.dumps({"gb": budget / 2**30, "p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99)),
                  "rss_mb": rss_mb() - base, "warmup_mb": searcher.warmup.bytes_read / 2**20}))
"""
)

ENCODE = """
import json, sys, time
import numpy as np
from jisr.embeddings import load_model
from jisr.embeddings.batching import document_lengths, encode_documents
texts, queries = json.load(open(sys.argv[1], encoding="utf-8")), json.load(open(sys.argv[2], encoding="utf-8"))
model = load_model()
encode_documents(model, texts[:8])
started = time.perf_counter()
encode_documents(model, texts)
seconds = time.perf_counter() - started
times = []
for q in queries[:50]:
    t = time.perf_counter()
    model.encode_query([q])
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"texts_per_s": len(texts) / seconds, "tokens_per_s": sum(document_lengths(model, texts)) / seconds,
                  "query_p50_ms": float(np.percentile(times, 50)),
                  "precision": "bfloat16" if model[0].bfloat16 else "float32"}))
"""


def sentences() -> list[str]:
    data = json.loads(XQUAD.read_text(encoding="utf-8"))
    out = []
    for article in data["data"]:
        for p in article["paragraphs"]:
            out += [s.strip() for s in re.split(r"(?<=[.!؟?])\s+", p["context"]) if len(s.strip()) > 20]
    return out


def questions() -> list[str]:
    data = json.loads(XQUAD.read_text(encoding="utf-8"))
    return [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]


def write_corpus(folder: Path, passages: int, pool: list[str], seed: int = 0) -> None:
    """``passages`` paragraphs of recombined real sentences, 10 to a file, 1,000 files to a folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for d in range(passages // PARAGRAPHS_PER_DOC):
        sub = folder / f"{d // 1000:04d}"
        sub.mkdir(exist_ok=True)
        paragraphs = [
            " ".join(pool[i] for i in rng.integers(0, len(pool), rng.integers(3, 7))) for _ in range(PARAGRAPHS_PER_DOC)
        ]
        title = " ".join(pool[int(rng.integers(0, len(pool)))].split()[:6])
        (sub / f"doc{d:07d}.txt").write_text(title + "\n" + "\n".join(paragraphs) + "\n", encoding="utf-8")


def child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


PARTS = {
    "vectors": ("vectors.", "sentences.", "companion."),
    "text": ("passages.sqlite",),
    "postings": ("lexical/",),
    "vector index": ("ann.faiss",),
}


def disk_parts(folder: Path) -> dict[str, float]:
    """MB on disk of each part of the index's segments (PARTS; the rest: documents' columns, commits, ...)."""
    out = dict.fromkeys([*PARTS, "other"], 0.0)
    for p in folder.rglob("*"):
        if p.is_file():
            name = str(p.relative_to(p.parents[1])) if "lexical" in p.parts else p.name
            part = next((k for k, prefixes in PARTS.items() if name.startswith(prefixes)), "other")
            out[part] += p.stat().st_size / 2**20
    return out


def measure(size: int, work: Path, pool: list[str], query_file: Path, budget: float) -> dict:
    corpus, index = work / f"corpus-{size}", work / f"index-{size}"
    shutil.rmtree(index, ignore_errors=True)
    if not corpus.exists():
        started = time.perf_counter()
        write_corpus(corpus, size, pool)
        print(f"  wrote corpus of {size} passages in {time.perf_counter() - started:.0f} s", flush=True)
    built = child(BUILD, str(corpus), str(index))
    print(f"  build {built['seconds']:.0f} s, peak {built['peak_mb']:.0f} MB", flush=True)
    opened = child(OPEN, str(index), str(query_file))
    opened["budget"] = child(BUDGET, str(index), str(query_file), str(budget))
    extra = corpus / "extra"
    shutil.rmtree(extra, ignore_errors=True)
    write_corpus(extra, PARAGRAPHS_PER_DOC, pool, seed=size)
    added = child(BUILD, str(corpus), str(index))
    shutil.rmtree(extra)
    return {
        "size": size,
        "build": built,
        "disk_mb": disk_mb(index),
        "disk_parts_mb": disk_parts(index),
        "open": opened,
        "add_one_file": added,
    }


def svg(rows: list[dict]) -> str:
    """Hybrid p50/p99 (ms) and memory after open (MB) against corpus size, log-log."""
    w, h, pad = 560, 300, 50
    xs = [np.log10(r["size"]) for r in rows]
    series = [
        ("hybrid p50 ms", [r["open"]["hybrid"]["p50"] for r in rows], "#1f77b4"),
        ("hybrid p99 ms", [r["open"]["hybrid"]["p99"] for r in rows], "#aec7e8"),
        ("memory after open MB", [max(r["open"]["open_rss_mb"], 1) for r in rows], "#d62728"),
        ("build peak MB", [r["build"]["peak_mb"] for r in rows], "#ff9896"),
    ]
    lo = np.log10(min(min(v) for _, v, _ in series)) - 0.2
    hi = np.log10(max(max(v) for _, v, _ in series)) + 0.2
    x0, x1 = min(xs) - 0.2, max(xs) + 0.2
    px = lambda x: pad + (x - x0) / (x1 - x0) * (w - 2 * pad)  # noqa: E731
    py = lambda y: h - pad - (np.log10(y) - lo) / (hi - lo) * (h - 2 * pad)  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#333"/>',
    ]
    for r, x in zip(rows, xs):
        out.append(f'<text x="{px(x):.0f}" y="{h - pad + 15}" text-anchor="middle">{r["size"]:,} passages</text>')
    for i, (label, values, color) in enumerate(series):
        points = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        out += [
            f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>'
            f'<text x="{px(x) + 5:.1f}" y="{py(v) - 4:.1f}">{v:.0f}</text>'
            for x, v in zip(xs, values)
        ]
        out.append(f'<text x="{pad + 5}" y="{pad - 30 + 12 * i}" fill="{color}">{label}</text>')
    return "\n".join(out + ["</svg>"]) + "\n"


def largest(indexes: list[dict]) -> str:
    """The parameters that matter of the first (largest, oldest) segment's vector index."""
    first = indexes[0] if indexes else {"kind": "none"}
    keys = {"ivf": ("nlist", "nprobe"), "pq": ("m", "depth")}.get(first["kind"], ())
    return " ".join([first["kind"]] + [f"{k} {first[k]}" for k in keys])


def markdown(rows: list[dict], encoder: dict, environment: str) -> str:
    def row(label, f):
        return f"| {label} | " + " | ".join(f(r) for r in rows) + " |"

    per_text = lambda r: (r["build"]["passages"] + r["build"]["sentences"]) / encoder["texts_per_s"]  # noqa: E731
    lines = [
        "# jisr at 10k to 1M passages, embedding excluded",
        "",
        "Written by `python -m benchmarks.scale`; do not edit by hand. The encoder is a **stand-in** (hashing "
        "bag of words, see the script) so that the rest of the pipeline is timed; the real encoder's rate, "
        "measured in the same run, gives the real build time below.",
        "",
        f"Machine: {environment}",
        "",
        "![latency and memory against corpus size](scale.svg)",
        "",
        "| | " + " | ".join(f"{r['size']:,} passages" for r in rows) + " |",
        "|---|" + "---|" * len(rows),
        row("sentences", lambda r: f"{r['build']['sentences']:,}"),
        row("segments", lambda r: str(r["build"]["segments"])),
        row(
            "build, embedding excluded (s; the stand-in encoder's own time taken out)",
            lambda r: f"{r['build']['seconds']:.0f}",
        ),
        row(
            "build peak memory (MB; of which the process with torch and the model loaded)",
            lambda r: f"{r['build']['peak_mb']:.0f} ({r['build']['model_loaded_mb']:.0f})",
        ),
        row("real encoder for the same texts (h, measured rate)", lambda r: f"{per_text(r) / 3600:.1f}"),
        row("disk (MB)", lambda r: f"{r['disk_mb']:.0f}"),
        row(
            "...vectors / text / postings / vector index / other (MB)",
            lambda r: (
                " / ".join(f"{r['disk_parts_mb'][k]:.0f}" for k in [*PARTS, "other"]) if "disk_parts_mb" in r else "-"
            ),
        ),
        row(
            f"disk with the companion (MB; its {VectorPrecision().companion} vectors, {COMPANION_ROW} bytes a "
            "passage, added)",
            lambda r: f"{r['disk_mb'] + r['build']['passages'] * COMPANION_ROW / 2**20:.0f}",
        ),
        row("open (s)", lambda r: f"{r['open']['open_s']:.2f}"),
        row("memory after open (MB, resident)", lambda r: f"{r['open']['open_rss_mb']:.0f}"),
        row("memory after all queries (MB, resident)", lambda r: f"{r['open']['rss_after_queries_mb']:.0f}"),
        row(
            "first query, index evicted from the page cache as by a reboot (ms)",
            lambda r: f"{r['open']['first_query_ms']:.1f}",
        ),
        row(
            "server's warm-up: read into the page cache (MB, s)",
            lambda r: f"{r['open']['warmup']['mb']:.0f} MB, {r['open']['warmup']['seconds']:.1f} s",
        ),
        row("first query after the warm-up (ms)", lambda r: f"{r['open']['first_query_warm_ms']:.1f}"),
        row(
            "dense p50 / p99 (ms), vector given",
            lambda r: f"{r['open']['dense']['p50']:.1f} / {r['open']['dense']['p99']:.1f}",
        ),
        row(
            "hybrid p50 / p99 (ms), vector given",
            lambda r: f"{r['open']['hybrid']['p50']:.1f} / {r['open']['hybrid']['p99']:.1f}",
        ),
        row(
            "...of which BM25 candidates p50 / p99 (ms)",
            lambda r: f"{r['open']['lexical']['p50']:.1f} / {r['open']['lexical']['p99']:.1f}",
        ),
        row(
            "hybrid p50 (ms), real query encoding added",
            lambda r: f"{r['open']['hybrid']['p50'] + encoder['query_p50_ms']:.1f}",
        ),
        row(
            "with a memory budget (`--memory-budget`): GB / warmed MB / hybrid p50 / p99 ms / memory after queries MB",
            lambda r: (
                (
                    f"{r['open']['budget']['gb']:.1f} / {r['open']['budget']['warmup_mb']:.0f} / "
                    f"{r['open']['budget']['p50']:.1f} / {r['open']['budget']['p99']:.1f} / "
                    f"{r['open']['budget']['rss_mb']:.0f}"
                )
                if "budget" in r["open"]
                else "-"
            ),
        ),
        row("recall@10 of dense top 10 vs exact", lambda r: f"{r['open']['recall@10']:.3f}"),
        row("vector index of the largest segment", lambda r: largest(r["open"]["vector_index"])),
        row("add one file and rebuild (s, embedding excluded)", lambda r: f"{r['add_one_file']['seconds']:.1f}"),
        "",
        f"Real encoder (default model, matrix products in {encoder.get('precision', 'a precision not recorded')}): "
        f"{encoder['texts_per_s']:.1f} texts/s, {encoder['tokens_per_s']:.0f} "
        f"tokens/s on recombined passages; one query {encoder['query_p50_ms']:.1f} ms p50.",
        "Queries: the XQuAD Arabic questions, encoded by the stand-in. Memory is resident set size (memory-mapped "
        "pages count once touched). MB and GB here are 2^20 and 2^30 bytes.",
    ]
    lines += projection(rows)
    lines += [
        f"The {r['size']:,} column was measured in another run ({r['joined']}) and joined with `--join`."
        for r in rows
        if "joined" in r
    ]
    lines += [
        f'Rows from "open" to "vector index" of the {r["size"]:,} column were re-measured with '
        f"`--queries-only` ({r['queries_remeasured']}) on the index this run built (and one file added)."
        for r in rows
        if "queries_remeasured" in r
    ]
    return "\n".join(lines) + "\n"


PROJECTED = [
    ("disk (GB)", lambda r: r["disk_mb"] / 1024),
    ("disk with the companion (GB)", lambda r: (r["disk_mb"] + r["build"]["passages"] * COMPANION_ROW / 2**20) / 1024),
    ("build, embedding excluded (min)", lambda r: r["build"]["seconds"] / 60),
    ("memory after the warm-up and all queries (GB, resident)", lambda r: r["open"]["rss_after_queries_mb"] / 1024),
    ("server's warm-up read (GB)", lambda r: r["open"]["warmup"]["mb"] / 1024),
    ("dense p50 (ms)", lambda r: r["open"]["dense"]["p50"]),
    ("BM25 candidates p50 (ms)", lambda r: r["open"]["lexical"]["p50"]),
    ("hybrid p50 (ms)", lambda r: r["open"]["hybrid"]["p50"]),
    ("hybrid p99 (ms)", lambda r: r["open"]["hybrid"]["p99"]),
    ("add one file (s)", lambda r: r["add_one_file"]["seconds"]),
]


def projection(rows: list[dict], target: int = 10_000_000) -> list[str]:
    """Each cost at ``target`` passages, carried on from the two largest sizes measured along their own
    growth (the exponent b of cost ~ size^b between them), as a table; none with fewer than two sizes."""
    rows = sorted(rows, key=lambda r: r["size"])
    if len(rows) < 2 or rows[-1]["size"] >= target:
        return []
    a, b = rows[-2], rows[-1]
    out = [
        "",
        f"## Projected to {target:,} passages",
        "",
        f"From the growth between {a['size']:,} and {b['size']:,} passages (cost ~ size^b, b from those two "
        "runs): a projection, not a measurement.",
        "",
        f"| | {a['size']:,} | {b['size']:,} | growth exponent b | {target:,} (projected) |",
        "|---|---|---|---|---|",
    ]
    for label, f in PROJECTED:
        x, y = f(a), f(b)
        if x <= 0 or y <= 0:
            continue
        exponent = float(np.log(y / x) / np.log(b["size"] / a["size"]))
        out.append(f"| {label} | {x:.1f} | {y:.1f} | {exponent:.2f} | {y * (target / b['size']) ** exponent:.1f} |")
    return out + parts(a, b, target)


def parts(a: dict, b: dict, target: int) -> list[str]:
    """The hybrid p50 at ``target`` from its parts: a hybrid query runs the dense search and BM25 at once, on
    two threads, then ranks their candidates; so it takes at least the longer of the two, projected each along
    its own growth, plus what the rest took at the largest size measured. The hybrid row's own growth hides
    that the two scans grow ~linearly while the rest does not."""

    def projected(part: str) -> float:
        x, y = a["open"][part]["p50"], b["open"][part]["p50"]
        return y * (target / b["size"]) ** float(np.log(y / x) / np.log(b["size"] / a["size"]))

    hybrid, longer = b["open"]["hybrid"]["p50"], max(b["open"]["dense"]["p50"], b["open"]["lexical"]["p50"])
    rest = max(hybrid - longer, 0.0)
    return [
        "",
        f"From its parts, hybrid p50 at {target:,} passages: the longer of dense ({projected('dense'):.1f} ms) "
        f"and BM25 ({projected('lexical'):.1f} ms) projected, plus the rest as at {b['size']:,} ({hybrid:.1f} - "
        f"{longer:.1f} = {rest:.1f} ms): **{max(projected('dense'), projected('lexical')) + rest:.1f} ms**.",
    ]


def join(args: argparse.Namespace) -> None:
    """Add the rows of another run (``--join`` its scale.json) to the results in --out, and write them again."""
    results = json.loads((args.out / "scale.json").read_text(encoding="utf-8"))
    other = json.loads(args.join.read_text(encoding="utf-8"))
    joined = {r["size"]: r for r in results["rows"]}
    for row in other["rows"]:
        joined[row["size"]] = {**row, "joined": other["environment"]}
    results["rows"] = [joined[size] for size in sorted(joined)]
    (args.out / "scale.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (args.out / "scale.md").write_text(
        markdown(results["rows"], results["encoder"], results["environment"]), encoding="utf-8"
    )
    (args.out / "scale.svg").write_text(svg(results["rows"]), encoding="utf-8")
    print((args.out / "scale.md").read_text(encoding="utf-8"))


def remeasure_queries(args: argparse.Namespace) -> None:
    results = json.loads((args.out / "scale.json").read_text(encoding="utf-8"))
    environment = f"{cpu()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start"
    print(environment, flush=True)
    for row in results["rows"]:
        if row["size"] in args.sizes:
            row["open"] = child(OPEN, str(args.work / f"index-{row['size']}"), str(args.work / "queries.json"))
            row["open"]["budget"] = child(
                BUDGET, str(args.work / f"index-{row['size']}"), str(args.work / "queries.json"), str(args.budget)
            )
            row["queries_remeasured"] = f"{time.strftime('%Y-%m-%d')}, {environment}"
            print(json.dumps(row["open"])[:300], flush=True)
    (args.out / "scale.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (args.out / "scale.md").write_text(
        markdown(results["rows"], results["encoder"], results["environment"]), encoding="utf-8"
    )
    (args.out / "scale.svg").write_text(svg(results["rows"]), encoding="utf-8")
    print((args.out / "scale.md").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/jisr-scale"))
    parser.add_argument("--queries", type=int, default=500, help="XQuAD Arabic questions asked of each size")
    parser.add_argument("--sample", type=int, default=64, help="recombined passages the real encoder is timed on")
    parser.add_argument(
        "--budget",
        type=float,
        default=2.0,
        help="GB of resident memory the index may hold in the memory budget run (besides the process's own)",
    )
    parser.add_argument(
        "--join",
        type=Path,
        default=None,
        metavar="SCALE_JSON",
        help="add the sizes of another run (its scale.json) to the results in --out, and write them again",
    )
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="re-measure only opening and querying, on the indexes a full run left in --work, "
        "keeping that run's build figures (after a change to the query path)",
    )
    args = parse(parser, RESULTS, sizes=[500], queries=20, sample=8)
    if args.join:
        return join(args)
    if args.queries_only:
        return remeasure_queries(args)
    args.work.mkdir(parents=True, exist_ok=True)
    pool = sentences()
    query_file = args.work / "queries.json"
    query_file.write_text(json.dumps(questions()[: args.queries], ensure_ascii=False), encoding="utf-8")
    sample = args.work / "sample.json"
    rng = np.random.default_rng(1)
    sample.write_text(
        json.dumps(
            [" ".join(pool[i] for i in rng.integers(0, len(pool), 4)) for _ in range(args.sample)], ensure_ascii=False
        ),
        encoding="utf-8",
    )
    environment = f"{cpu()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start"
    print(environment, flush=True)
    encoder = child(ENCODE, str(sample), str(query_file))
    print(f"real encoder: {encoder}", flush=True)
    rows = []
    for size in args.sizes:
        print(f"{size} passages", flush=True)
        rows.append(measure(size, args.work, pool, query_file, args.budget))
        print(json.dumps(rows[-1]), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scale.json").write_text(
            json.dumps({"environment": environment, "encoder": encoder, "rows": rows}, indent=1), encoding="utf-8"
        )
        (args.out / "scale.md").write_text(markdown(rows, encoder, environment), encoding="utf-8")
        (args.out / "scale.svg").write_text(svg(rows), encoding="utf-8")
    print((args.out / "scale.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
