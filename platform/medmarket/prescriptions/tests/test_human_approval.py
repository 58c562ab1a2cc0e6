"""Approval is a person's act (the 2022 supervision rules forbid automatic or AI approval):
only the review desk's handlers, for a signed-in pharmacist, decide a prescription. This walks
the code and the route table, so a job, a listener or a plugin that approves fails here the
day it lands (and the database refuses it too: test_review)."""

from __future__ import annotations

import ast
from pathlib import Path

from litestar import Litestar

import medmarket

ROOT = Path(medmarket.__file__).parent
PLUGINS = ROOT.parent.parent / "plugins"
DECIDING = {"approved", "rejected"}


def sources() -> list[Path]:
    found = [*ROOT.rglob("*.py"), *PLUGINS.rglob("*.py")]
    return [path for path in found if "tests" not in path.relative_to(path.parents[1]).parts]


def calls(name: str) -> list[tuple[str, ast.Call]]:
    hits = []
    for path in sources():
        if name == "change_status" and "prescriptions.states" not in path.read_text("utf-8"):
            continue  # another state machine's function of that name (doctors')
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    hits.append((path.relative_to(ROOT.parent).as_posix(), node))
    return hits


def test_only_the_desk_moves_a_prescription_to_approved_or_rejected() -> None:
    movers = set()
    for module, call in calls("change_status"):
        target = call.args[2] if len(call.args) > 2 else None
        fixed = isinstance(target, ast.Constant) and target.value not in DECIDING
        if not fixed:
            movers.add(module)
    assert movers == {"medmarket/prescriptions/review.py"}
    deciders = {module for module, _ in calls("decide")}
    assert deciders == {
        "medmarket/prescriptions/review_routes.py",
        "medmarket/prescriptions/review_pages.py",
    }


def test_no_sql_but_the_state_machines_writes_a_prescriptions_status() -> None:
    writers = {
        path.relative_to(ROOT.parent).as_posix()
        for path in sources()
        if "UPDATE prescriptions" in path.read_text(encoding="utf-8")
    }
    assert writers == {"medmarket/prescriptions/states.py"}


def test_the_deciding_routes_are_for_signed_in_pharmacists_only(app: Litestar) -> None:
    deciding = {
        route.path: set(handler.opt.get("access") or ())
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "POST" in getattr(handler, "http_methods", ())
        and route.path.endswith(("/approve", "/reject"))
        and "review-desk" in route.path
    }
    assert set(deciding) == {
        "/api/review-desk/{prescription_id:uuid}/approve",
        "/api/review-desk/{prescription_id:uuid}/reject",
        "/review-desk/{prescription_id:uuid}/approve",
        "/review-desk/{prescription_id:uuid}/reject",
    }
    assert all(access == {"pharmacist"} for access in deciding.values()), deciding
