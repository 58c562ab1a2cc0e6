"""Every outbox topic the platform writes has a handler: a message nothing takes would be
retried by the worker until it gives up, and what it was meant to do would never happen
(as ``referral.suggested`` once was). The test reads every ``enqueue(connection, TOPIC, ...)``
call of the package's code, resolves its topic (a literal or a module's constant), and
compares them with the topics the domains' handlers take."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from litestar import Litestar

import medmarket
from medmarket.domains import DOMAINS, outbox_handlers

PACKAGE = Path(medmarket.__file__).parent


def _is_enqueue(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "enqueue"


def _resolve(node: ast.expr, module: ModuleType) -> Any:
    """A literal, a name of the module, or an attribute of one (``room.RELAY_TOPIC``)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, module)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def topics_written(source: str, module: ModuleType) -> Iterator[tuple[str | None, int]]:
    """(topic, line) of each ``enqueue`` call in ``source``; None when its topic is not a
    literal or a constant the module names (the test then fails: say the topic plainly)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _is_enqueue(node) and len(node.args) >= 2:
            topic = _resolve(node.args[1], module)
            yield (topic if isinstance(topic, str) else None), node.lineno


def platform_modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if "tests" in parts or parts[0] == "testing":
            continue
        name = ".".join(("medmarket", *parts)).removesuffix(".__init__")
        yield name, path


def written_anywhere() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, path in platform_modules():
        source = path.read_text("utf-8")
        if "enqueue(" not in source:
            continue
        module = importlib.import_module(name)
        for topic, line in topics_written(source, module):
            found.setdefault(topic or "<not a constant>", []).append(f"{name}:{line}")
    return found


async def test_every_topic_written_has_a_handler(app: Litestar) -> None:
    handled = set(outbox_handlers(DOMAINS, app.state.services))
    written = written_anywhere()
    assert "referral.suggested" in written and "notification.send" in written
    unhandled = {topic: where for topic, where in written.items() if topic not in handled}
    assert unhandled == {}, f"outbox topics nothing handles: {unhandled}"


def test_an_unhandled_topic_is_found() -> None:
    """The scan sees literals, constants and a module's constants, and flags the rest."""
    module = ModuleType("sample")
    module.ROUND = "sample.round"  # type: ignore[attr-defined]
    module.room = ModuleType("room")  # type: ignore[attr-defined]
    module.room.RELAY = "sample.relay"
    source = (
        "async def f(c, topic):\n"
        "    await outbox.enqueue(c, 'sample.literal', {})\n"
        "    await enqueue(c, ROUND, {})\n"
        "    await outbox.enqueue(c, room.RELAY, {})\n"
        "    await enqueue(c, topic, {})\n"
    )
    assert list(topics_written(source, module)) == [
        ("sample.literal", 2),
        ("sample.round", 3),
        ("sample.relay", 4),
        (None, 5),
    ]
