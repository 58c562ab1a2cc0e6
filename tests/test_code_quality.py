"""ruff (lint and format, including A005: no module shadows the stdlib) and mypy --strict on
the core, the plugins and every test are part of the suite, so CI enforces them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
PYTEST = TOOLS["pytest"]["ini_options"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    # Every module pytest collects from is checked, tests and their helpers included: an
    # untyped test fails here rather than slipping past the config's scope.
    collected = sorted(
        path for folder in PYTEST["testpaths"] for path in (ROOT / folder).rglob("*.py")
    )
    checked = re.search(r"no issues found in (\d+) source files", result.stdout)
    assert checked and int(checked[1]) == len(collected), result.stdout


def test_mypy_names_modules_as_pytest_imports_them() -> None:
    # The plugins' test packages are importable through pytest's pythonpath; mypy reads
    # them from the same folders, so a module has one name for both.
    assert set(PYTEST["pythonpath"]) <= set(TOOLS["mypy"]["mypy_path"])
