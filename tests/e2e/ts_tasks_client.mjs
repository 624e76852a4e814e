// A 2025-11-25 task through the TypeScript SDK's experimental tasks API.
//
// node ts_tasks_client.mjs URL: connects (2025-11-25, with an elicitation
// handler that approves), then drives the tasks of the example app through
// client.experimental.tasks and prints one JSON line of what it saw.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The SDK from tools/node_modules of this repository (this file lives in tests/).
const here = path.dirname(fileURLToPath(import.meta.url));
const sdk = (file) =>
  import(
    pathToFileURL(
      path.resolve(here, '../../tools/node_modules/@modelcontextprotocol/sdk/dist/esm', file)
    ).href
  );
const { Client } = await sdk('client/index.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
const { CallToolResultSchema, ElicitRequestSchema } = await sdk('types.js');

const url = new URL(process.argv[2]);
const client = new Client(
  { name: 'flask-mcp-tasks-test', version: '1.0.0' },
  { capabilities: { elicitation: {} } }
);
const elicitations = [];
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  elicitations.push(request.params);
  return { action: 'accept', content: { approve: true } };
});

async function drive(params) {
  const messages = [];
  for await (const message of client.experimental.tasks.callToolStream(params)) {
    messages.push(
      message.type === 'error'
        ? { type: 'error', message: String(message.error?.message ?? message.error) }
        : message
    );
  }
  return messages;
}

const out = {};
await client.connect(new StreamableHTTPClientTransport(url));
out.protocolVersion = client.transport?.protocolVersion;
out.capabilities = client.getServerCapabilities();
const tools = (await client.listTools()).tools;
out.taskSupport = Object.fromEntries(
  tools.filter((t) => t.execution).map((t) => [t.name, t.execution.taskSupport])
);

// An optional task tool, followed to its result.
out.report = await drive({ name: 'slow_report', arguments: { rows: 3, seconds_per_row: 0.05 } });
// A required one that asks mid-task: the question arrives on tasks/result.
out.export = await drive({ name: 'export_with_approval', arguments: { dataset: 'sales' } });
out.elicitations = elicitations;

// A long one: listed, polled, cancelled.
const stream = client.experimental.tasks.callToolStream({
  name: 'slow_report',
  arguments: { rows: 200, seconds_per_row: 0.1 }
});
const first = (await stream.next()).value;
const taskId = first.task.taskId;
out.listed = (await client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId);
out.polled = await client.experimental.tasks.getTask(taskId);
out.cancelled = await client.experimental.tasks.cancelTask(taskId);
out.afterCancel = await client.experimental.tasks.getTask(taskId);
try {
  await client.experimental.tasks.cancelTask(taskId);
  out.cancelAgain = 'accepted';
} catch (error) {
  out.cancelAgain = { code: error.code, message: error.message };
}
await stream.return();
const finished = out.report.find((m) => m.type === 'taskCreated').task.taskId;
out.result = await client.experimental.tasks.getTaskResult(finished, CallToolResultSchema);
try {
  await client.callTool({ name: 'export_with_approval', arguments: { dataset: 'x' } });
  out.plainCallOfRequired = 'accepted';
} catch (error) {
  out.plainCallOfRequired = String(error.message);
}
await client.close();
console.log(JSON.stringify(out));
