"""How often sign-in, sign-up and password reset may be tried, counted in Redis.

Every count is a sliding window: a sorted set of attempts scored by Redis' own clock, each
attempt leaving the window on its own once the window has passed it. So a limit never holds
for longer than one window after the attempts stop, and a refused attempt is not counted:
nobody is locked out for good, however long someone else keeps trying.

Sign-in keeps three windows, so that nobody can lock an owner out of their account:

- per account and address (or known device): a few failures. This is what stops a guesser
  from one place, and it is the only limit an owner signing in from a known place meets.
- per account, for attempts from unknown places (an address or device the account never
  signed in from): a larger number. A guesser spreading over many addresses meets it; the
  owner at home, at their hospital or on their phone does not, and an owner somewhere new
  still gets in once the window moves on, or at once through a password reset.
- per address, for attempts from unknown places: failures across all accounts. A guesser
  trying many accounts from one address meets it; the honest people behind the same
  hospital NAT who signed in there before do not, and the others only until it decays.

An attempt is counted before its password is checked (so a burst of parallel guesses cannot
slip past a limit) and a success takes its own count back, so only failures remain.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from medmarket.errors import TooManyRequests
from medmarket.settings import Settings

log = logging.getLogger("medmarket.accounts.throttle")

# KEYS: the windows (sorted sets); ARGV[1]: this attempt's member; ARGV[2]: "1" to count the
# attempt in every window when all have room; then each window's limit and length (ms).
# Returns {0, 0} when all had room, else {i, ms until window i has room again}.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local last = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    return {i, tonumber(last[2]) + window - now}
  end
end
if ARGV[2] == '1' then
  for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[1])
    redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
  end
end
return {0, 0}
"""


def _key(kind: str, *values: str) -> str:
    # Sliding windows are sorted sets under a name of their own: the fixed-window counters
    # (strings) of earlier versions may still sit in Redis after an upgrade, and a key of the
    # other type would fail every sign-in with WRONGTYPE until it expired.
    digest = hashlib.sha256("\0".join(values).encode()).hexdigest()[:32]
    return f"throttle:window:{kind}:{digest}"


@dataclass(frozen=True)
class Window:
    """At most ``limit`` attempts in any ``seconds``; ``name`` is what a 429 says limited it."""

    name: str
    key: str
    limit: int
    seconds: int


@dataclass(frozen=True)
class Refusal:
    window: Window
    retry_after: int  # seconds until the window has room again

    def problem(self, detail: str) -> TooManyRequests:
        return TooManyRequests(detail, retry_after=self.retry_after, limited_by=self.window.name)


@dataclass(frozen=True)
class Limits:
    """The numbers, from the settings (the demo's seeding passes its own)."""

    sign_in_per_account_address: int
    sign_in_per_account: int
    sign_in_per_address: int
    sign_in_window: int
    sign_ups_per_address: int
    sign_up_window: int
    resets_per_address: int
    resets_per_account: int
    reset_window: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            sign_in_per_account_address=settings.login_failures_per_account_address,
            sign_in_per_account=settings.login_failures_per_account,
            sign_in_per_address=settings.login_failures_per_address,
            sign_in_window=settings.login_throttle_window_seconds,
            sign_ups_per_address=settings.signups_per_address,
            sign_up_window=settings.signup_throttle_window_seconds,
            resets_per_address=settings.password_resets_per_address,
            resets_per_account=settings.password_resets_per_account,
            reset_window=settings.password_reset_throttle_window_seconds,
        )


@dataclass(frozen=True)
class SignInAttempt:
    """One counted attempt; hand it back with ``succeeded`` when the password was right."""

    member: str
    pair: Window
    others: tuple[Window, ...]


class AccountThrottle:
    def __init__(self, redis: Redis, limits: Limits) -> None:
        self.redis = redis
        self.limits = limits
        self._take = redis.register_script(_TAKE)

    async def take(self, windows: Sequence[Window], member: str) -> Refusal | None:
        """Count one attempt in every window, or in none when one is full (then say which)."""
        args: list[str | int] = [member, 1]
        for window in windows:
            args += [window.limit, window.seconds * 1000]
        index, wait_ms = await self._take(keys=[w.key for w in windows], args=args)
        if not int(index):
            return None
        window = windows[int(index) - 1]
        return Refusal(window, retry_after=max(1, math.ceil(int(wait_ms) / 1000)))

    # -- sign-in ---------------------------------------------------------------------------
    async def sign_in_attempt(
        self, email: str, address: str, *, known_place: str | None
    ) -> SignInAttempt:
        """Count an attempt to sign in as ``email`` from ``address``; raise TooManyRequests
        (with Retry-After) past a limit. ``known_place`` names the known device or address
        the attempt comes from (see the module's docstring), None when it is unknown."""
        limits = self.limits
        pair = Window(
            "account_address",
            _key("signin:pair", email, known_place or f"address:{address}"),
            limits.sign_in_per_account_address,
            limits.sign_in_window,
        )
        others: tuple[Window, ...] = ()
        if known_place is None:
            others = (
                Window(
                    "account",
                    _key("signin:account", email),
                    limits.sign_in_per_account,
                    limits.sign_in_window,
                ),
                Window(
                    "address",
                    _key("signin:address", address),
                    limits.sign_in_per_address,
                    limits.sign_in_window,
                ),
            )
        member = secrets.token_hex(8)
        refusal = await self.take((pair, *others), member)
        if refusal is not None:
            log.warning("sign-in refused: %s limit reached", refusal.window.name)
            raise refusal.problem(_SIGN_IN_REFUSED[refusal.window.name])
        return SignInAttempt(member=member, pair=pair, others=others)

    async def succeeded(self, attempt: SignInAttempt) -> None:
        """The password was right: this attempt was no failure, and the failures from this
        place (typos, most likely) are forgiven."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(attempt.pair.key)
            for window in attempt.others:
                pipe.zrem(window.key, attempt.member)
            await pipe.execute()

    # -- sign-up and password reset --------------------------------------------------------
    async def sign_up(self, address: str) -> None:
        window = Window(
            "address",
            _key("signup:address", address),
            self.limits.sign_ups_per_address,
            self.limits.sign_up_window,
        )
        refusal = await self.take([window], secrets.token_hex(8))
        if refusal is not None:
            log.warning("sign-up refused: address limit reached")
            raise refusal.problem("too many sign-ups from this address")

    async def reset_requested(self, email: str, address: str) -> bool:
        """Count a request for a reset link. Past the address' limit raise TooManyRequests;
        past the account's, return False: no more links are sent to it for a while, and the
        requester is told nothing they could not tell for any address."""
        limits = self.limits
        place = Window(
            "address",
            _key("reset:address", address),
            limits.resets_per_address,
            limits.reset_window,
        )
        refusal = await self.take([place], secrets.token_hex(8))
        if refusal is not None:
            raise refusal.problem("too many password-reset requests from this address")
        account = Window(
            "account", _key("reset:account", email), limits.resets_per_account, limits.reset_window
        )
        return await self.take([account], secrets.token_hex(8)) is None


_SIGN_IN_REFUSED = {
    "account_address": "too many failed sign-ins for this account from here",
    "account": "too many failed sign-ins for this account from unknown places",
    "address": "too many failed sign-ins from this address",
}
