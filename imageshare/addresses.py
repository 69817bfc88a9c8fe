"""Whose address a request comes from, for limits per client address.

Behind proxies the connection's peer is the last proxy, not the client. Each proxy we
run appends the address it saw connect to X-Forwarded-For (CloudFront appends the
viewer's, the load balancer CloudFront's), so with TRUSTED_PROXY_HOPS proxies in front
the client is that many entries from the right. Entries further left are whatever the
client itself sent and are never believed.
"""

from __future__ import annotations

from starlette.types import Scope


def client_address(scope: Scope, *, trusted_proxy_hops: int) -> str:
    """The client's address for this HTTP or WebSocket scope."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if trusted_proxy_hops <= 0:
        return address
    forwarded = b",".join(
        value for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"
    )
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    if not hops:
        return address  # not through our proxies after all (a health check, say)
    return hops[-trusted_proxy_hops] if len(hops) >= trusted_proxy_hops else hops[0]
