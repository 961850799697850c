"""One settings layer: each setting read in one order (command line, JISR_* environment, TOML file, default),
validated with a message that says where the value came from, shown by `jisr config` and GET /api/settings."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from jisr import settings
from jisr.errors import ConfigError
from tests.conftest import ROOT, cli_imports, serving
from tests.test_cli import jisr

TOKEN = "a-test-token-of-32-characters-xx"


def _file(tmp_path, text: str):
    path = tmp_path / "jisr.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_line_wins_over_the_environment_over_the_file_over_the_default(tmp_path):
    path = _file(tmp_path, "queue_depth = 3\nqueue_wait = 5\ncache_bytes = '1MiB'\nwriter_nice = 4\n")
    env = {"JISR_QUEUE_DEPTH": "4", "JISR_QUEUE_WAIT": "6"}
    chosen = settings.load({"queue_depth": 5}, path, env)
    assert chosen.serve.queue_depth == 5 and chosen.sources["queue_depth"] == "command line"
    assert chosen.serve.queue_wait == 6.0 and chosen.sources["queue_wait"] == "env JISR_QUEUE_WAIT"
    assert chosen.search.cache_bytes == 2**20 and chosen.sources["cache_bytes"] == f"file {path}"
    assert chosen.serve.running_searches == 2 and "running_searches" not in chosen.sources
    assert chosen.describe()["running_searches"]["source"] == "default"
    assert settings.load(None, path, {}).serve.queue_depth == 3


def test_the_cli_fills_its_options_from_the_settings(tmp_path):
    from jisr import cli

    path = _file(tmp_path, "queue_wait = 7\nindex = 'from-file'\n")
    args = cli._parser().parse_args(["serve", "--queue-depth", "5", "--memory-budget", "2", "--config", str(path)])
    chosen = cli._settings(args)
    assert (args.queue_depth, args.queue_wait, args.index, args.port) == (5, 7.0, "from-file", 8000)
    assert args.memory_budget == 2 * 2**30  # a number alone on the command line is GB, as it always was
    assert chosen.sources["queue_depth"] == chosen.sources["memory_budget"] == "command line"
    args = cli._parser().parse_args(["serve", "--memory-budget", "512MiB", "--config", str(path)])
    assert cli._settings(args).search.memory_budget == 512 * 2**20


def test_sizes_take_units_and_one_setting_in_two_units_is_refused():
    assert settings.load(environ={"JISR_MEMORY_BUDGET": "4GB"}).search.memory_budget == 4 * 10**9
    assert settings.load(environ={"JISR_MEMORY_BUDGET_BYTES": "1048576"}).search.memory_budget == 2**20
    with pytest.raises(
        ConfigError, match="memory_budget is given twice.*JISR_MEMORY_BUDGET='4GB'.*JISR_MEMORY_BUDGET_BYTES='1048576'"
    ):
        settings.load(environ={"JISR_MEMORY_BUDGET": "4GB", "JISR_MEMORY_BUDGET_BYTES": "1048576"})


@pytest.mark.parametrize(
    "env,fragment",
    [
        ({"JISR_QUEUE_DEPTH": "many"}, "queue_depth from JISR_QUEUE_DEPTH='many': 'many' is not a whole number"),
        ({"JISR_RUNNING_SEARCHES": "0"}, "running_searches from JISR_RUNNING_SEARCHES='0': 0 is not from 1"),
        ({"JISR_QUEUE_WAIT": "nan"}, "queue_wait from JISR_QUEUE_WAIT='nan': nan is not from 0 to 600"),
        ({"JISR_CACHE_BYTES": "4 parsecs"}, "'4 parsecs' is not a size"),
        ({"JISR_DEVICE": "tpu"}, "'tpu' is not a device"),
        ({"JISR_API_TOKEN": "short-secret"}, "api_token from JISR_API_TOKEN: a token of 12 characters"),
    ],
)
def test_a_bad_value_in_the_environment_is_refused_naming_it(env, fragment):
    with pytest.raises(ConfigError) as refused:
        settings.load(environ=env)
    assert fragment in str(refused.value)
    assert "short-secret" not in str(refused.value)  # a secret is never repeated


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("queue_dept = 3\n", "unknown setting 'queue_dept': did you mean 'queue_depth'?"),
        ("queue_depth = 'eight'\n", "queue_depth in {path}: 'eight' is not a whole number"),
        ("port = 70000\n", "port in {path}: 70000 is not from 0 to 65535"),
        ("queue_depth = \n", "is not TOML"),
    ],
)
def test_a_bad_settings_file_is_refused_naming_the_file(tmp_path, text, fragment):
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        settings.load(None, path, {})
    assert fragment.format(path=path) in str(refused.value)


def test_jisr_config_shows_each_source_and_masks_secrets_without_loading_torch(tmp_path):
    _file(tmp_path, "queue_depth = 3\n")
    env = {"JISR_QUEUE_WAIT": "6", "MILVUS_TOKEN": "user:hunter2-hunter2", "JISR_API_TOKEN": TOKEN}
    out, heavy, code = cli_imports(["config", "--json"], cwd=tmp_path, env=env)
    assert code == 0 and heavy == [], out.stderr
    shown = json.loads(out.stdout)["settings"]
    assert shown["queue_depth"]["value"] == 3 and shown["queue_depth"]["source"] == f"file {settings.FILE}"
    assert shown["queue_wait"]["value"] == 6.0 and shown["queue_wait"]["source"] == "env JISR_QUEUE_WAIT"
    assert shown["running_searches"] == {
        "value": 2,
        "unit": "searches",
        "source": "default",
        "group": "serve",
        "env": ["JISR_RUNNING_SEARCHES"],
        "help": shown["running_searches"]["help"],
    }
    assert shown["milvus_token"]["value"] == shown["api_token"]["value"] == settings.MASK
    assert shown["read_token"]["value"] is None
    assert "hunter2" not in out.stdout and TOKEN not in out.stdout
    assert shown["memory_budget"]["env"] == ["JISR_MEMORY_BUDGET", "JISR_MEMORY_BUDGET_BYTES"]
    text = jisr("config", cwd=tmp_path, env=env)
    assert text.returncode == 0 and re.search(r"queue_depth = 3 \(searches\)\s+\[file jisr.toml\]", text.stdout)


def test_every_environment_variable_the_readme_names_is_a_setting():
    readme = "\n".join(
        path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    )  # and the docs'
    named = set(re.findall(r"\b(?:JISR|MILVUS)_[A-Z_]+\b", readme))
    known = {env for name in settings.names() for env in settings.env_names(name)}
    assert named and named <= known, named - known


@pytest.mark.parametrize(
    "env,fragment",
    [
        ({"JISR_MEMORY_BUDGET": "4GB", "JISR_MEMORY_BUDGET_BYTES": "100"}, "memory_budget is given twice"),
        ({"JISR_QUEUE_DEPTH": "-1"}, "queue_depth from JISR_QUEUE_DEPTH='-1': -1 is not from 0 to 1000"),
        (
            {"JISR_PASSAGE_PRECISION": "int7"},
            "passage_precision from JISR_PASSAGE_PRECISION='int7': 'int7' is not one of",
        ),
        (
            {"JISR_INDEX_TYPE": "hnsw"},
            "index_type from JISR_INDEX_TYPE='hnsw': 'hnsw' is not one of auto, flat, pq, ivf",
        ),
    ],
)
def test_the_cli_refuses_bad_settings_in_one_line(tmp_path, env, fragment):
    refused = jisr("config", cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [f"jisr: error: {refused.stderr.split(': error: ')[1].strip()}"]
    assert fragment in refused.stderr


def test_the_cli_refuses_a_bad_flag_as_argparse_does(tmp_path):
    refused = jisr("serve", "--index", str(tmp_path / "i"), "--memory-budget", "lots")
    assert refused.returncode == 2 and "--memory-budget: 'lots' is not a size" in refused.stderr


def test_no_module_but_the_settings_reads_the_environment():
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("search", "embeddings", "web")
        for path in (ROOT / folder).rglob("*.py")
        if path != ROOT / "search" / "settings.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "os.environ" in line or "getenv" in line
    ]
    assert found == []


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_running_server_shows_its_settings_to_the_write_token_only(tmp_path, monkeypatch):
    from jisr.web import create_app

    monkeypatch.setenv("JISR_QUEUE_WAIT", "3")
    app = create_app({"INDEX": str(tmp_path / "missing"), "API_TOKEN": TOKEN, "QUEUE_DEPTH": 4})
    with serving(app) as base:
        status, body = _get(base + "/api/settings", TOKEN)
        assert status == 200, body
        shown = json.loads(body)["settings"]
        assert shown["queue_depth"]["value"] == 4 and shown["queue_depth"]["source"] == "create_app config"
        assert shown["queue_wait"]["value"] == 3.0 and shown["queue_wait"]["source"] == "env JISR_QUEUE_WAIT"
        assert shown["api_token"]["value"] == settings.MASK and TOKEN.encode() not in body
        assert shown["index"]["value"] == str(tmp_path / "missing")
        for token, expected in ((None, 401), ("wrong-token-wrong-token", 403)):
            status, body = _get(base + "/api/settings", token)
            assert status == expected and json.loads(body)["message"], body
        status, body = _get(base + "/openapi.json")
        assert "/api/settings" in json.loads(body)["paths"]
    with serving(create_app({"INDEX": str(tmp_path / "missing")})) as base:  # no write token: no settings
        status, body = _get(base + "/api/settings", TOKEN)
        assert status == 403 and json.loads(body)["error"] == "writes_disabled"


def test_the_app_refuses_a_bad_config_value_naming_it(tmp_path):
    from jisr.web import create_app

    with pytest.raises(ConfigError, match="queue_depth from create_app config: -1 is not from 0 to 1000"):
        create_app({"INDEX": str(tmp_path / "missing"), "QUEUE_DEPTH": -1})


def test_the_build_options_take_their_defaults_and_knobs_from_the_build_settings(tmp_path):
    from jisr.index.options import BuildOptions, from_settings

    assert from_settings(settings.BuildSettings()) == BuildOptions()  # one default for each, written once
    path = _file(tmp_path, "segment_passages = 12\nsentence_precision = 'float32'\n")
    chosen = settings.load(
        {"index_type": "flat"},
        path,
        {"JISR_MAX_SMALL_SEGMENTS": "100", "JISR_RESCORED": "2", "JISR_MIN_FREE_DISK": "2GB"},
    )
    options = from_settings(chosen.build)
    assert options.min_free_disk == 2 * 10**9 and BuildOptions().min_free_disk == 0
    assert (options.index_type, options.segments.passages, options.segments.max_small) == ("flat", 12, 100)
    assert options.precision.sentences == "float32" and options.precision.passages == "int8"
    assert chosen.search.rescored == 2 and chosen.sources["max_small_segments"] == "env JISR_MAX_SMALL_SEGMENTS"


@pytest.mark.slow  # jisr build in a child process
def test_a_build_setting_in_the_environment_reaches_jisr_build(tmp_path, tiny_model_path):
    from tests.conftest import SEEDS, live_segments, more_passages

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "seed.txt").write_text(next(SEEDS.glob("*.txt")).read_text(encoding="utf-8"), encoding="utf-8")
    more_passages(corpus)
    built = jisr(
        "build",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        "--model",
        str(tiny_model_path),
        env={"JISR_SEGMENT_PASSAGES": "12", "JISR_MAX_SMALL_SEGMENTS": "100", "JISR_BATCH_PASSAGES": "12"},
    )
    assert built.returncode == 0, built.stderr
    assert len(live_segments(index)) > 1  # sealed at 12 passages, as the environment asked (default: 100,000)
    shown = json.loads(jisr("config", "--json", env={"JISR_SEGMENT_PASSAGES": "12"}).stdout)["settings"]
    assert (
        shown["segment_passages"]["value"] == 12 and shown["segment_passages"]["source"] == "env JISR_SEGMENT_PASSAGES"
    )
