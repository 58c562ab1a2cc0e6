"""Sign-in attempts counted per account and per address in Redis, each in a fixed window.

Per account, every attempt counts before the password is checked (so a burst of parallel
guesses cannot slip past the limit) and a success clears the count. Per address, only
failures count, so many people signing in from one hospital network do not lock each other out.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from medmarket.errors import TooManyRequests


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"throttle:signin:{kind}:{digest}"


class SignInThrottle:
    def __init__(self, redis: Redis, *, per_account: int, per_address: int, window: int) -> None:
        self.redis = redis
        self.per_account = per_account
        self.per_address = per_address
        self.window = window

    async def attempt(self, email: str, address: str) -> None:
        """Count an attempt; raise TooManyRequests (with Retry-After) past either limit."""
        account, place = _key("account", email), _key("address", address)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(account)
            pipe.expire(account, self.window, nx=True)
            pipe.ttl(account)
            pipe.get(place)
            pipe.ttl(place)
            attempts, _, account_ttl, failures, place_ttl = await pipe.execute()
        if int(attempts) > self.per_account:
            raise TooManyRequests(
                "too many sign-in attempts for this account",
                retry_after=max(int(account_ttl), 1),
                limited_by="account",
            )
        if failures is not None and int(failures) >= self.per_address:
            raise TooManyRequests(
                "too many failed sign-ins from this address",
                retry_after=max(int(place_ttl), 1),
                limited_by="address",
            )

    async def failed(self, address: str) -> None:
        place = _key("address", address)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(place)
            pipe.expire(place, self.window, nx=True)
            await pipe.execute()

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(_key("account", email))
