// The TypeScript SDK's MCP client (@modelcontextprotocol/sdk, tools/), signing
// in through its own OAuth code (discovery, registration, PKCE) and calling
// one tool, driven by a Python test over stdin/stdout:
//
//   node ts_client.mjs MCP_URL REDIRECT_URI TOOL
//
// Prints one line per HTTP exchange of the client ("FETCH <status> <method>
// <url>"), then "AUTHORIZE <url>" when the user must sign in; the test plays
// the user and writes the code back as one line on stdin. Ends with
// "RESULT <json>" (the tool's result), or "ERROR <message>" and exit 1.
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const sdk = path.resolve(
  here,
  "../../tools/node_modules/@modelcontextprotocol/sdk/dist/esm/client",
);
const load = (name) => import(pathToFileURL(path.join(sdk, name)).href);
const { Client } = await load("index.js");
const { StreamableHTTPClientTransport } = await load("streamableHttp.js");
const { UnauthorizedError } = await load("auth.js");

const [mcpUrl, redirectUrl, tool] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const saved = {};

const provider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK e2e client",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation: () => saved.client,
  saveClientInformation: (client) => {
    saved.client = client;
  },
  tokens: () => saved.tokens,
  saveTokens: (tokens) => {
    saved.tokens = tokens;
  },
  redirectToAuthorization: (url) => {
    console.log(`AUTHORIZE ${url.href}`);
  },
  saveCodeVerifier: (verifier) => {
    saved.verifier = verifier;
  },
  codeVerifier: () => saved.verifier,
};

async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  console.log(`FETCH ${response.status} ${init?.method ?? "GET"} ${url}`);
  return response;
}

function transport() {
  return new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: provider,
    fetch: recordingFetch,
  });
}

try {
  const client = new Client({ name: "ts-sdk-e2e", version: "1.0.0" });
  const first = transport();
  try {
    await client.connect(first);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    const { value: code } = await lines.next();
    await first.finishAuth(code.trim());
    await client.connect(transport());
  }
  const result = await client.callTool({ name: tool, arguments: {} });
  console.log(`RESULT ${JSON.stringify(result)}`);
  await client.close();
  process.exit(0);
} catch (error) {
  console.log(`ERROR ${error?.stack ?? error}`);
  process.exit(1);
}
