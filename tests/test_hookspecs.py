"""Every hookspec is documented (docstring and docs/plugin_hooks.md), prefixed, and tested:
each hook must have a test named ``test_hook_<hook name>`` somewhere in the suite. The docs
show each hook's signature as the spec declares it, derived here from the spec itself (as
Datasette's tests do), so the two cannot drift apart."""

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


def signature_of(hook: str) -> str:
    """``name(arg, ...) -> return``, as written in the spec (annotations are strings)."""
    spec = inspect.signature(getattr(hookspecs, hook))
    return f"{hook}({', '.join(spec.parameters)}) -> {spec.return_annotation}"


def docs_section(hook: str) -> str:
    docs = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    found = re.search(rf"^## {hook}\n(.*?)(?=^## |\Z)", docs, re.MULTILINE | re.DOTALL)
    assert found, f"docs/plugin_hooks.md has no section '## {hook}'"
    return found[1]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_prefixed_and_documents_each_parameter(hook: str) -> None:
    assert hook.startswith("medmarket_")
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    for parameter in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f":param {parameter}:" in doc, f"{hook}: :param {parameter}: missing"
    assert ":return:" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_plugin_docs_with_its_signature(hook: str) -> None:
    section = docs_section(hook)
    assert f"`{signature_of(hook)}`" in section, (
        f"docs/plugin_hooks.md, section {hook}, must show `{signature_of(hook)}`"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test_named_after_it(hook: str) -> None:
    named = re.compile(rf"^(async )?def test_hook_{hook}\(", re.MULTILINE)
    tests = [
        path
        for folder in ("tests", "platform", "plugins")
        for path in (ROOT / folder).rglob("test_*.py")
        if named.search(path.read_text(encoding="utf-8"))
    ]
    assert tests, f"no test is named test_hook_{hook}"


def test_the_docs_have_no_section_for_a_hook_that_does_not_exist() -> None:
    docs = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^## (medmarket_\w+)$", docs, re.MULTILINE)) == HOOKS
