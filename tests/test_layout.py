"""`platform/` is a source folder, never a package: `import platform` stays the stdlib's."""

from __future__ import annotations

import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_platform_folder_is_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_is_the_standard_library_here() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    # And it behaves as the standard library's: it names this very interpreter.
    assert platform.python_implementation().lower() == sys.implementation.name


def test_import_platform_from_the_repository_root_is_the_standard_library() -> None:
    # The most likely way to shadow it: running Python with the checkout on sys.path.
    code = (
        "import sys; sys.path.insert(0, '.'); import platform, medmarket; "
        "print(platform.__file__); print(platform.system())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    location, system = result.stdout.splitlines()
    assert not Path(location).resolve().is_relative_to(ROOT / "platform")
    assert system


def test_the_core_package_lives_under_platform() -> None:
    import medmarket

    assert Path(medmarket.__file__).resolve().parent == ROOT / "platform" / "medmarket"
