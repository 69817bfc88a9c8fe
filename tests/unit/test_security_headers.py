"""The security headers middleware: every response gets the basic headers; pages get a
Content-Security-Policy allowing exactly their own inline scripts, by hash."""

import base64
import hashlib

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from imageshare.security_headers import SecurityHeaders, inline_script_hashes, policy_template
from imageshare.settings import load_settings

PAGE = (
    b'<html><head><script src="/assets/app.js"></script><script>window.a = 1;</script>'
    b'<script type="module" async="">import("/assets/x.js");</script></head><body></body></html>'
)


def digest(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


def client(settings=None) -> TestClient:
    async def page(_request):
        return HTMLResponse(PAGE)

    async def data(_request):
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[Route("/", page), Route("/graphql", page), Route("/data", data)],
        middleware=[Middleware(SecurityHeaders, settings=settings or load_settings({}))],
    )
    return TestClient(app)


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_every_response_gets_the_basic_headers():
    for path in ("/", "/data", "/graphql"):
        headers = client().get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["x-frame-options"] == "DENY"
    assert "content-security-policy" not in client().get("/data").headers


def test_a_page_allows_exactly_its_inline_scripts():
    response = client().get("/", headers={"Accept": "text/html"})
    assert response.content == PAGE
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == [
        "'self'",
        "'unsafe-eval'",
        digest(b"window.a = 1;"),
        digest(b'import("/assets/x.js");'),
    ]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    # Every loopback spelling but [::1], which CSP cannot name (browsers refuse it).
    assert policy["connect-src"] == ["'self'", "ws://localhost:3000", "ws://127.0.0.1:3000"]


def test_html_fetched_without_navigating_allows_no_inline_script():
    policy = directives(client().get("/").headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", "'unsafe-eval'"]


def test_graphiql_keeps_its_cdn_scripts():
    response = client().get("/graphql", headers={"Accept": "text/html"})
    assert "content-security-policy" not in response.headers


def test_media_and_provider_origins_are_allowed():
    settings = load_settings(
        {
            "PUBLIC_URL": "https://images.example.com",
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": "media-bucket",
            "S3_REGION": "eu-west-1",
            "CDN_BASE_URL": "https://d111.cloudfront.net",
            "AUTH0_DOMAIN": "tenant.eu.auth0.com",
            "AUTH0_CLIENT_ID": "c",
            "AUTH0_CLIENT_SECRET": "s",
        }
    )
    policy = directives(policy_template(settings).format(scripts=""))
    assert "https://d111.cloudfront.net" in policy["img-src"]
    assert "https://media-bucket.s3.eu-west-1.amazonaws.com" in policy["img-src"]
    assert policy["connect-src"] == ["'self'", "wss://images.example.com"]
    assert policy["form-action"] == ["'self'", "https://tenant.eu.auth0.com"]


def test_empty_and_external_scripts_are_not_hashed():
    assert inline_script_hashes(b'<script id="_R_"></script><script src="/a.js"></script>') == []


def test_a_page_read_for_its_hashes_is_still_sent_compressed():
    big = PAGE.replace(b"<body></body>", b"<body>" + b"<p>gallery</p>" * 200 + b"</body>")

    async def page(_request):
        return HTMLResponse(big)

    app = Starlette(
        routes=[Route("/", page)],
        middleware=[Middleware(SecurityHeaders, settings=load_settings({}))],
    )
    browser = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br"}
    response = TestClient(app).get("/", headers=browser)
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(big) // 5
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.content == big  # the client undid the gzip: the same page
    assert digest(b"window.a = 1;") in response.headers["content-security-policy"]
    plain = TestClient(app).get("/", headers={"Accept": "text/html", "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == big
