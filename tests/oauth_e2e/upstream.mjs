// A real OpenID Connect upstream on loopback for the OAuth proxy end-to-end
// tests: npm `oidc-provider` 9 (run with the Node 22 of tools/node_modules),
// one confidential client, one user, and minimal server-rendered login and
// consent pages that work without JavaScript.
//
//   node upstream.mjs --port N --client-id ID --client-secret SECRET \
//        --redirect-uri URI [--redirect-uri URI ...] [--access-ttl SECONDS] \
//        [--conform-id-token-claims] [--resource-indicators RESOURCE]
//
// With --resource-indicators, every access token is a JWT for the resource
// server RESOURCE (RFC 8707, the default resource of every request), which the
// userinfo endpoint refuses (invalid_token), as it would Entra ID tokens for
// your own API or Auth0 tokens with an `audience`; the `claims` request
// parameter is supported, so a client can still get identity claims in the ID
// token.
//
// Prints one line `READY {"issuer": ..., "port": ...}` once listening, and
// one line `HIT {"method", "path", "status", ...}` per request it answered, so a
// test can see what the proxy asked of it (token exchanges, refreshes,
// revocations). `oidc-provider` is loaded from $FLASK_MCP_OIDC_PROVIDER (its
// package folder) or from tools/node_modules of this repository.
//
// The user: sub "user-123", email "ada@example.com" (verified), name "Ada
// Lovelace"; sign in with username "ada" and password "lovelace-1815" at
// GET /interaction/{uid} (form POST to /interaction/{uid}/login). The consent
// page posts to /interaction/{uid}/confirm ("Allow") or
// /interaction/{uid}/abort ("Deny", error=access_denied).
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir =
  process.env.FLASK_MCP_OIDC_PROVIDER ||
  path.resolve(here, "../../tools/node_modules/oidc-provider");
const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
const { default: Provider, errors } = await import(
  pathToFileURL(path.join(packageDir, manifest.main)).href
);

function options(name) {
  const values = [];
  process.argv.forEach((arg, i) => {
    if (arg === `--${name}`) values.push(process.argv[i + 1]);
  });
  return values;
}

function option(name, fallback) {
  const values = options(name);
  return values.length ? values[values.length - 1] : fallback;
}

const host = option("host", "127.0.0.1");
const port = Number(option("port", "0"));
const clientId = option("client-id", "flask-mcp-proxy");
const clientSecret = option("client-secret", "upstream-secret-0123456789");
const redirectUris = options("redirect-uri");
const accessTtl = Number(option("access-ttl", "3600"));
const resourceServer = option("resource-indicators", null);
if (!port || !redirectUris.length) {
  console.error("usage: upstream.mjs --port N --redirect-uri URI [...]");
  process.exit(2);
}
const issuer = `http://${host}:${port}`;

const USER = {
  sub: "user-123",
  email: "ada@example.com",
  email_verified: true,
  name: "Ada Lovelace",
};
const USERNAME = "ada";
const PASSWORD = "lovelace-1815";

// One RSA signing key made at start-up (no development key warnings).
const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "upstream-rs256", alg: "RS256", use: "sig" };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: "flask_mcp OAuth proxy",
      redirect_uris: redirectUris,
      response_types: ["code"],
      grant_types: ["authorization_code", "refresh_token"],
      // client_secret_post is accepted as well: oidc-provider takes either
      // secret method from a client registered with one of them.
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  async findAccount(_ctx, id) {
    if (id !== USER.sub) return undefined;
    return { accountId: id, async claims() { return { ...USER }; } };
  },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  scopes: ["openid", "email", "profile", "offline_access"],
  // By default the id_token carries email and name too (as Google's and
  // Keycloak's do), not only the userinfo endpoint; --conform-id-token-claims
  // restores oidc-provider's default (OIDC Core 5.4: scope claims only at
  // userinfo when an access token is issued).
  conformIdTokenClaims: process.argv.includes("--conform-id-token-claims"),
  pkce: { required: () => true },
  // Refresh tokens whether or not offline_access survived (it needs prompt=consent).
  async issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed("refresh_token");
  },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    ...(resourceServer ? resourceIndicatorFeatures(resourceServer) : {}),
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
  jwks: { keys: [signingKey] },
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 120,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
    RefreshToken: 24 * 3600,
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page("Upstream error", `<p id="error">${escape(out.error)}: ${escape(out.error_description ?? "")}</p>`);
  },
});

function resourceIndicatorFeatures(resource) {
  return {
    claimsParameter: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return { scope: "api:read", audience: resource, accessTokenFormat: "jwt", accessTokenTTL: accessTtl };
      },
    },
  };
}

// -- pages -------------------------------------------------------------------

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><h1>${escape(title)}</h1>
${body}
</body></html>`;
}

function loginPage(uid, clientName, error) {
  return page(
    "Sign in to the upstream",
    `<p>to continue to <strong id="client">${escape(clientName)}</strong></p>
${error ? `<p id="error" role="alert">${escape(error)}</p>` : ""}
<form id="login" method="post" action="/interaction/${escape(uid)}/login">
  <label>Username <input type="text" name="username" autocomplete="username" required></label>
  <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>`,
  );
}

function consentPage(uid, clientName, scopes) {
  const items = scopes.map((s) => `<li>${escape(s)}</li>`).join("");
  return page(
    "Allow access to your upstream account",
    `<p><strong id="client">${escape(clientName)}</strong> asks for:</p>
<ul id="scopes">${items}</ul>
<form id="confirm" method="post" action="/interaction/${escape(uid)}/confirm">
  <button type="submit">Allow</button>
</form>
<form id="abort" method="post" action="/interaction/${escape(uid)}/abort">
  <button type="submit">Deny</button>
</form>`,
  );
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendHtml(res, status, html) {
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
  });
  res.end(html);
}

// -- interactions ---------------------------------------------------------------

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction uid mismatch");
  const { prompt, params, session } = details;
  const client = await provider.Client.find(params.client_id);
  const clientName = client?.clientName ?? params.client_id;

  if (action === "" && req.method === "GET") {
    if (prompt.name === "login") return sendHtml(res, 200, loginPage(uid, clientName));
    if (prompt.name === "consent") {
      return sendHtml(res, 200, consentPage(uid, clientName, String(params.scope ?? "").split(" ")));
    }
    return sendHtml(res, 501, page("Not implemented", `<p>prompt ${escape(prompt.name)}</p>`));
  }
  if (req.method !== "POST") return sendHtml(res, 405, page("Method not allowed", ""));

  if (action === "login") {
    const form = await readForm(req);
    if (prompt.name !== "login") throw new Error(`login posted during ${prompt.name}`);
    if (form.get("username") !== USERNAME || form.get("password") !== PASSWORD) {
      return sendHtml(res, 200, loginPage(uid, clientName, "Wrong username or password."));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: USER.sub } },
      { mergeWithLastSubmission: false },
    );
  }
  if (action === "confirm") {
    await readForm(req);
    if (prompt.name !== "consent") throw new Error(`consent posted during ${prompt.name}`);
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scope] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scope.join(" "));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
  if (action === "abort") {
    await readForm(req);
    return provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "End-User denied the request" },
      { mergeWithLastSubmission: false },
    );
  }
  return sendHtml(res, 404, page("Not found", ""));
}

// -- server -----------------------------------------------------------------------

const providerCallback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?\/?$/;

function logHit(req, res) {
  const url = new URL(req.url, issuer);
  const hit = { method: req.method, path: url.pathname, status: res.statusCode };
  if (url.pathname === "/auth") hit.query = Object.fromEntries(url.searchParams);
  if (req.oidcGrantType) hit.grant_type = req.oidcGrantType;
  console.log(`HIT ${JSON.stringify(hit)}`);
}

provider.on("grant.success", (ctx) => {
  ctx.req.oidcGrantType = ctx.oidc.params?.grant_type;
});
for (const event of ["grant.error", "authorization.error", "revocation.error", "userinfo.error", "server_error"]) {
  provider.on(event, (_ctx, err) => {
    console.log(`EVENT ${event} ${err?.error ?? ""} ${err?.error_description ?? err?.message ?? ""}`);
  });
}

const server = http.createServer(async (req, res) => {
  res.on("finish", () => logHit(req, res));
  const match = INTERACTION.exec(new URL(req.url, issuer).pathname);
  if (!match) return providerCallback(req, res);
  try {
    await interaction(req, res, match[1], match[2] ?? "");
  } catch (err) {
    console.log(`EVENT interaction.error ${err?.name}: ${err?.message}`);
    if (!res.headersSent) sendHtml(res, 400, page("Interaction failed", `<p id="error">${escape(err?.message)}</p>`));
  }
});

server.listen(port, host, () => {
  console.log(`READY ${JSON.stringify({ issuer, port, client_id: clientId })}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
}
