"""Rate limits: per client address and per procedure, shared through Redis when configured.

Built on `limits`, the library under slowapi, through its asyncio API: slowapi's `Limiter`
is synchronous, so its Redis calls would block the event loop, and its memory storage
starts a timer thread every 10 ms whose start-up stalls the loop behind the writer thread
(measured: see docs/performance.md). Limits are checked by a function rather than a
decorator because the procedure is only known once the body is read, and because the
hosted form needs the same check (while Redis does not answer, each process counts in its own
memory: `retour.redis_outage`):

    await check_submission_limits(request, procedure_id)   # raises RateLimited (429)
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from typing import Final, NamedTuple

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import ConnectionPool
from starlette.requests import Request
from starlette.types import Scope

from ingest.errors import RateLimited
from retour.redis_outage import REDIS_ERRORS, REDIS_OPTIONS, RedisOutage
from retour.settings import Settings

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# A beacon is sent on every page view: allow many more of them than of submissions.
IMPRESSIONS_FACTOR: Final = 10
SWEEP_INTERVAL: Final = 1.0  # seconds between two sweeps of the memory storage's expired keys
_LIBRARY_SWEEP: Final = "_MemoryStorage__schedule_expiry"  # MemoryStorage's private method


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self._pool: ConnectionPool | None = None
        # Counts in this process: the only ones without Redis, the fallback while it is down.
        self._memory = _SweptMemoryStorage()
        self._memory_limiter = FixedWindowRateLimiter(self._memory)
        self._redis: Storage | None = None
        self._redis_limiter: FixedWindowRateLimiter | None = None
        self.outage = RedisOutage("ingest rate limits")
        if settings.redis_url:
            self._pool = ConnectionPool.from_url(settings.redis_url, **REDIS_OPTIONS)
            self._redis = RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                connection_pool=self._pool,  # type: ignore[arg-type]  # typed too narrowly upstream
            )
            self._redis_limiter = FixedWindowRateLimiter(self._redis)
        self._limiter = self._redis_limiter or self._memory_limiter  # the limits' home
        self._prefix = settings.redis_prefix
        self._per_client = parse(settings.rate_limit)
        self._per_procedure = parse(settings.procedure_rate_limit)
        self._impressions = type(self._per_client)(
            self._per_client.amount * IMPRESSIONS_FACTOR,
            self._per_client.multiples,
            self._per_client.namespace,
        )
        self._client_limit = _Limit.of(self._per_client, self._prefix, "feedback")
        self._procedure_limit = _Limit.of(self._per_procedure, self._prefix, "procedure")
        self._impressions_limit = _Limit.of(self._impressions, self._prefix, "impressions")
        self._trusted: tuple[IpNetwork, ...] = tuple(
            ipaddress.ip_network(proxy, strict=False) for proxy in settings.trusted_proxies
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    def client_address(self, scope: Scope) -> str:
        """The peer, or the right-most untrusted X-Forwarded-For hop when the peer is a proxy.

        Read from the ASGI scope: building Starlette's `Request.client` and `Headers` for it
        cost more than the rest of the check."""
        client = scope.get("client")
        peer: str = client[0] if client else "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        forwarded = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"x-forwarded-for"
            ),
            "",
        )
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop[:64]
        return hops[0][:64] if hops else peer

    async def check_client(self, scope: Scope, kind: str = "feedback") -> None:
        """The per-address limit of a submission (`kind="feedback"`) or an impression."""
        limit = self._impressions_limit if kind == "impressions" else self._client_limit
        await self._hit(limit, self.client_address(scope))

    async def check_procedure(self, procedure_id: str) -> None:
        await self._hit(self._procedure_limit, procedure_id)

    async def _hit(self, limit: _Limit, key: str) -> None:
        item = limit.item
        # What FixedWindowRateLimiter.hit does, with the key's constant parts built once
        # per limit (`key_for` cost as much as the storage's increment); same keys.
        storage_key = f"{limit.head}{key}{limit.tail}"
        limiter = self._memory_limiter
        if self._redis is None or not self.outage.use_redis():
            count = self._memory.incr_now(storage_key, limit.expiry)
        else:
            try:
                count = await self._redis.incr(storage_key, limit.expiry)
            except REDIS_ERRORS as exc:
                # Redis down: this process's own counts rather than none at all, nor a 503
                # that would lose what citizens wrote (retour.redis_outage, one warning).
                self.outage.failed(exc)
                count = self._memory.incr_now(storage_key, limit.expiry)
            else:
                self.outage.answered()
                assert self._redis_limiter is not None
                limiter = self._redis_limiter
        if count <= item.amount:
            return
        try:
            stats = await limiter.get_window_stats(item, self._prefix, key, limit.scope)
            reset_at = stats[0]
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            reset_at = time.time() + limit.expiry
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited("Trop de requêtes ; réessayez plus tard.", retry_after=retry_after)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)


class _Limit(NamedTuple):
    """One limit and the constant parts of its storage keys, `{head}{key}{tail}`."""

    item: RateLimitItem
    scope: str
    head: str
    tail: str
    expiry: int

    @classmethod
    def of(cls, item: RateLimitItem, prefix: str, scope: str) -> _Limit:
        # The key `limits` builds: namespace/prefix/key/scope/amount/multiples/granularity.
        suffix = f"{item.amount}/{item.multiples}/{item.GRANULARITY.name}"
        return cls(
            item, scope, f"{item.namespace}/{prefix}/", f"/{scope}/{suffix}", item.get_expiry()
        )


class _SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage, with its sweep of expired keys at most once a second.

    The library's `incr` starts a task that walks every key after each increment (as soon
    as the previous walk finished): with 10,000 client addresses seen in the last minute a
    hit cost 1.4 ms, against 14 us with one key (measured, in-process). Here an expired
    counter is still reset when its own key is hit, exactly as the library's `get` does,
    so counts and windows are the same; only the freeing of other keys' memory waits up to
    a second. No `await` between reading and writing a counter: no lock needed.
    """

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0
        self._sweeps: set[asyncio.Task[None]] = set()

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self.incr_now(key, expiry, amount)

    def incr_now(self, key: str, expiry: float, amount: int = 1) -> int:
        """`incr` without a coroutine: the limiter's own hits call it directly."""
        now = time.time()
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            self._sweep()
        count = self.storage[key] + amount
        self.storage[key] = count
        if count == amount:
            self.expirations[key] = now + expiry
        return count

    def _sweep(self) -> None:
        # The library's sweep only starts a task (when none runs): start it the same way.
        sweep = getattr(self, _LIBRARY_SWEEP)()
        task = asyncio.get_running_loop().create_task(sweep)
        self._sweeps.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._sweeps.discard)


async def check_submission_limits(request: Request, procedure_id: str) -> None:
    """Both limits a submission is subject to; raises `ingest.errors.RateLimited`."""
    from ingest.state import ingest_state

    limits = ingest_state(request).limits
    await limits.check_client(request.scope)
    await limits.check_procedure(procedure_id)
