// A real OAuth 2 issuer on loopback for the JWT tests: oauth2-mock-server plus
// a few test-only admin routes.
//
//   node mock_issuer.mjs [--port N] [--host 127.0.0.1]
//
// Prints one line `READY {"issuer": ..., "port": ...}` once listening.
// oauth2-mock-server is loaded from $FLASK_MCP_OAUTH2_MOCK_SERVER (its package
// folder) or from tools/node_modules of this repository.
//
// Admin routes (JSON in, JSON out):
//   POST /admin/keys   {alg, kid?}                   -> public JWK of a new key (rotation)
//   POST /admin/token  {kid?, claims?, header?, expiresIn?} -> {token}
//   GET  /admin/stats                               -> {jwks, openid_configuration, ...}
// A token from the standard POST /token endpoint gets `roles` (space-separated)
// and `aud` from the request body when given.
import http from "node:http";

import { Events, OAuth2Issuer, OAuth2Service, option } from "../support/oauth2_mock_server.mjs";

const host = option("host", "127.0.0.1");
const port = Number(option("port", "0"));

const issuer = new OAuth2Issuer();
const service = new OAuth2Service(issuer);
const hits = {};

await issuer.keys.generate("RS256", { kid: "initial-rsa" });

function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, ...rest } = jwk;
  return rest;
}

function send(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

service.addRoute("POST", "/admin/keys", async (req, res) => {
  const { alg = "RS256", kid, crv } = req.body ?? {};
  const jwk = await issuer.keys.generate(alg, { kid, crv });
  send(res, 200, publicJwk(jwk));
});

service.addRoute("POST", "/admin/token", async (req, res) => {
  const { kid, claims = {}, header = {}, expiresIn } = req.body ?? {};
  try {
    const token = await issuer.buildToken({
      kid,
      expiresIn,
      scopesOrTransform: (h, payload) => {
        // A null value removes that member instead of setting it.
        for (const [target, values] of [[h, header], [payload, claims]]) {
          for (const [name, value] of Object.entries(values)) {
            if (value === null) delete target[name];
            else target[name] = value;
          }
        }
      },
    });
    send(res, 200, { token });
  } catch (error) {
    send(res, 400, { error: String(error) });
  }
});

service.addRoute("GET", "/admin/stats", (req, res) => send(res, 200, hits));

service.on(Events.BeforeTokenSigning, (token, req) => {
  if (typeof req.body?.roles === "string") token.payload.roles = req.body.roles.split(" ");
  if (req.body?.aud !== undefined) token.payload.aud = req.body.aud;
});

const server = http.createServer((req, res) => {
  const name = new URL(req.url, "http://x").pathname.replace(/^\/(\.well-known\/)?/, "");
  hits[name.replace(/[-/]/g, "_")] = (hits[name.replace(/[-/]/g, "_")] ?? 0) + 1;
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
