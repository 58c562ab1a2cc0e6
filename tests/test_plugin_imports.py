"""Plugins use the platform only through its public API: their code imports ``medmarket``
itself (what ``medmarket/__init__.py`` exports), their tests that and the test kit
``medmarket.testing``. Anything else of the package may change under them, and is not even
in the wheel when it is test support (``medmarket.tests``)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"code": ["medmarket"], "tests": ["medmarket", "medmarket.testing", "medmarket.testing.*"]}


def plugin_packages() -> list[tuple[str, str, str]]:
    """(distribution, its code's package, its tests' package) of each plugin here."""
    found = []
    for project in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        name = tomllib.loads(project.read_text())["project"]["name"]
        [code] = [p.name for p in project.parent.glob("medmarket_*") if p.is_dir()]
        [tests] = [
            p.name for p in (project.parent / "tests").iterdir() if (p / "__init__.py").exists()
        ]
        found.append((name, code, tests))
    return found


PLUGINS = plugin_packages()


def private_imports(graph: grimp.ImportGraph, package: str, allowed: list[str]) -> list[str]:
    return sorted(
        f"{importer} imports {imported}"
        for importer in graph.find_descendants(package) | {package}
        for imported in graph.find_modules_directly_imported_by(importer)
        if (imported == "medmarket" or imported.startswith("medmarket."))
        and not any(fnmatch.fnmatchcase(imported, pattern) for pattern in allowed)
    )


def graph_of(*packages: str) -> grimp.ImportGraph:
    return grimp.build_graph(*packages, "medmarket", cache_dir=None)


def test_every_plugin_here_is_checked() -> None:
    assert {name for name, _, _ in PLUGINS} >= {
        "medmarket-courier-http",
        "medmarket-hospital-demo",
        "medmarket-hospital-fhir",
        "medmarket-video-5g",
    }


@pytest.mark.parametrize(("name", "code", "tests"), PLUGINS)
def test_a_plugin_imports_only_the_public_api(name: str, code: str, tests: str) -> None:
    graph = graph_of(code, tests)
    assert private_imports(graph, code, PUBLIC["code"]) == []
    assert private_imports(graph, tests, PUBLIC["tests"]) == []


def test_an_import_of_the_core_s_internals_is_caught() -> None:
    _, code, tests = PLUGINS[0]
    graph = graph_of(code, tests)
    graph.add_import(importer=f"{code}", imported="medmarket.settings")
    graph.add_import(importer=f"{tests}", imported="medmarket.tests.support.fixtures")
    assert private_imports(graph, code, PUBLIC["code"]) == [f"{code} imports medmarket.settings"]
    assert private_imports(graph, tests, PUBLIC["tests"]) == [
        f"{tests} imports medmarket.tests.support.fixtures"
    ]
