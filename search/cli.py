"""The `jisr` command: build an index, search it, serve it, measure it."""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

DEFAULT_CORPUS = "seeds"
DEFAULT_INDEX = os.environ.get("JISR_INDEX", "index")


def _add_model_options(p: argparse.ArgumentParser, model_help: str) -> None:
    p.add_argument("--model", default=None, help=model_help)
    p.add_argument("--model-cache", default=None, metavar="DIR",
                   help="where the default model is converted and kept (default $JISR_MODEL_CACHE or ~/.cache/jisr/models)")


def _parser() -> argparse.ArgumentParser:
    from search.searcher import DEFAULT_MODE, LANGS, MAX_K, MODES
    from search.store import INDEX_TYPES

    parser = argparse.ArgumentParser(prog="jisr", description="Ask in English or Arabic, get ranked Arabic passages.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build or update the index of a corpus folder")
    b.add_argument("--corpus", default=DEFAULT_CORPUS, help="folder of .txt/.md files (default: seeds)")
    b.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: ./index or $JISR_INDEX)")
    b.add_argument("--index-type", default="flat", choices=list(INDEX_TYPES),
                   help="flat: exact; hnsw: approximate, for large corpora")
    _add_model_options(b, "sentence-transformers model id or path (default: multilingual-e5-small, offline)")

    s = sub.add_parser("search", help="search the index")
    s.add_argument("query")
    s.add_argument("--index", default=DEFAULT_INDEX)
    s.add_argument("-k", type=int, default=10, help=f"number of results, 1..{MAX_K} (default 10)")
    s.add_argument("--lang", default="ar", choices=LANGS, help="ar: Arabic passages only (default); any: all")
    s.add_argument("--mode", default=DEFAULT_MODE, choices=MODES, help=f"ranking (default {DEFAULT_MODE})")
    s.add_argument("--json", action="store_true", help="print the same JSON as the API")
    _add_model_options(s, "model to read the query with (default: the one the index was built with)")

    v = sub.add_parser("serve", help="serve the web page and JSON API")
    v.add_argument("--index", default=DEFAULT_INDEX)
    v.add_argument("--corpus", default=DEFAULT_CORPUS, help="folder indexed first if there is no index yet")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--threads", type=int, default=8, help="request threads of the WSGI server")
    _add_model_options(v, "model (default: the one the index was built with)")

    e = sub.add_parser("eval", help="measure retrieval quality on a labeled set")
    e.add_argument("--xquad", nargs="+", metavar="FILE", help="SQuAD/XQuAD JSON files: the first one's paragraphs "
                   "are the corpus, each file's questions are queries (ids shared across languages)")
    e.add_argument("--corpus", help="corpus folder, with --queries")
    e.add_argument("--queries", help="JSONL of {\"query\": ..., \"relevant\": [texts]}, with --corpus")
    e.add_argument("--mode", nargs="+", default=[DEFAULT_MODE], choices=MODES, help="ranking modes to measure")
    e.add_argument("--split", choices=["all", "tune", "test"], default="all",
                   help="XQuAD articles: all, the tuning half, or the held-out half")
    e.add_argument("--work-dir", default=None, help="where the evaluation index is built (default: a temp dir)")
    e.add_argument("--json", action="store_true")
    _add_model_options(e, "model to evaluate (default: multilingual-e5-small)")
    return parser


def _print_results(response: dict) -> None:
    results = response["results"]
    if not results:
        print("no results")
        return
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("«", "»")
    for r in results:
        print(f"{r['rank']:>2}. [{r['score']:.3f}] {r['title']}  ({r['source']} #{r['ordinal']})")
        a, b = r["highlight"]["start"], r["highlight"]["end"]
        text = r["text"][:a] + bold + r["text"][a:b] + plain + r["text"][b:]
        print(textwrap.indent(textwrap.fill(" ".join(text.split()), width=100), "    "))
    print(f"({len(results)} results, {response['took_ms']:.0f} ms, model {response['model']}, mode {response['mode']})")


def _build(args) -> int:
    from embeddings import load_model
    from search.build import build

    model = load_model(args.model, cache_dir=args.model_cache)
    report = build(args.corpus, args.index, model, index_type=args.index_type, progress=sys.stderr.isatty())
    for s in report.skipped:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    rate = report.embedded / report.seconds if report.seconds else 0.0
    print(f"indexed {report.documents} documents into {report.passages} passages ({report.sentences} sentences) "
          f"at {report.index_dir} in {report.seconds:.1f} s: {report.embedded} texts embedded ({rate:.1f}/s), "
          f"{report.reused} reused, {len(report.skipped)} files skipped")
    return 0


def _search(args) -> int:
    from search.searcher import Searcher

    searcher = Searcher.open(args.index, args.model, model_cache=args.model_cache)
    response = searcher.search(args.query, k=args.k, lang=args.lang, mode=args.mode)
    if args.json:
        print(json.dumps(response, ensure_ascii=False, indent=2))
    else:
        _print_results(response)
    return 0


def _serve(args) -> int:
    import waitress

    from search import store
    from search.searcher import Searcher
    from web import create_app

    if not store.exists(args.index):
        print(f"no index at {args.index}: building it from {args.corpus} first", file=sys.stderr)
        args.index_type = "flat"
        _build(args)
    searcher = Searcher.open(args.index, args.model, model_cache=args.model_cache)
    app = create_app({"SEARCHER": searcher})
    print(f"serving {searcher.size} passages with {searcher.model_name} on http://{args.host}:{args.port}/",
          file=sys.stderr, flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="jisr")
    return 0


def _eval(args) -> int:
    from search.evaluate import run_cli

    return run_cli(args)


def main(argv: list[str] | None = None) -> int:
    from embeddings import ModelError
    from search.build import BuildError
    from search.evaluate import EvalError
    from search.searcher import QueryError
    from search.store import IndexUnavailable

    args = _parser().parse_args(argv)
    try:
        return {"build": _build, "search": _search, "serve": _serve, "eval": _eval}[args.command](args)
    except (ModelError, BuildError, EvalError, QueryError, IndexUnavailable) as exc:
        print(f"jisr: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("jisr: interrupted (any existing index is unchanged)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
