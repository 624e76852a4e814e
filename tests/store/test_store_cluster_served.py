"""A Redis Cluster of three primaries under gunicorn: sessions, streamed
calls (events, leases), resumption and OAuth registrations work, with the
keys spread over every primary (no operation crosses hash slots)."""

from __future__ import annotations

import typing as t

import requests

from support import free_port
from support.mcp_http import LegacySession
from support.redis_topologies import ClusterGroup


def test_a_cluster_serves_every_kind_of_state(
    cluster_group: ClusterGroup, serve_store_app: t.Any
) -> None:
    for node in cluster_group.nodes:
        node.command("FLUSHALL")
    port = free_port()
    env = {
        "STORE_APP_UPSTREAM": "http://127.0.0.1:9",  # never called
        "STORE_APP_BASE_URL": f"http://127.0.0.1:{port}",
        "MCP_STORE_URL": cluster_group.url,
        "MCP_OAUTH_REGISTRATIONS": "0",
    }
    with serve_store_app(env, port=port) as server:
        http = requests.Session()
        for n in range(10):
            session = LegacySession(http, server.mcp_url)
            assert session.open().status_code == 200
            response, message = session.call("steps", {"count": 2}, progress=True)
            assert response.status_code == 200 and message is not None
            assert message["result"]["content"][0]["text"] == "2 steps"
            ids = [
                line[3:].strip()
                for line in response.text.splitlines()
                if line.startswith("id:") and line[3:].strip()
            ]
            replay = http.get(
                server.mcp_url,
                headers={
                    "Accept": "text/event-stream",
                    "Mcp-Session-Id": str(session.id),
                    "MCP-Protocol-Version": "2025-11-25",
                    "Last-Event-ID": ids[0],
                },
                timeout=30,
            )
            assert replay.status_code == 200 and "2 steps" in replay.text
            registered = http.post(
                server.url + "/oauth/register",
                json={"redirect_uris": [f"http://127.0.0.1:9/cb{n}"]},
                timeout=30,
            )
            assert registered.status_code == 201, registered.text
    sizes = [int(node.query("DBSIZE")) for node in cluster_group.nodes]
    assert all(size > 0 for size in sizes), sizes
