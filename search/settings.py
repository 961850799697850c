"""Every setting of jisr in one place: one name, one default, one unit and one line of help each.

Settings used to be read from environment variables in many modules (some at import time), beside CLI
flags and constructor arguments, with defaults written twice and one setting in two units. Here each is a
field of a frozen dataclass, validated there, and read in one order, highest first: the command line,
``JISR_*`` environment variables, a TOML file (``--config FILE``, else ``./jisr.toml`` when present), the
default. Each value remembers where it came from, so ``jisr config`` and ``GET /api/settings`` can say.

This is the only module of the package that reads or writes ``os.environ``: the small functions at the end
serve the few process-wide variables other libraries read (OMP_NUM_THREADS, XDG_CACHE_HOME, Ray's).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jisr.errors import ConfigError

FILE = "jisr.toml"  # read from the current folder when no --config is given
DEFAULT = "default"
COMMAND_LINE = "command line"
DEVICES = ("auto", "cpu", "cuda")
MASK = "********"
INDEX_TYPES = ("auto", "flat", "pq", "ivf")  # a segment's vector index (jisr.index.local.ann)
COMPANIONS = ("auto", "use", "none")  # the companion encoder a build adds (jisr.embeddings.companion)
PRECISIONS = ("float32", "float16", "int8", "int6", "int4")  # how a segment stores vectors (jisr.index.local.vectors)
TOKEN_CHARACTERS = 16
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "k": 2**10,
    "m": 2**20,
    "g": 2**30,
}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*")


def _setting(
    default: Any,
    unit: str,
    help: str,
    *,
    kind: str = "str",
    env: tuple[str, ...] = (),
    low: float | None = None,
    high: float | None = None,
    secret: bool = False,
    flag: str | None = None,
    app_key: str | None = None,
    plain: tuple[int, str] | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A dataclass field with what the settings layer needs to know of it: ``env`` names (default
    ``JISR_<NAME>``), ``flag`` (the CLI option's dest), ``app_key`` (the Flask config key), ``plain``
    (for a size on the command line: what a number without a unit means, e.g. GB), ``choices`` (the values
    a text setting may take)."""
    return field(
        default=default,
        metadata={
            "unit": unit,
            "help": help,
            "kind": kind,
            "env": env,
            "low": low,
            "high": high,
            "secret": secret,
            "flag": flag,
            "app_key": app_key,
            "plain": plain,
            "choices": choices,
        },
    )


@dataclass(frozen=True)
class _Group:
    """Checks every field on construction: a value out of its range or of the wrong type is a ConfigError."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            problem = _problem(f, getattr(self, f.name))
            if problem:
                raise ConfigError(f"setting {f.name}: {problem}")


@dataclass(frozen=True)
class RuntimeSettings(_Group):
    """Where the index and the model are, and what runs the model."""

    index: str = _setting("index", "folder", "the index folder", flag="index", app_key="INDEX")
    model: str | None = _setting(
        None, "model", "the model an app reads its INDEX folder with (default: the index's own)", app_key="MODEL"
    )
    model_cache: str | None = _setting(
        None,
        "folder",
        "where the default model is converted and kept (default: $XDG_CACHE_HOME/jisr/models or ~/.cache/jisr/models)",
        flag="model_cache",
        app_key="MODEL_CACHE",
    )
    device: str = _setting(
        "auto",
        "device",
        "where the model runs: auto (a CUDA GPU when torch sees one, else the CPU), cpu, cuda or cuda:N",
        kind="device",
        flag="device",
    )
    milvus_uri: str | None = _setting(
        None,
        "URI",
        "the Milvus an index on Milvus lives on, when it is not Milvus Lite in the index folder",
        flag="milvus_uri",
        app_key="MILVUS_URI",
    )
    milvus_token: str | None = _setting(
        None,
        "secret",
        "Milvus credentials, user:password or an API key",
        env=("MILVUS_TOKEN",),
        secret=True,
        flag="milvus_token",
        app_key="MILVUS_TOKEN",
    )


@dataclass(frozen=True)
class SearchLimits(_Group):
    """What one search may cost, and what a process keeps for searches."""

    query_threads: int = _setting(1, "threads", "intra-op threads that encode queries", kind="int", low=1, high=1024)
    max_query_tokens: int = _setting(
        96, "tokens", "a query is cut at this many tokens (the answer says so)", kind="int", low=1, high=100_000
    )
    rescored: int = _setting(
        4,
        "x candidates",
        "dense proposals of all segments re-scored exactly, as a multiple of the candidates a query keeps",
        kind="int",
        low=1,
        high=1000,
    )
    cache_bytes: int = _setting(
        32 * 2**20,
        "bytes",
        "answers kept for repeated queries; 0 turns the cache off",
        kind="size",
        low=0,
        app_key="CACHE_BYTES",
    )
    memory_budget: int = _setting(
        0,
        "bytes",
        "resident memory a served index may hold: warmed within it and "
        "kept to (0: warm within half the free memory); e.g. 4GB, 512MiB",
        kind="size",
        low=0,
        env=("JISR_MEMORY_BUDGET", "JISR_MEMORY_BUDGET_BYTES"),
        flag="memory_budget",
        app_key="MEMORY_BUDGET",
        plain=(2**30, "GB"),
    )


@dataclass(frozen=True)
class ServeSettings(_Group):
    """The server: where it listens, how many searches it admits, the document API's limits and tokens."""

    host: str = _setting("127.0.0.1", "address", "the address the server listens on", flag="host")
    port: int = _setting(8000, "port", "TCP port (0: any free one)", kind="int", low=0, high=65535, flag="port")
    threads: int | None = _setting(
        None,
        "threads",
        "request threads of the WSGI server (default: running searches + queue depth + write requests + 4)",
        kind="int",
        low=1,
        high=1024,
        flag="threads",
    )
    running_searches: int = _setting(
        2,
        "searches",
        "searches run at once: one encodes while the other ranks",
        kind="int",
        low=1,
        high=1024,
        app_key="RUNNING_SEARCHES",
    )
    queue_depth: int = _setting(
        8,
        "searches",
        "searches that may wait for the encoder; more are refused with 503",
        kind="int",
        low=0,
        high=1000,
        flag="queue_depth",
        app_key="QUEUE_DEPTH",
    )
    queue_wait: float = _setting(
        2.0,
        "seconds",
        "how long a search may wait for the encoder before a 503",
        kind="seconds",
        low=0,
        high=600,
        flag="queue_wait",
        app_key="QUEUE_WAIT",
    )
    request_timeout: float = _setting(
        10.0,
        "seconds",
        "a silent or incomplete connection is closed after this",
        kind="seconds",
        low=0.1,
        high=3600,
        flag="request_timeout",
    )
    max_body_bytes: int = _setting(
        64 * 2**10,
        "bytes",
        "largest search request body (413 over it)",
        kind="size",
        low=1,
        app_key="MAX_CONTENT_LENGTH",
    )
    max_document_bytes: int = _setting(
        16 * 2**20,
        "bytes",
        "largest document or bulk load body (413 over it)",
        kind="size",
        low=1,
        app_key="MAX_DOCUMENT_BYTES",
    )
    write_requests: int = _setting(
        8,
        "requests",
        "write requests waiting for their commit at once; more get 503",
        kind="int",
        low=1,
        high=100_000,
        app_key="WRITE_REQUESTS",
    )
    commit_interval: float = _setting(
        1.0,
        "seconds",
        "writes arriving within this time share one commit",
        kind="seconds",
        low=0,
        high=3600,
        flag="commit_interval",
        app_key="COMMIT_INTERVAL",
    )
    bulk_commit_documents: int = _setting(
        1000,
        "documents",
        "most documents one commit takes: a bulk load is "
        "committed in parts of at most this many, other writes in between",
        kind="int",
        low=1,
        high=10**6,
        app_key="BULK_COMMIT_DOCUMENTS",
    )
    bulk_commit_seconds: float = _setting(
        10.0,
        "seconds",
        "a bulk load's parts are sized from its last commit's "
        "pace to take about this long each (at most bulk_commit_documents)",
        kind="seconds",
        low=0.1,
        high=3600,
        app_key="BULK_COMMIT_SECONDS",
    )
    bulk_max_lines: int = _setting(
        100_000,
        "lines",
        "most lines one bulk load (POST /api/documents) may hold; 413 over it",
        kind="int",
        low=1,
        high=10**7,
        app_key="BULK_MAX_LINES",
    )
    writer_lock_wait: float = _setting(
        120.0,
        "seconds",
        "how long a commit of API writes, or `jisr build`, waits "
        "for the index's lock while another build holds it; then the writes get "
        "503, the build its one-line error",
        kind="seconds",
        low=0,
        high=86400,
        flag="writer_lock_wait",
        app_key="WRITER_LOCK_WAIT",
    )
    writer_nice: int = _setting(
        10, "niceness", "CPU priority of the thread that commits writes: searches first", kind="int", low=-20, high=19
    )
    api_token: str | None = _setting(
        None,
        "secret",
        "the token writes need (turns the document API on); or --api-token-file FILE",
        kind="token",
        secret=True,
        app_key="API_TOKEN",
    )
    read_token: str | None = _setting(
        None,
        "secret",
        "a token searches and pages need too (default: reads are open); or --read-token-file FILE",
        kind="token",
        secret=True,
        app_key="READ_TOKEN",
    )
    serve_files: bool = _setting(
        False,
        "on/off",
        "the document view offers each document's original file",
        kind="bool",
        flag="serve_files",
        app_key="SERVE_FILES",
    )
    snapshot_keep: int = _setting(
        5,
        "snapshots",
        "snapshots POST /api/snapshots keeps in INDEX/snapshots/: the oldest beyond these are removed",
        kind="int",
        low=1,
        high=10_000,
        app_key="SNAPSHOT_KEEP",
    )
    watch: bool = _setting(
        False, "on/off", "index files of the corpus folder as they change", kind="bool", flag="watch"
    )


@dataclass(frozen=True)
class BuildSettings(_Group):
    """How a build makes an index (:class:`jisr.index.options.BuildOptions`): the knobs a deployment sets once. What
    belongs to one corpus (its folder, its records' fields, following links out of it) stays the build's arguments.
    The inflation limits are the file readers' (:mod:`jisr.corpus.readers.archives`): builds and uploads share them."""

    index_type: str = _setting(
        "auto",
        "kind",
        "vector index of each segment: auto (exact search in small segments, "
        "PQ fast-scan codes re-scored exactly above), flat (always exact), pq, or ivf (8-bit "
        "codes; on Milvus its IVF_SQ8)",
        choices=INDEX_TYPES,
        flag="index_type",
    )
    companion: str = _setting(
        "auto",
        "encoder",
        "a second encoder hybrid ranks queries not in Arabic by too: use "
        "(Google's multilingual USE v3), none, or auto (use, except none on Milvus)",
        choices=COMPANIONS,
        flag="companion",
    )
    batch_passages: int = _setting(
        1024,
        "passages",
        "passages chunked, embedded and written together: what a killed build can lose",
        kind="int",
        low=1,
        high=10**7,
    )
    segment_passages: int = _setting(
        100_000,
        "passages",
        "a segment is sealed at this many passages; those under half of it count as small",
        kind="int",
        low=1,
        high=10**9,
    )
    max_small_segments: int = _setting(
        8, "segments", "more small segments than this are merged into one", kind="int", low=0, high=10**6
    )
    pq_min: int = _setting(
        39 * 16,
        "passages",
        "a segment with fewer passages is searched exactly rather than with "
        "PQ codes (FAISS wants 39 training points for each of a sub-quantizer's 16 centroids)",
        kind="int",
        low=1,
        high=10**9,
    )
    passage_precision: str = _setting("int8", "format", "how passage vectors are stored", choices=PRECISIONS)
    sentence_precision: str = _setting("int6", "format", "how sentence vectors are stored", choices=PRECISIONS)
    companion_precision: str = _setting(
        "int6", "format", "how a companion's passage vectors are stored", choices=PRECISIONS
    )
    min_free_disk: int = _setting(
        0,
        "bytes",
        "disk space a build leaves free beside the index it writes: it refuses "
        "to start with less (0: only the index must fit); e.g. 2GB",
        kind="size",
        low=0,
    )
    max_inflated_bytes: int = _setting(
        128 * 2**20,
        "bytes",
        "a compressed file (.docx) read by a build or sent to "
        "the document API may inflate to this much in all, or it is skipped (a 413): "
        "a zip bomb must not take the memory",
        kind="size",
        low=1,
    )
    max_inflation_ratio: int = _setting(
        100,
        "x",
        "a member of a compressed file may inflate to this many times its "
        "compressed size (past its first MiB), or the file is skipped (a 413)",
        kind="int",
        low=1,
        high=10**6,
    )


GROUPS = {"runtime": RuntimeSettings, "search": SearchLimits, "serve": ServeSettings, "build": BuildSettings}
_FIELDS = {f.name: (group, f) for group, cls in GROUPS.items() for f in dataclasses.fields(cls)}


@dataclass(frozen=True)
class Settings:
    """The effective settings, by group, and where each came from (``sources``: name -> description)."""

    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    search: SearchLimits = field(default_factory=SearchLimits)
    serve: ServeSettings = field(default_factory=ServeSettings)
    build: BuildSettings = field(default_factory=BuildSettings)
    sources: Mapping[str, str] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        return getattr(getattr(self, _FIELDS[name][0]), name)

    def but(self, values: Mapping[str, Any], source: str) -> Settings:
        """These settings with ``values`` (name -> value, validated) from ``source``."""
        if not values:
            return self
        chosen = {name: self.value(name) for name in _FIELDS}
        sources = dict(self.sources)
        for name, value in values.items():  # None: the setting's default
            value = default(name) if value is None else value
            chosen[name] = convert(name, value, f"{name} from {source}")
            sources[name] = source
        return _make(chosen, sources)

    def app_config(self) -> dict[str, Any]:
        """The Flask config keys the web app reads, filled from these settings (the one place that does)."""
        return {key: self.value(name) for name, key in app_keys().items()}

    def describe(self) -> dict[str, dict[str, Any]]:
        """Every setting with its value (secrets masked), unit, source, environment variables and help."""
        out = {}
        for name, (group, f) in _FIELDS.items():
            value = self.value(name)
            out[name] = {
                "value": MASK if f.metadata["secret"] and value else value,
                "unit": f.metadata["unit"],
                "source": self.sources.get(name, DEFAULT),
                "group": group,
                "env": list(env_names(name)),
                "help": f.metadata["help"],
            }
        return out


def names() -> list[str]:
    """Every setting's name, in the order ``jisr config`` shows them."""
    return list(_FIELDS)


def env_names(name: str) -> tuple[str, ...]:
    """The environment variables a setting is read from."""
    return _FIELDS[name][1].metadata["env"] or (f"JISR_{name.upper()}",)


def app_keys() -> dict[str, str]:
    """The Flask config key of each setting the web app reads, by setting name."""
    return {name: f.metadata["app_key"] for name, (_, f) in _FIELDS.items() if f.metadata["app_key"]}


def flags() -> dict[str, str]:
    """Setting name by the CLI option's dest that gives it."""
    return {f.metadata["flag"]: name for name, (_, f) in _FIELDS.items() if f.metadata["flag"]}


def default(name: str) -> Any:
    """A setting's default, for code that is handed no value."""
    return _FIELDS[name][1].default


def help_text(name: str) -> str:
    """A setting's line of help with its default and environment variable, for ``--help``."""
    f = _FIELDS[name][1]
    shown = "" if f.default is None else f"default {_shown(f.default, f.metadata['unit'])}, "
    return f"{f.metadata['help']} ({shown}{' or '.join('$' + e for e in env_names(name))})"


def _shown(value: Any, unit: str) -> str:
    if unit == "bytes" and isinstance(value, int) and value:
        for size, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value % size == 0:
                return f"{value // size} {suffix}"
    return f"{value:g} s" if unit == "seconds" else str(value)


def _problem(f: dataclasses.Field, value: Any) -> str | None:
    """Why ``value`` cannot be the setting ``f``, or None."""
    kind, low, high = f.metadata["kind"], f.metadata["low"], f.metadata["high"]
    if value is None:
        return None if f.default is None else "needs a value"
    if kind == "bool":
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if kind in ("int", "size") and (not isinstance(value, int) or isinstance(value, bool)):
        return f"{value!r} is not a whole number"
    if kind == "seconds" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return f"{value!r} is not a number of seconds"
    if kind in ("int", "size", "seconds"):
        if not (low is None or value >= low) or not (high is None or value <= high) or math.isnan(value):
            return f"{value} is not from {low} to {high}" if high is not None else f"{value} is less than {low}"
        return None
    if not isinstance(value, str):
        return f"{value!r} is not text"
    if kind == "device" and value not in DEVICES and not re.fullmatch(r"cuda:[0-9]+", value):
        return f"{value!r} is not a device: choose one of {', '.join(DEVICES)} (or cuda:N)"
    if f.metadata["choices"] and value not in f.metadata["choices"]:
        return f"{value!r} is not one of {', '.join(f.metadata['choices'])}"
    if kind == "token" and len(value) < TOKEN_CHARACTERS:
        return (
            f"a token of {len(value)} characters; use at least {TOKEN_CHARACTERS}, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe())'`"
        )
    return None


def parse_size(text: str, plain: int = 1) -> int:
    """Bytes of a size such as ``4GB``, ``512MiB`` or ``1048576``; a number without a unit is ``plain`` bytes
    each. ValueError saying why not."""
    match = _SIZE.fullmatch(text)
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (a number of bytes, or with a unit: 512MiB, 4GB)")
    return int(float(match.group(1)) * (_UNITS[unit] if unit else plain))


def convert(name: str, value: Any, where: str, plain: bool = False) -> Any:
    """``value`` (text from the environment or a flag, or a file's TOML value) as the setting ``name``
    holds it, validated; ConfigError naming the setting and ``where`` it came from. ``plain``: a bare
    number is in the flag's unit (``--memory-budget 4`` is in GB, as it always was)."""
    f = _FIELDS[name][1]
    kind = f.metadata["kind"]
    value = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(value, str):
        text = value.strip()
        try:
            if kind == "int":
                value = int(text)
            elif kind == "seconds":
                value = float(text)
            elif kind == "size":
                scale = f.metadata["plain"][0] if plain and f.metadata["plain"] else 1
                value = parse_size(text, scale)
            elif kind == "bool":
                value = {
                    "1": True,
                    "true": True,
                    "yes": True,
                    "on": True,
                    "0": False,
                    "false": False,
                    "no": False,
                    "off": False,
                }[text.lower()]
            elif text == "" and f.default is None:
                value = None
            else:
                value = text
        except ValueError as exc:
            what = {"int": "a whole number", "seconds": "a number of seconds"}.get(kind)
            raise ConfigError(f"{where}: " + (f"{text!r} is not {what}" if what else str(exc))) from None
        except KeyError:
            raise ConfigError(f"{where}: {text!r} is not true or false") from None
    elif kind == "seconds" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    problem = _problem(f, value)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return value


def cli_type(name: str):
    """An argparse ``type`` for the setting's flag: the same checks, answered as argparse answers (exit 2)."""
    import argparse

    def parse(text: str) -> Any:
        try:
            return convert(name, text, "", plain=True)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None

    return parse


def _make(values: Mapping[str, Any], sources: Mapping[str, str]) -> Settings:
    groups = {group: cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)}) for group, cls in GROUPS.items()}
    return Settings(**groups, sources=dict(sources))


def read_file(path: str | os.PathLike) -> dict[str, Any]:
    """A settings file's values by setting name; ConfigError for a file that cannot be read or an unknown key."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the settings file {path} is not TOML: {exc}") from None
    for key in table:
        if key not in _FIELDS:
            near = difflib.get_close_matches(key, list(_FIELDS), n=1)
            raise ConfigError(
                f"the settings file {path} names an unknown setting {key!r}"
                + (f": did you mean {near[0]!r}?" if near else "; `jisr config` lists them")
            )
    return table


def load(
    cli: Mapping[str, Any] | None = None,
    config_file: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    cli_sources: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings: ``cli`` (name -> value; None: not given) over the environment over the file
    (``config_file``, else ./jisr.toml if present) over the defaults. ``cli_sources``: how a command-line
    value was given, when not by its own flag (``--api-token-file FILE``)."""
    environ = os.environ if environ is None else environ
    values = {name: f.default for name, (_, f) in _FIELDS.items()}
    sources: dict[str, str] = {}
    path = config_file if config_file is not None else (FILE if os.path.isfile(FILE) else None)
    if path is not None:
        for name, value in read_file(path).items():
            values[name] = convert(name, value, f"{name} in {path}")
            sources[name] = f"file {path}"
    for name in _FIELDS:
        given = [(env, environ[env]) for env in env_names(name) if environ.get(env, "").strip()]
        if len(given) > 1:
            raise ConfigError(
                f"{name} is given twice, in different units: "
                + " and ".join(f"{env}={text!r}" for env, text in given)
                + "; set one of them"
            )
        if given:
            env, text = given[0]
            shown = env if _FIELDS[name][1].metadata["secret"] else f"{env}={text!r}"
            values[name] = convert(name, text, f"{name} from {shown}")
            sources[name] = f"env {env}"
    for name, value in (cli or {}).items():
        if value is not None:
            where = (cli_sources or {}).get(name, COMMAND_LINE)
            values[name] = convert(name, value, f"{name} from the {where}")
            sources[name] = where
    return _make(values, sources)  # each value was checked where it was read, so its message names its source


def read_token_file(path: str | os.PathLike) -> str:
    """The token a file holds (its first line), or ConfigError saying why the file cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the token file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return text.strip().splitlines()[0].strip() if text.strip() else ""


_installed: list[Settings] = []


def current() -> Settings:
    """The settings of this process: those the running command installed, else read now from the environment
    and ./jisr.toml (so a library user's environment counts, read when it is needed, not at import)."""
    return _installed[-1] if _installed else load()


@contextlib.contextmanager
def installed(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` what :func:`current` returns while the block runs (the CLI's command)."""
    _installed.append(settings)
    try:
        yield settings
    finally:
        _installed.remove(settings)


# The process environment other libraries read: named here so no other module touches os.environ.


def user_set_threads() -> bool:
    """Whether the user chose torch's thread count with OMP_NUM_THREADS (then jisr leaves it alone)."""
    return bool(os.environ.get("OMP_NUM_THREADS"))


def user_cache_home() -> Path:
    """The user's cache folder: $XDG_CACHE_HOME, else ~/.cache."""
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"))


def tell_child_library(name: str, value: str) -> None:
    """Set a variable that a library reads from the environment when it is imported (Ray's, before it is)."""
    os.environ[name] = value
