"""Whose address a request comes from (imageshare/addresses.py): the peer, or behind our
own proxies the address the outermost of them saw; never what the client wrote."""

from __future__ import annotations

import pytest

from imageshare.addresses import client_address


def scope(peer: str | None, *forwarded: str) -> dict:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 50000) if peer else None, "headers": headers}


@pytest.mark.parametrize(
    ("request_scope", "hops", "expected"),
    [
        (scope("203.0.113.7"), 0, "203.0.113.7"),
        # Without trusted proxies a client cannot choose its address by a header.
        (scope("203.0.113.7", "1.2.3.4"), 0, "203.0.113.7"),
        # CloudFront then the load balancer: viewer, CloudFront edge; peer is the ALB.
        (scope("10.0.1.5", "198.51.100.9, 130.176.1.1"), 2, "198.51.100.9"),
        # A client that sends its own X-Forwarded-For only adds entries on the left.
        (scope("10.0.1.5", "6.6.6.6, 7.7.7.7, 198.51.100.9, 130.176.1.1"), 2, "198.51.100.9"),
        # Several header lines are one list.
        (scope("10.0.1.5", "198.51.100.9", "130.176.1.1"), 2, "198.51.100.9"),
        (scope("10.0.1.5", "198.51.100.9"), 1, "198.51.100.9"),
        # Fewer entries than proxies: the leftmost is the best there is.
        (scope("10.0.1.5", "130.176.1.1"), 2, "130.176.1.1"),
        # Not through the proxies (a health check straight to the task): the peer.
        (scope("10.0.1.5"), 2, "10.0.1.5"),
        (scope(None), 0, "unknown"),
    ],
)
def test_the_client_address(request_scope, hops, expected):
    assert client_address(request_scope, trusted_proxy_hops=hops) == expected
