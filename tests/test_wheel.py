"""What the wheel ships: the core with its pages and the plugin test kit; never the core's
own tests or their support (``medmarket.tests``), which plugins must not lean on."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    build = ["pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out)]
    subprocess.run(
        [sys.executable, "-m", *build, str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = out.glob("medmarket-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.mark.slow
def test_the_wheel_ships_the_test_kit_and_not_the_core_s_tests(shipped: list[str]) -> None:
    assert "medmarket/testing/contracts.py" in shipped
    assert "medmarket/testing/http_recorder.py" in shipped
    assert "medmarket/testing/__init__.py" in shipped
    assert "medmarket/__init__.py" in shipped and "medmarket/_web/templates/base.html" in shipped
    assert "medmarket/db/migrations/0001_foundation.sql" in shipped
    assert "medmarket/drugs/data/essential_medicines.csv" in shipped
    assert [name for name in shipped if "/tests/" in name or name.endswith("/tests")] == []
