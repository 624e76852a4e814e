// The upstream identity provider of the OAuth proxy tests: oauth2-mock-server
// (a real OAuth 2 / OIDC server: /authorize redirects straight back with a
// code, /token checks PKCE and issues signed tokens) plus test-only controls.
//
//   node upstream_issuer.mjs [--port N] [--host 127.0.0.1]
//
// Prints `READY {"issuer": ..., "port": ...}` once listening. The package is
// loaded from $FLASK_MCP_OAUTH2_MOCK_SERVER or tools/node_modules.
//
// Admin routes (JSON in, JSON out):
//   POST /admin/config {expires_in?: n|null}       expires_in of later token responses
//   POST /admin/next-authorize-error {error, error_description?}   next /authorize answers with it
//   POST /admin/next-token-error {error}           next /token request is refused with it
//   POST /admin/token {claims?, header?, expiresIn?} -> {token}   a token signed by the issuer
//   GET  /admin/stats  -> {authorize, token: {grant_type: n}, revoked: [token...], userinfo}
// /userinfo answers sub "johndoe" with an e-mail address and a name.
import http from "node:http";

import { Events, OAuth2Issuer, OAuth2Service, option } from "../support/oauth2_mock_server.mjs";

const host = option("host", "127.0.0.1");
const port = Number(option("port", "0"));

const issuer = new OAuth2Issuer();
const service = new OAuth2Service(issuer);
await issuer.keys.generate("RS256", { kid: "upstream-rsa" });

const config = { expires_in: null };
let nextAuthorizeError = null;
let nextTokenError = null;
const stats = { authorize: 0, token: {}, revoked: [], userinfo: 0 };

function send(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

service.addRoute("POST", "/admin/config", (req, res) => {
  Object.assign(config, req.body ?? {});
  send(res, 200, config);
});

service.addRoute("POST", "/admin/next-authorize-error", (req, res) => {
  nextAuthorizeError = req.body;
  send(res, 200, {});
});

service.addRoute("POST", "/admin/next-token-error", (req, res) => {
  nextTokenError = req.body;
  send(res, 200, {});
});

service.addRoute("POST", "/admin/token", async (req, res) => {
  const { claims = {}, header = {}, expiresIn } = req.body ?? {};
  const token = await issuer.buildToken({
    expiresIn,
    scopesOrTransform: (h, payload) => {
      Object.assign(h, header);
      Object.assign(payload, claims);
    },
  });
  send(res, 200, { token });
});

service.addRoute("GET", "/admin/stats", (req, res) => send(res, 200, stats));

service.on(Events.BeforeAuthorizeRedirect, (redirect) => {
  stats.authorize += 1;
  if (nextAuthorizeError) {
    redirect.url.searchParams.delete("code");
    for (const [name, value] of Object.entries(nextAuthorizeError)) {
      redirect.url.searchParams.set(name, value);
    }
    nextAuthorizeError = null;
  }
});

service.on(Events.BeforeResponse, (response, req) => {
  const grant = req.body?.grant_type ?? "unknown";
  stats.token[grant] = (stats.token[grant] ?? 0) + 1;
  if (nextTokenError) {
    response.statusCode = 400;
    response.body = nextTokenError;
    nextTokenError = null;
    return;
  }
  if (config.expires_in !== null) response.body.expires_in = config.expires_in;
});

service.on(Events.BeforeUserinfo, (response) => {
  stats.userinfo += 1;
  response.body = {
    sub: "johndoe",
    email: "john@example.com",
    email_verified: true,
    name: "John Doe",
  };
});

function readBody(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => resolve(data));
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  if (req.method === "POST" && url.pathname === "/revoke") {
    const form = new URLSearchParams(await readBody(req));
    stats.revoked.push(form.get("token"));
    res.writeHead(200);
    res.end();
    return;
  }
  service.requestHandler(req, res);
});

server.listen(port, host, () => {
  const actual = server.address().port;
  issuer.url = `http://${host}:${actual}`;
  process.stdout.write(`READY ${JSON.stringify({ issuer: issuer.url, port: actual })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
