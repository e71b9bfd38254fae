"""Rate limits: per client address and per procedure, shared through Redis when configured.

Built on `limits`, the library under slowapi, through its public asyncio API (a fixed
window; `RedisStorage` when `RETOUR_REDIS_URL` is set, `MemoryStorage` otherwise): slowapi's
`Limiter` is synchronous, so its Redis calls would block the event loop. Limits are
checked by `ingest.submissions.accept` rather than a decorator, because the procedure is
only known once the body is read. While Redis does not answer, each process counts the
limits in its own memory (`retour.redis_outage`: one warning, Redis tried again every second).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from typing import Final

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import ConnectionPool
from starlette.requests import Request
from starlette.types import Scope

from ingest.errors import RateLimited
from retour.redis_outage import REDIS_ERRORS, REDIS_OPTIONS, RedisOutage
from retour.settings import Settings

log = logging.getLogger("retour.ingest")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# A beacon is sent on every page view: allow many more of them than of submissions.
IMPRESSIONS_FACTOR: Final = 10


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self._pool: ConnectionPool | None = None
        # Counts in this process: the only ones without Redis, the fallback while it is down.
        self._memory_limiter = FixedWindowRateLimiter(MemoryStorage())
        self._redis_limiter: FixedWindowRateLimiter | None = None
        self.outage = RedisOutage("ingest rate limits")
        self.storage: Storage
        if settings.redis_url:
            self._pool = ConnectionPool.from_url(settings.redis_url, **REDIS_OPTIONS)
            self.storage = RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                connection_pool=self._pool,  # type: ignore[arg-type]  # typed too narrowly upstream
            )
            self._redis_limiter = FixedWindowRateLimiter(self.storage)
        else:
            self.storage = self._memory_limiter.storage
        self._limiter = self._redis_limiter or self._memory_limiter  # the limits' home
        self._prefix = settings.redis_prefix
        self._per_client = parse(settings.rate_limit)
        self._per_procedure = parse(settings.procedure_rate_limit)
        self._impressions = type(self._per_client)(
            self._per_client.amount * IMPRESSIONS_FACTOR,
            self._per_client.multiples,
            self._per_client.namespace,
        )
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

    async def check_client(self, request: Request, kind: str = "feedback") -> None:
        """The per-address limit of a submission (`kind="feedback"`) or an impression."""
        item = self._impressions if kind == "impressions" else self._per_client
        await self._hit(item, self.client_address(request.scope), kind)

    async def check_procedure(self, procedure_id: str) -> None:
        await self._hit(self._per_procedure, procedure_id, "procedure")

    async def _hit(self, item: RateLimitItem, key: str, scope: str) -> None:
        reset_at: float | None
        if self._redis_limiter is not None and self.outage.use_redis():
            try:
                if await self._redis_limiter.hit(item, self._prefix, key, scope):
                    self.outage.answered()
                    return
                stats = await self._redis_limiter.get_window_stats(item, self._prefix, key, scope)
                self.outage.answered()
                reset_at = stats[0]
            except REDIS_ERRORS as exc:
                # Redis down: this process's own counts rather than none at all, nor a 503
                # that would lose what citizens wrote (retour.redis_outage, one warning).
                self.outage.failed(exc)
                reset_at = await self._hit_memory(item, key, scope)
        else:
            reset_at = await self._hit_memory(item, key, scope)
        if reset_at is None:
            return
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited("Trop de requêtes ; réessayez plus tard.", retry_after=retry_after)

    async def _hit_memory(self, item: RateLimitItem, key: str, scope: str) -> float | None:
        """Counted in this process; None when allowed, else when the window resets."""
        if await self._memory_limiter.hit(item, self._prefix, key, scope):
            return None
        return (await self._memory_limiter.get_window_stats(item, self._prefix, key, scope))[0]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)
