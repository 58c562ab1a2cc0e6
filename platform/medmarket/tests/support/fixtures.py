"""pytest fixtures: settings for a fresh database, the app, clients signed in as each role."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest
from litestar import Litestar

from medmarket.app import create_app
from medmarket.db.migrate import migrate
from medmarket.drugs.seed import load_seed_into
from medmarket.settings import Settings, load_settings
from medmarket.tests.support.databases import create_database, drop_database
from medmarket.tests.support.payments import (
    SAMPLE_PAYABLES,
    create_test_payables_table,
    localstripe,
    localstripe_url,
    stripe_settings,
)

__all__ = ["localstripe", "localstripe_url"]  # fixtures defined beside payments' test support

STRONG_PASSWORD = "violet-otter-harbour-42"


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the tests with infra/test", returncode=2)
    return value


@pytest.fixture(scope="session")
def server_dsn() -> str:
    return _require("DATABASE_URL")


@pytest.fixture(scope="session")
async def database_url(server_dsn: str) -> AsyncIterator[str]:
    """A database of this test session's own, migrated to the newest version, with the seed
    drug catalog (as the demo has it)."""
    dsn = await create_database(server_dsn)
    await migrate(dsn)
    await load_seed_into(dsn)
    await create_test_payables_table(dsn)
    yield dsn
    await drop_database(dsn)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": _require("REDIS_URL"),
        "secret_key": secrets.token_urlsafe(48),
        "environment": "test",
        "base_url": "http://testserver.local",
        # argon2id stays argon2id, just cheaper, so the suite does not spend minutes hashing.
        "password_time_cost": 1,
        "password_memory_kib": 8192,
        "plugin_timeout_seconds": 2.0,
        "data_dir": os.environ.get("MEDMARKET_DATA_DIR", ".data"),
    }
    values.update(overrides)
    return load_settings({}, **values)


@pytest.fixture(scope="session")
def settings(
    database_url: str, localstripe_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings of the session's app: its own database, localstripe, and a directory of its
    own for uploaded files."""
    return make_settings(
        database_url,
        data_dir=str(tmp_path_factory.mktemp("data")),
        **stripe_settings(localstripe_url),
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The app with its lifespan running, shared by the session's tests. It can take
    payments for ``test_payable`` (see ``tests/support/payments.py``)."""
    application = create_app(settings, extra_domains=[SAMPLE_PAYABLES])
    async with running(application):
        yield application


@asynccontextmanager
async def running(application: Litestar) -> AsyncIterator[Litestar]:
    """Run the app's lifespan in a task of its own: its task group must start and end in one
    task, and pytest may set a fixture up and tear it down in different tasks."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raises what start-up raised
    try:
        yield application
    finally:
        stop.set()
        await task


def random_address() -> str:
    """A fresh client address, so per-address sign-in counts never carry between tests or
    runs (Redis outlives a test session)."""
    return "10." + ".".join(str(secrets.randbelow(254) + 1) for _ in range(3))


def asgi_transport(
    app: Litestar, client: tuple[str, int] = ("127.0.0.1", 123)
) -> httpx.ASGITransport:
    """httpx talking to ``app`` in process, as ``client`` (httpx's own default address)."""
    # httpx types an ASGI scope as a MutableMapping, Litestar as TypedDicts (which are not
    # MutableMappings to mypy): the same ASGI protocol, in types that cannot meet.
    return httpx.ASGITransport(app=app, client=client)  # type: ignore[arg-type]


def client_for(app: Litestar, address: str | None = None) -> httpx.AsyncClient:
    transport = asgi_transport(app, client=(address or random_address(), 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client with its own cookie jar."""
    async with client_for(app) as http:
        yield http


def unique_email(role: str = "user") -> str:
    return f"{role}-{uuid.uuid4().hex[:10]}@example.org"


@dataclass
class Account:
    id: str
    email: str
    role: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_up_and_in(
    http: httpx.AsyncClient,
    role: str = "patient",
    *,
    invitation: str | None = None,
    email: str | None = None,
    display_name: str = "测试 用户",
) -> Account:
    email = email or unique_email(role)
    body: dict[str, Any] = {
        "email": email,
        "password": STRONG_PASSWORD,
        "display_name": display_name,
    }
    if invitation:
        body["invitation"] = invitation
    else:
        body["role"] = role
    created = await http.post("/api/accounts", json=body)
    assert created.status_code == 202, created.text
    # Sign-up says nothing about the account (it answers a taken address alike): sign in.
    signed_in = await http.post("/api/tokens", json={"email": email, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201, signed_in.text
    user = signed_in.json()["user"]
    return Account(
        id=user["id"],
        email=email,
        role=user["role"],
        password=STRONG_PASSWORD,
        token=signed_in.json()["token"],
    )


async def create_operator_account(app: Litestar) -> Account:
    """Operators cannot sign up; the first is made from the command line. Do the same here."""
    from medmarket.demo import create_operator

    settings: Settings = app.state.settings
    email = unique_email("operator")
    await create_operator(settings, email, STRONG_PASSWORD, "Test Operator")
    async with client_for(app) as http:
        response = await http.post(
            "/api/tokens", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert response.status_code == 201, response.text
        body = response.json()
    return Account(
        id=body["user"]["id"],
        email=email,
        role="operator",
        password=STRONG_PASSWORD,
        token=body["token"],
    )


@pytest.fixture
async def operator(app: Litestar) -> Account:
    return await create_operator_account(app)


class SignUp(Protocol):
    """What the ``sign_up`` fixture is: ``await sign_up("doctor")`` → an Account with a bearer
    token. Invited roles (pharmacist, hospital admin) are invited by a fresh operator, with
    ``invitation_extra`` added to the invitation."""

    async def __call__(
        self,
        role: str = "patient",
        *,
        invitation: str | None = None,
        email: str | None = None,
        display_name: str = ...,
        invitation_extra: dict[str, Any] = ...,
    ) -> Account: ...


@pytest.fixture
def sign_up(app: Litestar) -> SignUp:
    """``await sign_up("doctor")`` → an Account with a bearer token."""

    async def make(role: str = "patient", **kwargs: Any) -> Account:
        if role in ("pharmacist", "hospital_admin", "operator") and "invitation" not in kwargs:
            if role == "operator":
                return await create_operator_account(app)
            inviter = await create_operator_account(app)
            email = unique_email(role)
            async with client_for(app) as http:
                invited = await http.post(
                    "/api/invitations",
                    headers=inviter.headers,
                    json={"email": email, "role": role, **kwargs.pop("invitation_extra", {})},
                )
                assert invited.status_code == 201, invited.text
                return await sign_up_and_in(
                    http, role, invitation=invited.json()["token"], email=email, **kwargs
                )
        async with client_for(app) as http:
            return await sign_up_and_in(http, role, **kwargs)

    return make


# Signaling and video: a private coturn and two app instances in separate processes.
from medmarket.tests.support.video_fixtures import coturn, instance_pair  # noqa: E402, F401
