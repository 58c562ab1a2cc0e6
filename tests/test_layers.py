"""The layers of the core, kept by a test over its import graph (grimp, import-linter's
engine). Dependencies run one way:

    composition root -> domain declarations -> routes and pages -> domains -> base -> foundation

A module may import its own layer or lower ones, never a higher one; and no two packages
depend on each other, directly or around a circle (a package's routes and pages count apart
from its rules, so ``audit.routes`` may use ``accounts.guards`` while ``accounts`` records to
``audit``). Where a lower domain needs a higher one, it declares a port (``services.Port``)
and the higher one provides it in its ``domain.py``. docs/architecture.md is the map.

Test support (``medmarket.testing``, ``*.tests``) is outside the contract.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

import grimp
import pytest

LAYERS: list[tuple[str, list[str]]] = [
    (
        "composition root",
        [
            "medmarket.app",
            "medmarket.cli",
            "medmarket.worker",
            "medmarket.domains",
            "medmarket.demo",
        ],
    ),
    ("domain declarations", ["medmarket.domain", "medmarket.*.domain"]),
    (
        "routes and pages",
        [
            "medmarket.*.routes",
            "medmarket.*.pages",
            "medmarket.*.*_pages",
            "medmarket.*.dependencies",
            "medmarket.pages.*",
            "medmarket.accounts.guards",
            "medmarket.openapi",
            "medmarket.strict_reading",
        ],
    ),
    # What plugins meet (contract types), and what holds the platform together, sit below
    # every domain: any domain may use them.
    (
        "foundation",
        [
            "medmarket",
            "medmarket.*.interface",
            "medmarket.db",
            "medmarket.db.*",
            "medmarket.errors",
            "medmarket.settings",
            "medmarket.health",
            "medmarket.failpoints",
            "medmarket.files",
            "medmarket.sealed",
            "medmarket.signatures",
            "medmarket.outbound",
            "medmarket.text_guard",
            "medmarket.plugin_manager",
            "medmarket.hookspecs",
            "medmarket.services",
            "medmarket.jobs",
            "medmarket.video.turn",
        ],
    ),
    (
        "base",
        [
            package + suffix
            for package in (
                "medmarket.payments",
                "medmarket.outbox",
                "medmarket.audit",
                "medmarket.accounts",
                "medmarket.notifications",
                "medmarket.ledger",
            )
            for suffix in ("", ".*")
        ],
    ),
    ("domains", ["medmarket.*"]),
]
# Listed above in the order a module is matched; ranked here from the top down.
RANK = {
    "composition root": 5,
    "domain declarations": 4,
    "routes and pages": 3,
    "domains": 2,
    "base": 1,
    "foundation": 0,
}
OUTSIDE = ["medmarket.testing", "medmarket.testing.*", "*.tests", "*.tests.*"]


def layer_of(module: str) -> str:
    for layer, patterns in LAYERS:
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return layer
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def node_of(module: str) -> tuple[str, str]:
    """What the circle check counts as one: a package's modules of one layer."""
    return layer_of(module), package_of(module)


def core_graph() -> grimp.ImportGraph:
    return grimp.build_graph("medmarket", cache_dir=None)


def in_contract(module: str) -> bool:
    return not any(fnmatch.fnmatchcase(module, pattern) for pattern in OUTSIDE)


def imports(graph: grimp.ImportGraph) -> Iterator[tuple[str, str]]:
    for importer in sorted(filter(in_contract, graph.modules)):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if in_contract(imported):
                yield importer, imported


def upward_imports(graph: grimp.ImportGraph) -> list[str]:
    return [
        f"{importer} ({layer_of(importer)}) imports {imported} ({layer_of(imported)})"
        for importer, imported in imports(graph)
        if RANK[layer_of(imported)] > RANK[layer_of(importer)]
    ]


def circles(graph: grimp.ImportGraph) -> list[list[tuple[str, str]]]:
    """Strongly connected groups of more than one node (Tarjan's algorithm)."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for importer, imported in imports(graph):
        source, target = node_of(importer), node_of(imported)
        edges.setdefault(source, set())
        edges.setdefault(target, set())
        if source != target:
            edges[source].add(target)
    index: dict[tuple[str, str], int] = {}
    low: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []
    on_stack: set[tuple[str, str]] = set()
    found: list[list[tuple[str, str]]] = []

    def visit(node: tuple[str, str]) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def module_cycles(graph: grimp.ImportGraph) -> list[str]:
    """Modules that import each other (directly: the shape a lazy import hides)."""
    return [
        f"{importer} <-> {imported}"
        for importer, imported in imports(graph)
        if importer < imported and graph.direct_import_exists(importer=imported, imported=importer)
    ]


def test_every_module_has_a_layer() -> None:
    for module in filter(in_contract, core_graph().modules):
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    assert upward_imports(core_graph()) == []


def test_no_two_packages_depend_on_each_other() -> None:
    graph = core_graph()
    assert circles(graph) == []
    assert module_cycles(graph) == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("medmarket.db.pool", "medmarket.app"),  # foundation -> composition root
        ("medmarket.payments.purposes", "medmarket.bookings.payments"),  # base -> domain
        ("medmarket.bookings.service", "medmarket.bookings.routes"),  # domain -> its own routes
    ],
)
def test_a_deliberate_upward_import_fails_the_contract(importer: str, imported: str) -> None:
    graph = core_graph()
    graph.add_import(importer=importer, imported=imported)
    assert upward_imports(graph) == [
        f"{importer} ({layer_of(importer)}) imports {imported} ({layer_of(imported)})"
    ]


def test_a_deliberate_circle_between_domains_fails_the_contract() -> None:
    """bookings once imported consults, which builds on bookings: one way only."""
    graph = core_graph()
    graph.add_import(importer="medmarket.bookings.payments", imported="medmarket.consults.service")
    assert [("domains", "medmarket.bookings"), ("domains", "medmarket.consults")] in circles(graph)
