"""The fake carrier's fixtures (``carrier.py``), one run per Quality-On-Demand version. The
plugin's tests get them from ``conftest.py``; the platform's integration tests import them
too (tests/integration/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from openapi_core import OpenAPI

from video_5g_tests.carrier import HERE, QOD_DOCUMENTS, QOD_SPEC_FOLDER, FakeCarrier, Strictness


@pytest.fixture(scope="session", params=sorted(QOD_DOCUMENTS))
def qod_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def qod_spec_path(qod_version: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The version's QoD document; the work in progress with the common files where its
    references point (1.1.0 is self-contained)."""
    if qod_version != "vwip":
        return QOD_DOCUMENTS[qod_version]
    root = tmp_path_factory.mktemp("camara")
    shutil.copytree(
        QOD_SPEC_FOLDER, root / "camara-qod", ignore=shutil.ignore_patterns("r3.2-stable")
    )
    shutil.copytree(HERE / "camara_common", root / "common")
    return root / "camara-qod" / "quality-on-demand.yaml"


@pytest.fixture(scope="session")
def qod_openapi(qod_spec_path: Path) -> OpenAPI:
    document = yaml.safe_load(qod_spec_path.read_text())
    schemes = document["components"]["securitySchemes"]
    if schemes["openId"].get("type") == "openIdConnect":
        # As in camara_common/: the access token OpenID Connect yields travels as a bearer
        # token, which the validator can check (it does not evaluate openIdConnect).
        schemes["openId"] = {"type": "http", "scheme": "bearer"}
    return OpenAPI.from_dict(document, base_uri=qod_spec_path.as_uri())


@pytest.fixture
def strictness(qod_spec_path: Path) -> Strictness:
    return Strictness(qod_spec_path)


@pytest.fixture
def fake_carrier(
    qod_openapi: OpenAPI, strictness: Strictness, qod_version: str
) -> Iterator[FakeCarrier]:
    carrier = FakeCarrier(qod_openapi, strictness, qod_version)
    with carrier.recorder.serving():
        yield carrier
    assert carrier.violations == []
