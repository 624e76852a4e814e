// A 2025-11-25 session of the TypeScript SDK client (@modelcontextprotocol/sdk
// 1.x, tools/node_modules), connected and idle, as an assistant sits between
// tasks: the SDK opens its GET stream and reopens it whenever it ends.
//
//   node ts_client.mjs URL
//
// Prints `READY <session id>` once connected, `HTTP <method> <status>
// last-event-id=<id>` for every request the transport makes, `NOTIFY
// <method>` for each notification and `ERROR <message>` for the transport's
// errors. Runs until killed.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const sdk = path.join(
  here, "..", "..", "tools", "node_modules", "@modelcontextprotocol", "sdk", "dist", "esm",
);
const load = (name) => import(pathToFileURL(path.join(sdk, name)).href);
const { Client } = await load("client/index.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { ToolListChangedNotificationSchema } = await load("types.js");

const [url] = process.argv.slice(2);

async function tracingFetch(input, init) {
  const response = await fetch(input, init);
  const headers = new Headers(init?.headers);
  const last = headers.get("last-event-id") ?? "-";
  console.log(`HTTP ${init?.method ?? "GET"} ${response.status} last-event-id=${last}`);
  return response;
}

const client = new Client({ name: "ts-held", version: "1.0.0" });
client.setNotificationHandler(ToolListChangedNotificationSchema, (notification) => {
  console.log(`NOTIFY ${notification.method}`);
});
client.onerror = (error) => console.log(`ERROR ${error.message}`);
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: tracingFetch });
await client.connect(transport);
console.log(`READY ${transport.sessionId}`);
setInterval(() => {}, 60_000);
