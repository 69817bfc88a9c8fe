// Auth0-like OIDC provider for imageshare sign-in tests, built on oauth2-mock-server.
//
//   node provider.mjs --port PORT [--host 127.0.0.1] [--state-file PATH]
//                     [--issuer URL] [--watch-stdin]
//
// Once listening it writes {"port", "issuer", "pid"} to --state-file (atomically)
// and prints "READY <json>" on stdout. SIGTERM/SIGINT stop it cleanly (exit 0).
// --watch-stdin: also exit when stdin reaches EOF (parent process died).
//
// Auth0-style endpoints:
//   GET  /.well-known/openid-configuration    GET /.well-known/jwks.json
//   GET  /authorize (redirects at once, no login page)
//   POST /oauth/token (code, refresh, client credentials)   GET /userinfo
//   (client credentials as Auth0 machine-to-machine: sub CLIENT_ID@clients, no profile)
//   GET  /v2/logout?client_id=..&returnTo=..  GET /oidc/logout (OIDC RP-initiated)
//   POST /oauth/revoke
// Test control API (JSON bodies, Content-Type: application/json):
//   POST /_test/next-login                {sub,nickname,email,name,picture,email_verified}
//   POST /_test/next-id-token-claims      {claim: value|null}  (null deletes the claim)
//   POST /_test/next-access-token-claims  {claim: value|null}
//   POST /_test/next-token-error          {error, error_description, status}
//   POST /_test/next-id-token-raw         {id_token}  replaces the next ID token as sent
//   POST /_test/next-authorize-error      {error, error_description}
//   POST /_test/rotate-keys               {keep_old: true}  -> {kid, kids}
//   POST /_test/reset                     clear pending overrides and the event log
//   GET  /_test/events                    [{type: authorize|token|logout, ...}]
// All "next-*" overrides are one-shot. /authorize picks the user from, in order:
// /_test/next-login, the login_hint query parameter (an email or a nickname),
// or the default user.

import { createHash, randomUUID } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Events, OAuth2Server } from 'oauth2-mock-server';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'state-file': { type: 'string' },
    issuer: { type: 'string' },
    'watch-stdin': { type: 'boolean', default: false },
  },
});

const LIB_TOKEN_PATH = '/_lib/token'; // the library's own handler; /oauth/token wraps it

const server = new OAuth2Server(undefined, undefined, {
  shouldIssuerUrlBeSuffixedWithATralingSlash: true,
  endpoints: {
    jwks: '/.well-known/jwks.json',
    token: LIB_TOKEN_PATH,
    revoke: '/oauth/revoke',
    endSession: '/oidc/logout',
  },
});
const { service, issuer } = server;

// ---- keys: always sign with the newest key (the library's store is round-robin),
// and publish only the kids in `published` -------------------------------------
const keyStore = issuer.keys;
const published = new Set();
let currentKid;
const storeGet = keyStore.get.bind(keyStore);
const storeToJSON = keyStore.toJSON.bind(keyStore);
keyStore.get = (kid) => storeGet(kid ?? currentKid);
keyStore.toJSON = (priv) => storeToJSON(priv).filter((k) => published.has(k.kid));

async function rotateKey(keepOld) {
  const jwk = await keyStore.generate('RS256');
  if (!keepOld) published.clear();
  published.add(jwk.kid);
  currentKid = jwk.kid;
  return jwk.kid;
}

// ---- state -------------------------------------------------------------------
const codes = new Map(); // code -> login context
const refreshTokens = new Map(); // refresh_token -> login context
const accessTokens = new Map(); // access_token -> user
let pending = {};
let events = [];
const take = (name) => {
  const v = pending[name];
  delete pending[name];
  return v;
};

function makeUser(u = {}) {
  const nickname = u.nickname ?? (u.email ? u.email.split('@')[0] : 'testuser');
  const email = u.email ?? `${nickname}@example.com`;
  const md5 = createHash('md5').update(email.trim().toLowerCase()).digest('hex');
  return {
    sub: u.sub ?? `auth0|${nickname}`,
    nickname,
    name: u.name ?? email,
    email,
    email_verified: u.email_verified ?? true,
    picture: u.picture ?? `https://s.gravatar.com/avatar/${md5}?s=480&r=pg&d=identicon`,
    updated_at: new Date().toISOString(),
  };
}

function userFromHint(hint) {
  if (typeof hint !== 'string' || hint === '') return undefined;
  return makeUser(hint.includes('@') ? { email: hint } : { nickname: hint });
}

function applyOverrides(payload, overrides) {
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === null) delete payload[k];
    else payload[k] = v;
  }
}

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const tokenError = (res, status, error, error_description) => sendJson(res, status, { error, error_description });

// ---- discovery: Auth0 paths and fields -------------------------------------------
service.on(Events.BeforeWellKnownOpenIdConfiguration, (response) => {
  const b = response.body;
  b.token_endpoint = new URL('oauth/token', b.issuer).href;
  b.token_endpoint_auth_methods_supported = ['client_secret_basic', 'client_secret_post', 'none'];
  b.scopes_supported = ['openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email', 'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address'];
  b.claims_supported = ['aud', 'auth_time', 'created_at', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'identities', 'iss', 'name', 'nickname', 'phone_number', 'picture', 'sub'];
  b.code_challenge_methods_supported = ['S256', 'plain'];
  b.grant_types_supported = ['authorization_code', 'refresh_token', 'client_credentials', 'password'];
  delete b.introspection_endpoint;
});

// ---- /authorize: choose the user, remember the request per code ----------------
service.on(Events.BeforeAuthorizeRedirect, ({ url }, req) => {
  const q = req.query;
  const forcedError = take('authorizeError');
  if (forcedError) {
    url.searchParams.delete('code');
    url.searchParams.set('error', forcedError.error ?? 'access_denied');
    url.searchParams.set('error_description', forcedError.error_description ?? 'User did not authorize the request');
  }
  const code = url.searchParams.get('code');
  const next = take('login');
  const user = next ? makeUser(next) : userFromHint(q.login_hint) ?? makeUser();
  events.push({ type: 'authorize', client_id: q.client_id, redirect_uri: q.redirect_uri, audience: q.audience, scope: q.scope, screen_hint: q.screen_hint, sub: user.sub, error: forcedError ? url.searchParams.get('error') : undefined });
  if (!code) return;
  codes.set(code, {
    user,
    clientId: q.client_id,
    redirectUri: q.redirect_uri,
    audience: q.audience,
    scope: q.scope ?? 'openid',
    nonce: q.nonce,
    codeChallenge: q.code_challenge,
    codeChallengeMethod: q.code_challenge_method ?? 'plain',
    sid: randomUUID(),
  });
});

// ---- /oauth/token: Auth0-style checks, then the library's token handler --------
async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function parseForm(raw, contentType) {
  if (contentType.includes('application/json')) {
    try { return JSON.parse(raw.toString('utf8')); } catch { return {}; }
  }
  return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
}

function basicClientId(req) {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  return decodeURIComponent(decoded.split(':')[0]);
}

const s256 = (v) => createHash('sha256').update(v).digest('base64url');

service.addRouteInternal('POST', '/oauth/token', async (req, res) => {
  const raw = await readBody(req);
  const body = parseForm(raw, req.headers['content-type'] ?? '');
  const clientId = basicClientId(req) ?? body.client_id;
  events.push({ type: 'token', grant_type: body.grant_type, client_id: clientId });

  const forced = take('tokenError');
  if (forced) return tokenError(res, forced.status ?? 403, forced.error ?? 'invalid_grant', forced.error_description ?? 'Forced error');

  let ctx;
  if (body.grant_type === 'authorization_code') {
    ctx = codes.get(body.code);
    if (!ctx || ctx.used) return tokenError(res, 403, 'invalid_grant', 'Invalid authorization code');
    ctx.used = true; // single use, even if the checks below fail
    if (ctx.clientId !== undefined && clientId !== ctx.clientId) return tokenError(res, 403, 'invalid_grant', 'client_id does not match the authorization request');
    if (ctx.redirectUri !== undefined && body.redirect_uri !== undefined && body.redirect_uri !== ctx.redirectUri) return tokenError(res, 403, 'invalid_grant', 'redirect_uri does not match the authorization request');
    if (ctx.codeChallenge !== undefined) {
      const v = body.code_verifier;
      if (typeof v !== 'string') return tokenError(res, 403, 'invalid_grant', 'Parameter code_verifier is required');
      const expected = ctx.codeChallengeMethod === 'S256' ? s256(v) : v;
      if (expected !== ctx.codeChallenge) return tokenError(res, 403, 'invalid_grant', 'Failed to verify code verifier');
    } else if (body.code_verifier !== undefined) {
      return tokenError(res, 403, 'invalid_grant', 'Failed to verify code verifier');
    }
  } else if (body.grant_type === 'client_credentials') {
    // Auth0 machine-to-machine: the token speaks for the application itself.
    if (!body.audience) return tokenError(res, 403, 'access_denied', 'No audience parameter was provided, and no default audience has been configured');
    ctx = { machine: true, clientId, audience: body.audience, scope: body.scope ?? '' };
  } else if (body.grant_type === 'refresh_token') {
    ctx = refreshTokens.get(body.refresh_token);
    if (!ctx) return tokenError(res, 403, 'invalid_grant', 'Unknown or invalid refresh token.');
    ctx = { ...ctx, nonce: undefined };
  }

  // Replay the buffered body to the library's handler.
  const replay = Readable.from([raw]);
  Object.assign(replay, { headers: req.headers, method: req.method, url: req.url, ctx });
  await service.tokenHandler(replay, res);
});

service.on(Events.BeforeTokenSigning, (token, req) => {
  const ctx = req.ctx;
  if (!ctx) return;
  const p = token.payload;
  const userinfoAud = new URL('userinfo', issuer.url).href;
  if (ctx.machine) {
    // As Auth0 makes them: sub CLIENT_ID@clients, the API alone as audience, no profile.
    delete p.amr;
    Object.assign(p, { sub: `${ctx.clientId}@clients`, aud: ctx.audience, azp: ctx.clientId,
                       gty: 'client-credentials', scope: ctx.scope });
    applyOverrides(p, take('accessTokenClaims'));
  } else if ('scope' in p) {
    // access token (the library builds it first, with a `scope` claim)
    delete p.amr;
    Object.assign(p, {
      sub: ctx.user.sub,
      aud: ctx.audience ? [ctx.audience, userinfoAud] : userinfoAud,
      azp: ctx.clientId,
      scope: ctx.scope,
    });
    applyOverrides(p, take('accessTokenClaims'));
  } else {
    // ID token
    const { sub, nickname, name, picture, updated_at, email, email_verified } = ctx.user;
    Object.assign(p, { sub, nickname, name, picture, updated_at, email, email_verified, aud: ctx.clientId, sid: ctx.sid });
    if (ctx.nonce !== undefined) p.nonce = ctx.nonce;
    else delete p.nonce;
    applyOverrides(p, take('idTokenClaims'));
  }
});

service.on(Events.BeforeResponse, (response, req) => {
  if (new URL(req.url ?? '/', 'http://x').pathname === LIB_TOKEN_PATH) {
    response.statusCode = 404; // only reachable through the /oauth/token wrapper
    response.body = { error: 'not_found' };
    return;
  }
  const ctx = req.ctx;
  if (!ctx || response.statusCode !== 200) return;
  const b = response.body;
  b.scope = ctx.scope;
  const raw = take('idTokenRaw');
  if (raw !== undefined) b.id_token = raw; // forged tokens for the refusal tests
  if (ctx.user) accessTokens.set(b.access_token, ctx.user); // machines have no /userinfo
  if (ctx.scope.split(' ').includes('offline_access')) refreshTokens.set(b.refresh_token, ctx);
  else delete b.refresh_token; // Auth0 only issues refresh tokens for offline_access
});

// ---- /userinfo ------------------------------------------------------------------
service.on(Events.BeforeUserinfo, (response, req) => {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const user = m ? accessTokens.get(m[1]) : undefined;
  if (!user) {
    response.statusCode = 401;
    response.body = { error: 'invalid_token', error_description: 'Unauthorized' };
    return;
  }
  response.body = { ...user };
});

// ---- Auth0 logout -----------------------------------------------------------------
service.addRoute('GET', '/v2/logout', (req, res) => {
  const { client_id, returnTo } = req.query;
  events.push({ type: 'logout', client_id, returnTo });
  if (typeof returnTo === 'string' && returnTo !== '') {
    res.writeHead(302, { Location: returnTo });
    res.end();
  } else {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('OK');
  }
});

// ---- test control API -----------------------------------------------------------------
const control = {
  'next-login': (b) => { pending.login = b; },
  'next-id-token-claims': (b) => { pending.idTokenClaims = b; },
  'next-access-token-claims': (b) => { pending.accessTokenClaims = b; },
  'next-token-error': (b) => { pending.tokenError = b; },
  'next-id-token-raw': (b) => { pending.idTokenRaw = b.id_token; },
  'next-authorize-error': (b) => { pending.authorizeError = b; },
  'rotate-keys': async (b) => {
    const kid = await rotateKey(b.keep_old ?? true);
    return { kid, kids: [...published] };
  },
  reset: () => { pending = {}; events = []; },
};
for (const [name, fn] of Object.entries(control)) {
  service.addRoute('POST', `/_test/${name}`, async (req, res) => {
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    sendJson(res, 200, (await fn(body)) ?? { ok: true });
  });
}
service.addRoute('GET', '/_test/events', (_req, res) => sendJson(res, 200, events));

// ---- start / stop -----------------------------------------------------------------------
await rotateKey(false);
const port = Number(args.port);
await server.start(port, args.host);
const actualPort = server.address().port;
const hostForUrl = args.host.includes(':') ? `[${args.host}]` : args.host;
issuer.url = args.issuer ?? `http://${hostForUrl}:${actualPort}/`;

const stateFile = args['state-file'];
const ready = { port: actualPort, issuer: issuer.url, pid: process.pid };
if (stateFile) {
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(ready));
  renameSync(`${stateFile}.tmp`, stateFile);
}
console.log(`READY ${JSON.stringify(ready)}`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref(); // don't hang on busy keep-alive sockets
  try { await server.stop(); } catch { /* already stopped */ }
  if (stateFile) rmSync(stateFile, { force: true });
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args['watch-stdin']) {
  process.stdin.on('end', shutdown);
  process.stdin.resume();
}
