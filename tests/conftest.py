"""Shared fixtures: a tiny model the tests build, the real default model, a seed index, a real server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def print_to_pdf(page: str, pdf: Path, header_footer: bool = False) -> Path:
    """``page`` (HTML) printed to ``pdf`` by headless Chromium, as a user's browser would save it;
    ``header_footer``: with the browser's running header (date, title) and footer (address, page count)."""
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (the README's test command does)")
    source = pdf.with_suffix(".source.html")
    source.write_text(page, encoding="utf-8")
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            *([] if header_footer else ["--no-pdf-header-footer"]),
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--print-to-pdf={pdf}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    source.unlink()
    return pdf


def word_counts(texts: list[str]) -> list[int]:
    """A stand-in token counter for chunking tests: words plus the two special tokens a model adds."""
    return [len(text.split()) + 2 for text in texts]


def more_passages(corpus: Path, files: int = 6, paragraphs: int = 8) -> None:
    """Add ``files`` short Arabic documents of ``paragraphs`` passages each: a corpus past the seeds' 10 passages."""
    for i in range(files):
        (corpus / f"extra{i}.txt").write_text(
            "\n\n".join(f"فقرة رقم {i} {j} عن موضوع مختلف في الأخبار والسياسة والرياضة" for j in range(paragraphs)),
            encoding="utf-8",
        )


def build_tiny_model(path: Path, prompts: dict | None = None, max_seq_length: int = 64, windowed: bool = False):
    """A random 2-layer BERT with a Unigram tokenizer trained on the seed text, saved as sentence-transformers."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from jisr.embeddings.windowed import WindowedTransformer

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    lines = [line for p in SEEDS.glob("*.txt") for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    tok.train_from_iterator(lines, trainers.UnigramTrainer(vocab_size=400, special_tokens=specials, unk_token="<unk>"))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    hf_dir = path / "hf"
    PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=max_seq_length,
    ).save_pretrained(hf_dir)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_seq_length,
        pad_token_id=1,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(hf_dir)
    first = WindowedTransformer(str(hf_dir)) if windowed else Transformer(str(hf_dir))
    model = SentenceTransformer(
        modules=[first, Pooling(32, pooling_mode="mean"), Normalize()], prompts=prompts or {}, device="cpu"
    )
    model.save(str(path / "st"))
    return path / "st"


# The fixtures that load or serve the default model: a test that asks for one is marked default_model.
DEFAULT_MODEL_FIXTURES = {"default_model", "seed_index", "seed_searcher", "server"}
# What each marker of pyproject.toml needs; any of them makes a test slow, so `-m "not slow"` skips them all.
SLOW_MARKERS = ("browser", "milvus", "ray", "default_model", "benchmark", "root")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark from the fixtures a test asks for, where a mark written by hand could be forgotten: the fast
    loop (`pytest -m "not slow"`) must not load the default model because one new test forgot its mark."""
    for item in items:
        if DEFAULT_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.default_model)
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny"), prompts={"query": "q: ", "document": "d: "}, max_seq_length=512
    )


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path):
    from jisr.embeddings import load_model

    return load_model(str(tiny_model_path))


@pytest.fixture(scope="session")
def model_cache() -> str:
    """Where the default model is converted: the user's cache unless JISR_MODEL_CACHE says otherwise."""
    from jisr.embeddings.default_model import cache_root

    return str(cache_root())


@pytest.fixture(scope="session")
def default_model(model_cache):
    from jisr.embeddings import load_model

    return load_model(cache_dir=model_cache)


@pytest.fixture(scope="session")
def use():
    """USE v3 from its installed package: the companion `jisr build` uses by default (the same object)."""
    from jisr.embeddings import companion

    return companion.load("use")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, default_model, use) -> Path:
    """The seeds built as `jisr build` builds them: the default model with its default companion."""
    from jisr.index.build import build

    index_dir = tmp_path_factory.mktemp("seed-index") / "index"
    build(SEEDS, index_dir, default_model)
    return index_dir


@pytest.fixture(scope="session")
def seed_searcher(seed_index, default_model, use):
    from jisr.answers.searcher import Searcher

    return Searcher.open(seed_index, default_model, companion=use)


_IMPORTS_AFTER = """
import sys
from jisr import cli
try:
    code = cli.main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "faiss", "ray") if m in sys.modules)
print("HEAVY", ",".join(heavy), "CODE", code, file=sys.stderr)
"""


def cli_imports(args: list[str], cwd: Path = ROOT, env: dict | None = None):
    """Run `jisr ARGS` in this interpreter's environment; return (the process, the heavy libraries it had
    imported by the end: torch, sentence-transformers, transformers, FAISS, Ray; and its exit code)."""
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS_AFTER, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    last = out.stderr.strip().splitlines()[-1].split()
    assert last[0] == "HEAVY", out.stderr
    heavy = last[1].split(",") if last[1] != "CODE" else []
    return out, heavy, int(last[-1])


# How long a test waits for an event (a file, a line, a port, an exit) before it calls the wait a hang.
# Tests wait for events, not for a number of seconds: this bound is never what a slow machine meets.
HANG = 600.0


def wait_until(predicate, what: str, proc: subprocess.Popen | None = None, timeout: float = HANG) -> None:
    """Poll ``predicate`` until it holds; fail at once if ``proc`` exits first, or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process exited ({proc.returncode}) before {what}")
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f} s"
        time.sleep(0.05)


def _interruptible() -> None:
    """Ctrl-C reaches the child as it reaches a program run in a terminal. A test run started with SIGINT
    ignored (a background job of a non-interactive shell, some CI runners) hands that on to its
    children, and Python then never raises KeyboardInterrupt in them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` for a child that a test stops with a signal (see :func:`_interruptible`)."""
    return subprocess.Popen(args, preexec_fn=_interruptible, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = HANG) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


@pytest.fixture(scope="session")
def server(seed_index, model_cache):
    """`jisr serve` in its own process, on a free loopback port, over the seed index."""
    port = free_port()
    env = {**os.environ, "JISR_MODEL_CACHE": model_cache}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jisr.cli", "serve", "--index", str(seed_index), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=HANG)


def live_segments(index: Path) -> list[str]:
    """Names of the segments the index's live commit names."""
    from jisr.index import commit as commits

    return sorted(e["name"] for e in json.loads(commits.current_commit(index).read_text())["segments"])


def segments_on_disk(index: Path) -> list[str]:
    return sorted(p.name for p in (index / "segments").iterdir())


@contextmanager
def serving(app):
    """``app`` on waitress in a thread of this process, on a free loopback port; stopped cleanly after."""
    import waitress.server
    from waitress import wasyncore

    port = free_port()
    srv = waitress.server.create_server(app, host="127.0.0.1", port=port, threads=4)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=srv._map, use_poll=True, count=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(10)
        srv.task_dispatcher.shutdown(timeout=5)
        srv.close()
