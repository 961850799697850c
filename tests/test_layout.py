"""The house shows the flow: one import package, stages that import only earlier stages, no circle.

Stages in the order data flows: what every stage shares (errors, settings, Arabic text helpers, the weights,
durable writes), corpus -> passages -> embeddings -> index -> answers, and on top the API, eval, the CLI and the web
app. Imports inside functions count as much as those at the top of a file: a lazy import is still a
dependency."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import tomllib
from pathlib import Path

from tests.conftest import ROOT

FOLDERS = {"jisr": ROOT / "search", "jisr.embeddings": ROOT / "embeddings", "jisr.web": ROOT / "web"}
STAGES = [  # (stage, module name prefixes), earliest first
    ("shared", ("jisr.errors", "jisr.settings", "jisr.arabic", "jisr.weights", "jisr.durable")),
    ("corpus", ("jisr.corpus",)),
    ("passages", ("jisr.passages",)),
    ("embeddings", ("jisr.embeddings",)),
    ("index", ("jisr.index",)),
    ("answers", ("jisr.answers",)),
    ("on top", ("jisr.api", "jisr.evaluate", "jisr.cli", "jisr.web", "jisr")),
]


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name, from the folders pyproject maps to it."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if package == "jisr" and parts[0] in ("embeddings", "web"):
                continue
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (at its top or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):  # not its own package
                out.add(target)
    return out


def stage(name: str) -> int:
    return next(
        i for i, (_, prefixes) in enumerate(STAGES) if any(name == p or name.startswith(p + ".") for p in prefixes)
    )


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_no_module_imports_a_later_stage():
    later = [(a, b) for a, targets in graph().items() for b in targets if b != "jisr" and stage(b) > stage(a)]
    assert later == [], later


def test_no_import_circle():
    edges = {a: {b for b in targets if b != "jisr"} for a, targets in graph().items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join(path[path.index(nxt) :] + [nxt]) if nxt in path else nxt)
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


STORES = ("jisr.index.local", "jisr.index.milvus")  # the two stores
FACTORY = "jisr.index.stores"  # the one module that picks a store


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def store_leaks(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, store module) for every import of a store's module from outside the stores and the factory."""
    return sorted(
        (a, b)
        for a, targets in edges.items()
        for b in targets
        if _within(b, STORES) and not _within(a, STORES + (FACTORY,))
    )


def test_only_the_store_factory_imports_a_store():
    """The stores are sealed: everything else reaches them through jisr.index.stores and the types of
    jisr.index.contract, so a third store, or a change inside one, touches no caller."""
    assert store_leaks(graph()) == []


def test_a_store_leak_is_caught(tmp_path):
    """The check above can fail: a module of the ranking that imports a store inside a function is a leak."""
    leaky = tmp_path / "leaky.py"
    leaky.write_text("def f():\n    from jisr.index.milvus.store import LITE\n    return LITE\n", encoding="utf-8")
    found = modules()
    edges = {**graph(), "jisr.answers.leaky": imports("jisr.answers.leaky", leaky, set(found))}
    assert store_leaks(edges) == [("jisr.answers.leaky", "jisr.index.milvus.store")]


def test_the_distribution_installs_one_package_with_every_folder_of_code():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = {name for name in modules() if (modules()[name].name == "__init__.py")}
    assert set(config["packages"]) == packages  # a new stage folder is shipped, or this fails
    assert {p.split(".")[0] for p in config["packages"]} == {"jisr"}
    assert config["package-dir"] == {"jisr": "search", "jisr.embeddings": "embeddings", "jisr.web": "web"}


def test_no_code_imports_the_folders_by_their_own_names():
    """search, embeddings and web are folders here, not import names: code that imports them so would load a
    second copy of a module (or someone else's package called embeddings)."""
    for path in [
        *ROOT.glob("search/**/*.py"),
        *ROOT.glob("embeddings/*.py"),
        *ROOT.glob("web/*.py"),
        *ROOT.glob("tests/*.py"),
        *ROOT.glob("benchmarks/**/*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else []
            )
            assert not any(n.split(".")[0] in ("search", "embeddings", "web") for n in names), (path, names)


def test_no_module_shadows_a_name_the_package_exports():
    """``jisr.build`` is the build function: a submodule ``jisr/build.py`` would replace it with a
    module once anything imported that submodule (CI failed on exactly that under the old layout)."""
    import jisr

    top = {name.split(".")[1] for name in modules() if name.count(".") >= 1}
    assert not top & set(jisr.__all__)
    import jisr.index.build  # noqa: F401  (the build module, under its stage)

    assert callable(jisr.build) and isinstance(jisr.Index, type)


# Third-party modules a test may patch: stand-ins for hardware or a toolchain this machine may lack.
PATCHABLE_MODULES = {"torch.cuda", "torch.onnx"}


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # the parent is a module, not a package: ``name`` is one of its names
        return False


def _bound_modules(tree: ast.AST, names: set[str]) -> dict[str, str]:
    """Which of ``names`` a file binds to modules: ``import a.b`` binds a, ``import a.b as c`` c, and
    ``from a import b`` binds b when a.b is a module (imports inside functions count)."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) in names and _is_module(f"{node.module}.{alias.name}"):
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _dotted(node: ast.AST) -> list[str] | None:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return inner + [node.attr] if inner else None
    return None


def module_patches(source: str) -> list[str]:
    """Each ``monkeypatch.setattr``/``delattr`` in ``source`` whose target is a module (a name an import bound,
    or an attribute of one that is a module, like ``preflight.shutil``) or a dotted path in a string, as
    ``line: target``: the patch would change that module for all of the process, not an object of the test."""
    tree = ast.parse(source)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and node.args
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("setattr", "delattr")
        and isinstance(node.func.value, ast.Name)
    ]
    roots = {path[0] for call in calls if (path := _dotted(call.args[0]))}
    found, bound = [], _bound_modules(tree, roots) if roots else {}
    for call in calls:
        target = call.args[0]
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            found.append(f"{call.lineno}: {target.value!r}")
            continue
        path = _dotted(target)
        if not path:
            continue
        if path[0] not in bound:
            continue  # a local object: an instance or a class the test made
        obj = importlib.import_module(bound[path[0]])
        for attr in path[1:]:
            obj = getattr(obj, attr, None)
        if inspect.ismodule(obj) and obj.__name__ not in PATCHABLE_MODULES:
            found.append(f"{call.lineno}: {'.'.join(path)} (the module {obj.__name__})")
    return found


def test_no_test_patches_a_module():
    """A test drives the real condition or passes its stand-in through an injection point of the code (a
    parameter, a hook, a setting); a patched module global hides a missing one and leaks into other tests."""
    patches = {path.name: module_patches(path.read_text(encoding="utf-8")) for path in ROOT.glob("tests/*.py")}
    assert {name: found for name, found in patches.items() if found} == {}


def test_a_patched_module_is_caught():
    """The check above can fail: a module bound by ``import``, by ``from ... import``, one reached through another
    module, and a dotted path in a string are all caught; an object the test made is not."""
    planted = """
import jisr.index.preflight
from jisr.embeddings import cpus
from jisr.index import preflight as checks
import torch

def test(monkeypatch, tmp_path):
    monkeypatch.setattr(cpus, "available_cpus", lambda: 1)
    monkeypatch.setattr(checks.shutil, "disk_usage", None)
    monkeypatch.delattr(jisr.index.preflight, "free_space")
    monkeypatch.setattr("jisr.index.preflight.free_space", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(tmp_path, "name", "x")
"""
    assert module_patches(planted) == [
        "8: cpus (the module jisr.embeddings.cpus)",
        "9: checks.shutil (the module shutil)",
        "10: jisr.index.preflight (the module jisr.index.preflight)",
        "11: 'jisr.index.preflight.free_space'",
    ]
