"""A hospital admin picks an adapter type and fills its configuration: the plugin's config
type validates it (errors name the field), secrets are kept but never shown again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from medmarket import HealthReport, hookimpl
from medmarket.app import create_app
from medmarket.sealed import Sealer
from medmarket.settings import Settings
from medmarket.tests.support.factories import HospitalHandle, hospital_with_demo_adapter
from medmarket.tests.support.fixtures import client_for, running

SECRET = "s3cret-value-never-shown"
TOKEN = "tok-9f8e7d6c5b4a"


class VaultConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    endpoint: str
    client_secret: str
    api_token: str | None = None
    retries: int = 3


class VaultAdapter:
    def __init__(self, config: VaultConfig) -> None:
        self.config = config

    async def health(self) -> HealthReport:
        # Proves the adapter was built with the stored secret, without showing it.
        return HealthReport(
            healthy=self.config.client_secret == SECRET, detail=f"reached {self.config.endpoint}"
        )

    async def aclose(self) -> None:
        return None


class VaultType:
    id, display_name, config_type = "vault", "Vault (test)", VaultConfig

    def create(self, config: VaultConfig) -> VaultAdapter:
        return VaultAdapter(config)


class BrokenType:
    """Accepts its configuration but cannot start with it."""

    id, display_name, config_type = "broken", "Broken (test)", VaultConfig

    def create(self, config: VaultConfig) -> VaultAdapter:
        raise RuntimeError("cannot start")


class VaultPlugin:
    @hookimpl
    def medmarket_hospital_adapters(self, settings: Settings) -> Sequence[Any]:
        return [VaultType(), BrokenType()]


@pytest.fixture(scope="module")
async def vault_app(settings: Settings) -> AsyncIterator[Litestar]:
    async with running(create_app(settings, extra_plugins=[("vault-test", VaultPlugin())])) as app:
        yield app


@pytest.fixture
async def hospital(vault_app: Litestar) -> HospitalHandle:
    return await hospital_with_demo_adapter(vault_app)


@pytest.fixture
async def http(vault_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(vault_app) as client:
        yield client


async def configure(
    http: httpx.AsyncClient, hospital: HospitalHandle, body: dict[str, Any]
) -> httpx.Response:
    return await http.put(
        f"/api/hospitals/{hospital.id}/adapter", headers=hospital.admin.headers, json=body
    )


async def test_adapter_types_come_with_their_form(
    http: httpx.AsyncClient, hospital: HospitalHandle
) -> None:
    response = await http.get("/api/hospital-adapter-types", headers=hospital.admin.headers)
    types = {t["id"]: t for t in response.json()}
    assert {"demo-registry", "vault"} <= set(types)
    vault = types["vault"]
    assert vault["secret_fields"] == ["client_secret", "api_token"]
    schema = vault["config_schema"]
    properties = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert {"endpoint", "client_secret", "api_token", "retries"} == set(properties)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "no-such-adapter", "config": {}}, "type"),
        ({"type": "vault", "config": {"client_secret": SECRET}}, "config.endpoint"),
        ({"type": "vault", "config": {"endpoint": 5, "client_secret": SECRET}}, "config.endpoint"),
        (
            {"type": "vault", "config": {"endpoint": "x", "client_secret": SECRET, "colour": 1}},
            "config.colour",
        ),
        (
            {"type": "demo-registry", "config": {"hospital_code": "lower case"}},
            "config.hospital_code",
        ),
        (
            {
                "type": "demo-registry",
                "config": {
                    "hospital_code": "H1",
                    "staff": [
                        {
                            "licence_number": "110000000000001",
                            "full_name": "张三",
                            "title": "院长",
                            "department": "心内科",
                        }
                    ],
                },
            },
            "config.staff[0].title",
        ),
        ({"type": "vault", "config": [1, 2]}, "config"),
    ],
)
async def test_bad_configuration_names_the_field(
    http: httpx.AsyncClient, hospital: HospitalHandle, body: dict[str, Any], field: str
) -> None:
    response = await configure(http, hospital, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field


async def test_secrets_are_kept_but_never_returned(
    vault_app: Litestar, http: httpx.AsyncClient, hospital: HospitalHandle, operator: Any
) -> None:
    config = {"endpoint": "https://his.example", "client_secret": SECRET, "api_token": TOKEN}
    saved = await configure(http, hospital, {"type": "vault", "config": config})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["config"] == {"endpoint": "https://his.example", "retries": 3}
    assert body["secrets_set"] == ["api_token", "client_secret"]
    readers = [hospital.admin.headers]
    operator_headers = {"Authorization": f"Bearer {operator.token}"}
    readers.append(operator_headers)
    for headers in readers:
        for path in (f"/api/hospitals/{hospital.id}/settings", "/api/me/hospitals"):
            shown = await http.get(path, headers=headers)
            assert shown.status_code == 200
            assert SECRET not in shown.text and TOKEN not in shown.text
    audit = await http.get(
        "/api/audit",
        headers=operator_headers,
        params={"subject_type": "hospital", "subject_id": hospital.id},
    )
    assert SECRET not in audit.text and "hospital.adapter_configured" in audit.text
    stored = await vault_app.state.services.db.fetchval(
        "SELECT adapter_config FROM hospitals WHERE id = $1", hospital.id
    )
    # Kept for the adapter, but only sealed: the database never holds the secret itself.
    assert stored["client_secret"].startswith("sealed:v1:") and SECRET not in str(stored)
    assert Sealer(vault_app.state.settings.secret_key).unseal(stored["client_secret"]) == SECRET
    tested = await http.post(
        f"/api/hospitals/{hospital.id}/adapter/test", headers=hospital.admin.headers
    )
    assert tested.json()["healthy"] is True  # the adapter was built with the opened secret


async def test_a_secret_stored_plain_or_under_another_key(
    vault_app: Litestar, http: httpx.AsyncClient, hospital: HospitalHandle
) -> None:
    db = vault_app.state.services.db
    plain = {"endpoint": "https://his.example", "client_secret": SECRET}
    await db.execute(
        "UPDATE hospitals SET adapter_type = 'vault', adapter_config = $2 WHERE id = $1",
        uuid.UUID(hospital.id),
        plain,
    )
    test_path = f"/api/hospitals/{hospital.id}/adapter/test"
    # Stored before sealing existed: still read, and sealed by the next save.
    assert (await http.post(test_path, headers=hospital.admin.headers)).json()["healthy"]
    resaved = await configure(
        http, hospital, {"type": "vault", "config": {"endpoint": "https://his.example"}}
    )
    assert resaved.json()["secrets_set"] == ["client_secret"]
    stored = await db.fetchval("SELECT adapter_config FROM hospitals WHERE id = $1", hospital.id)
    assert stored["client_secret"].startswith("sealed:v1:")
    # Sealed under an earlier secret key: the adapter cannot start, and a save without the
    # secret does not keep what can no longer be opened.
    foreign = {**plain, "client_secret": Sealer("another-secret-key-" + "x" * 32).seal(SECRET)}
    await db.execute(
        "UPDATE hospitals SET adapter_config = $2 WHERE id = $1", uuid.UUID(hospital.id), foreign
    )
    unopened = await http.post(test_path, headers=hospital.admin.headers)
    assert unopened.json()["healthy"] is False
    again = await configure(
        http, hospital, {"type": "vault", "config": {"endpoint": "https://his.example"}}
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "config.client_secret"


async def test_a_secret_left_out_keeps_its_value(
    http: httpx.AsyncClient, hospital: HospitalHandle
) -> None:
    first = {"endpoint": "https://his.example", "client_secret": SECRET}
    assert (await configure(http, hospital, {"type": "vault", "config": first})).status_code == 200
    changed = await configure(
        http, hospital, {"type": "vault", "config": {"endpoint": "https://his2.example"}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["secrets_set"] == ["client_secret"]
    tested = await http.post(
        f"/api/hospitals/{hospital.id}/adapter/test", headers=hospital.admin.headers
    )
    assert tested.json() == {"healthy": True, "detail": "reached https://his2.example"}


async def test_switching_type_does_not_carry_secrets_over(
    http: httpx.AsyncClient, hospital: HospitalHandle
) -> None:
    first = {"endpoint": "https://his.example", "client_secret": SECRET}
    await configure(http, hospital, {"type": "vault", "config": first})
    await configure(http, hospital, {"type": "demo-registry", "config": {"hospital_code": "H2"}})
    back = await configure(http, hospital, {"type": "vault", "config": {"endpoint": "e"}})
    assert back.status_code == 422
    assert back.json()["errors"][0]["field"] == "config.client_secret"


async def test_connection_test_reports_an_adapter_that_cannot_start(
    http: httpx.AsyncClient, hospital: HospitalHandle
) -> None:
    config = {"endpoint": "https://his.example", "client_secret": SECRET}
    assert (
        await configure(http, hospital, {"type": "broken", "config": config})
    ).status_code == 200
    tested = await http.post(
        f"/api/hospitals/{hospital.id}/adapter/test", headers=hospital.admin.headers
    )
    assert tested.status_code == 200
    assert tested.json()["healthy"] is False
    assert "could not start" in tested.json()["detail"]


async def test_demo_adapter_answers_the_connection_test(
    http: httpx.AsyncClient, hospital: HospitalHandle
) -> None:
    tested = await http.post(
        f"/api/hospitals/{hospital.id}/adapter/test", headers=hospital.admin.headers
    )
    assert tested.json()["healthy"] is True
    assert hospital.hospital_code in tested.json()["detail"]
