"""Every hookspec is documented (docstring and docs/plugin_hooks.md), prefixed, and tested:
each hook must have a test named ``test_hook_<hook name>`` somewhere in the suite."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from medmarket import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(
    name
    for name, value in vars(hookspecs).items()
    if callable(value) and hasattr(value, "medmarket_spec")
)


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 5


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_prefixed_and_has_a_full_docstring(hook: str) -> None:
    assert hook.startswith("medmarket_")
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert ":param settings:" in doc and ":return:" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_plugin_docs(hook: str) -> None:
    docs = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {hook}$", docs, re.MULTILINE)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    pattern = re.compile(rf"def test_hook_{hook}\b")
    sources = [
        *ROOT.glob("tests/**/test_*.py"),
        *ROOT.glob("platform/**/test_*.py"),
        *ROOT.glob("plugins/**/test_*.py"),
    ]
    assert any(pattern.search(path.read_text(encoding="utf-8")) for path in sources), hook
