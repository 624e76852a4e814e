-- wrk script: POST one MCP tools/call (echo "hello") and check every answer.
--
--   BENCH_SESSION_ID=... wrk -t1 -c4 -d5s -s benchmarks/tools_call.lua http://127.0.0.1:PORT/mcp
--
-- A response that is not the expected JSON-RPC result counts as "bad"; done()
-- prints one JSON line (prefixed "BENCH ") that bench_tools_call.py parses.
-- Latencies are in microseconds.

wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
  .. '"params":{"name":"echo","arguments":{"text":"hello"}}}'
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
local session = os.getenv("BENCH_SESSION_ID")
if session and session ~= "" then
  wrk.headers["Mcp-Session-Id"] = session
end

local expected = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}'
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  first_bad = ""
end

function response(status, headers, body)
  if status ~= 200 or body ~= expected then
    if bad == 0 then
      first_bad = status .. " " .. string.sub(body or "", 1, 200)
    end
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total, sample = 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    local b = thread:get("first_bad")
    if b ~= "" then sample = b:gsub("[^%w%p ]", " "):gsub('[\\"]', "'") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bad":%d,"errors":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"bad_sample":"%s"}\n',
    summary.requests, summary.duration, bad_total,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, sample))
end
