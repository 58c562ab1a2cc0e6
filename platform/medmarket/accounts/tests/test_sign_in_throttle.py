"""Sign-in throttling stops guessing without letting anyone lock an owner out: an attacker
failing a hundred times from anywhere does not keep the owner out of their account, and a
flood of failures from a shared address does not keep its honest users out for good."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

import httpx
from litestar import Litestar

from medmarket.app import create_app
from medmarket.tests.support.fixtures import (
    STRONG_PASSWORD,
    Account,
    client_for,
    make_settings,
    random_address,
    running,
    sign_up_and_in,
    unique_email,
)

SignUp = Callable[..., Awaitable[Account]]


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    response = await http.post("/api/tokens", json={"email": email, "password": password})
    if response.status_code == 429:
        # Every refusal says when to come back, within one window.
        assert response.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(response.headers["retry-after"]) == response.json()["retry_after"]
    return response


async def test_the_owner_signs_in_while_an_attacker_fails_100_times(
    app: Litestar, sign_up: SignUp
) -> None:
    settings = app.state.settings
    owner: Account = await sign_up("patient")
    home = random_address()
    async with client_for(app, home) as phone:
        assert (await sign_in(phone, owner.email, STRONG_PASSWORD)).status_code == 201

        # The attacker fails from a hundred addresses: once the account has had its share of
        # failures from unknown places, every further guess is refused unchecked.
        answers = []
        for attempt in range(100):
            async with client_for(app) as attacker:
                guess = await sign_in(attacker, owner.email, f"guess-{attempt}-not-it")
                answers.append(guess.status_code)
                if guess.status_code == 429:
                    assert guess.json()["limited_by"] == "account"
                    assert (
                        int(guess.headers["retry-after"]) <= settings.login_throttle_window_seconds
                    )
        assert answers.count(401) == settings.login_failures_per_account
        assert answers.count(429) == 100 - settings.login_failures_per_account

        # The owner, on the phone they signed in with before (a known device), gets in.
        assert (await sign_in(phone, owner.email, STRONG_PASSWORD)).status_code == 201
    # So does any device at home (a known address), cookie or not.
    async with client_for(app, home) as laptop:
        assert (await sign_in(laptop, owner.email, STRONG_PASSWORD)).status_code == 201
    # Someone without either still waits, however right the password: that is the limit.
    async with client_for(app) as stranger:
        assert (await sign_in(stranger, owner.email, STRONG_PASSWORD)).status_code == 429


async def test_an_attacker_at_one_address_is_stopped_there_and_the_owner_is_not(
    app: Litestar, sign_up: SignUp
) -> None:
    settings = app.state.settings
    owner: Account = await sign_up("patient")
    async with client_for(app) as attacker:
        answers = [
            (await sign_in(attacker, owner.email, f"guess-{attempt}-not-it")).status_code
            for attempt in range(100)
        ]
        blocked = await sign_in(attacker, owner.email, STRONG_PASSWORD)
    assert answers.count(401) == settings.login_failures_per_account_address
    assert blocked.status_code == 429 and blocked.json()["limited_by"] == "account_address"
    # The owner somewhere else is not held up at all, not even as a stranger.
    async with client_for(app) as elsewhere:
        assert (await sign_in(elsewhere, owner.email, STRONG_PASSWORD)).status_code == 201


async def test_parallel_guesses_cannot_slip_past_the_limit(app: Litestar, sign_up: SignUp) -> None:
    owner: Account = await sign_up("patient")
    limit = app.state.settings.login_failures_per_account_address
    async with client_for(app) as attacker:
        answers = await asyncio.gather(
            *(sign_in(attacker, owner.email, f"burst-{n}-not-it") for n in range(4 * limit))
        )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(401) == limit
    assert statuses.count(429) == 3 * limit


async def test_a_right_password_forgives_the_typos_before_it(
    app: Litestar, sign_up: SignUp
) -> None:
    owner: Account = await sign_up("patient")
    limit = app.state.settings.login_failures_per_account_address
    async with client_for(app) as http:
        for _ in range(3):
            for _ in range(limit - 1):
                assert (await sign_in(http, owner.email, "typo-typo-typo")).status_code == 401
            assert (await sign_in(http, owner.email, STRONG_PASSWORD)).status_code == 201


async def test_failures_for_one_account_leave_others_alone(app: Litestar, sign_up: SignUp) -> None:
    target: Account = await sign_up("patient")
    other: Account = await sign_up("patient")
    for attempt in range(app.state.settings.login_failures_per_account + 5):
        async with client_for(app) as attacker:
            await sign_in(attacker, target.email, f"guess-{attempt}-not-it")
    async with client_for(app) as stranger:
        assert (await sign_in(stranger, other.email, STRONG_PASSWORD)).status_code == 201


async def test_an_owner_somewhere_new_gets_in_once_the_window_moves_on(
    database_url: str,
) -> None:
    """The per-account limit is a delay, not a lockout: the window slides, and the
    attacker's refused guesses do not keep it shut."""
    settings = make_settings(
        database_url, login_failures_per_account=3, login_throttle_window_seconds=2
    )
    async with running(create_app(settings)) as app:
        async with client_for(app) as http:
            owner = await sign_up_and_in(http)
        for attempt in range(3):
            async with client_for(app) as attacker:
                assert (await sign_in(attacker, owner.email, f"g-{attempt}-xx")).status_code == 401
        loop = asyncio.get_running_loop()
        failed_by = loop.time()
        async with client_for(app) as stranger:
            waited = await sign_in(stranger, owner.email, STRONG_PASSWORD)
            assert waited.status_code == 429 and int(waited.headers["retry-after"]) <= 2
            # The attacker keeps trying while the window is full: refused guesses are not
            # counted, so they do not hold it shut any longer.
            while loop.time() < failed_by + 1.5:
                async with client_for(app) as attacker:
                    assert (await sign_in(attacker, owner.email, "g-again-xx")).status_code == 429
                await asyncio.sleep(0.1)
            await asyncio.sleep(failed_by + 2.2 - loop.time())
            assert (await sign_in(stranger, owner.email, STRONG_PASSWORD)).status_code == 201


async def test_thirty_failures_from_a_shared_address_do_not_keep_its_people_out(
    database_url: str,
) -> None:
    """A hospital's NAT: someone behind it fails 30 times on many accounts. The people who
    signed in there before still get in; a newcomer waits no longer than the window."""
    # A short window (long enough for 30 password checks on a busy machine) keeps it quick.
    settings = make_settings(database_url, login_throttle_window_seconds=6)
    limit = settings.login_failures_per_address
    assert limit == 30  # the documented default
    nat = random_address()
    async with running(create_app(settings)) as app:
        async with client_for(app, nat) as desk:
            regular = await sign_up_and_in(desk)  # signed in here before
        async with client_for(app) as elsewhere:
            newcomer = await sign_up_and_in(elsewhere)
        async with client_for(app, nat) as attacker:
            answers = [
                (await sign_in(attacker, unique_email(), "guess-not-it")).status_code
                for _ in range(limit + 5)
            ]
            assert answers.count(401) == limit and answers.count(429) == 5
        async with client_for(app, nat) as colleague:
            assert (await sign_in(colleague, regular.email, STRONG_PASSWORD)).status_code == 201
            held = await sign_in(colleague, newcomer.email, STRONG_PASSWORD)
            assert held.status_code == 429 and held.json()["limited_by"] == "address"
            assert int(held.headers["retry-after"]) <= 6
            await asyncio.sleep(int(held.headers["retry-after"]) + 0.1)
            assert (await sign_in(colleague, newcomer.email, STRONG_PASSWORD)).status_code == 201


async def test_failed_sign_ins_are_throttled_per_address(database_url: str) -> None:
    settings = make_settings(database_url, login_failures_per_address=4)
    async with running(create_app(settings)) as app:
        address = random_address()
        async with client_for(app, address) as http:
            for _ in range(4):  # four different accounts, one guess each
                response = await sign_in(http, unique_email(), "guess" * 3)
                assert response.status_code == 401
            blocked = await sign_in(http, unique_email(), "guess" * 3)
            assert blocked.status_code == 429
            assert blocked.json()["limited_by"] == "address"
        async with client_for(app) as elsewhere:
            account = await sign_up_and_in(elsewhere)
            assert account.token


async def test_counters_left_by_the_fixed_windows_of_before_do_not_break_sign_in(
    app: Litestar, sign_up: SignUp
) -> None:
    """After an upgrade Redis may still hold the earlier version's counters (strings, named
    ``throttle:signin:<kind>:<sha256 of the value>``); the sliding windows live elsewhere."""
    owner: Account = await sign_up("patient")
    address = random_address()
    redis = app.state.services.redis
    for kind, value in (("account", owner.email), ("address", address)):
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        await redis.set(f"throttle:signin:{kind}:{digest}", "3", ex=60)
    async with client_for(app, address) as http:
        assert (await sign_in(http, owner.email, STRONG_PASSWORD)).status_code == 201
        assert (await sign_in(http, owner.email, "not-the-password")).status_code == 401
