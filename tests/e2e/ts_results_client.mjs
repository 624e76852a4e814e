// The TypeScript SDK's client (tools/node_modules/@modelcontextprotocol/sdk)
// calls tools of an MCP server and prints what it got, one JSON line:
//
//   node ts_results_client.mjs URL TOOL...
//   {"TOOL": {"result": {...}} | {"error": "..."}, ...}
//
// It lists the tools first, as a host does, so it validates structured
// content against each tool's outputSchema.
const sdk = new URL("../../tools/node_modules/@modelcontextprotocol/sdk/dist/esm/", import.meta.url);
const { Client } = await import(new URL("client/index.js", sdk));
const { StreamableHTTPClientTransport } = await import(new URL("client/streamableHttp.js", sdk));

const [url, ...names] = process.argv.slice(2);
const client = new Client({ name: "flask-mcp-ts-results", version: "1" });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
await client.listTools();
const out = {};
for (const name of names) {
  try {
    out[name] = { result: await client.callTool({ name, arguments: {} }) };
  } catch (error) {
    out[name] = { error: String(error) };
  }
}
console.log(JSON.stringify(out));
await client.close();
