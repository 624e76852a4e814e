"""Draw the OAuth proxy's sequence diagram as a standalone SVG.

The docs build offline and without graphviz or Mermaid, so the diagram is
drawn here, from the list of steps below, and the SVG is committed to
``docs/_static``. After changing a step, run::

    python docs/_diagrams/sequence.py

The docs tests check that the committed file is what this script draws.
"""

from __future__ import annotations

import pathlib
import sys
from xml.sax.saxutils import escape

STATIC = pathlib.Path(__file__).resolve().parents[1] / "_static"
OUTPUT = STATIC / "oauth-proxy-flow.svg"

PARTICIPANTS = [
    ("client", "MCP client"),
    ("browser", "User's browser"),
    ("server", "flask_mcp app"),
    ("upstream", "Identity provider"),
]

#: (from, to, label, dashed): a request, or (dashed) its answer; from == to
#: is a note on that lifeline; from == "" starts a titled section.
STEPS: list[tuple[str, str, str, bool]] = [
    ("", "", "1. Discovery and registration", False),
    ("client", "server", "POST /mcp (no token)", False),
    ("server", "client", '401 WWW-Authenticate: Bearer resource_metadata="..."', True),
    ("client", "server", "GET /.well-known/oauth-protected-resource/mcp", False),
    ("client", "server", "GET /.well-known/oauth-authorization-server", False),
    ("client", "server", "POST /oauth/register {redirect_uris, ...}", False),
    ("server", "client", "201 {client_id}", True),
    ("", "", "2. Authorization: consent, then the provider", False),
    ("client", "browser", "open /oauth/authorize?client_id&code_challenge...", False),
    ("browser", "server", "GET /oauth/authorize", False),
    ("server", "browser", "302 /oauth/consent (first time for this client)", True),
    ("browser", "server", "POST /oauth/consent: Allow (CSRF token)", False),
    ("server", "browser", "302 provider's authorize URL (own state + PKCE)", True),
    ("browser", "upstream", "the user signs in", False),
    ("upstream", "browser", "302 {base_url}/oauth/callback?code&state", True),
    ("browser", "server", "GET /oauth/callback?code&state", False),
    ("server", "upstream", "exchange the code; check the ID token", False),
    ("upstream", "server", "provider tokens (kept on the server, encrypted)", True),
    ("server", "browser", "302 client redirect_uri?code&state&iss", True),
    ("browser", "client", "our authorization code", False),
    ("", "", "3. Tokens and calls", False),
    ("client", "server", "POST /oauth/token {code, code_verifier, resource}", False),
    ("server", "client", "JWT access token (aud = /mcp) + refresh token", True),
    ("client", "server", "POST /mcp  Authorization: Bearer <our JWT>", False),
    ("server", "server", "the tool runs; ctx.session.access_token: provider's", False),
]

WIDTH = 960
TOP = 20
HEAD = 36
ROW = 30
SECTION = 40


def draw(
    participants: list[tuple[str, str]] = PARTICIPANTS,
    steps: list[tuple[str, str, str, bool]] = STEPS,
    title: str = "Sequence diagram of the OAuth proxy flow",
) -> str:
    """The SVG of ``steps`` between ``participants`` (this module's own by
    default; other diagrams, such as ``tasks_flow.py``, pass theirs)."""
    column = {
        name: 120 + index * (WIDTH - 240) // (len(participants) - 1)
        for index, (name, _) in enumerate(participants)
    }
    rows: list[str] = []
    y = TOP + HEAD + 24
    for source, target, label, dashed in steps:
        if not source:
            y += 8
            rows.append(f'<text x="12" y="{y}" class="section">{escape(label)}</text>')
            y += SECTION - 8
            continue
        if source == target:
            x = column[source]
            rows.append(
                f'<rect x="{x - 230}" y="{y - 15}" width="460" height="22"'
                ' class="note"/>'
                f'<text x="{x}" y="{y}" class="label" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
            y += ROW
            continue
        x1, x2 = column[source], column[target]
        style = "answer" if dashed else "call"
        middle = (x1 + x2) // 2
        rows.append(
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" class="{style}"'
            ' marker-end="url(#arrow)"/>'
            f'<text x="{middle}" y="{y - 6}" class="label" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
        y += ROW
    height = y + 10
    heads = []
    for name, head in participants:
        x = column[name]
        heads.append(
            f'<rect x="{x - 80}" y="{TOP}" width="160" height="{HEAD}" class="head"/>'
            f'<text x="{x}" y="{TOP + 23}" class="title" text-anchor="middle">'
            f"{escape(head)}</text>"
            f'<line x1="{x}" y1="{TOP + HEAD}" x2="{x}" y2="{height - 6}"'
            ' class="life"/>'
        )
    style = (
        "text{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif}"
        ".title{font-size:14px;font-weight:600;fill:#1f2933}"
        ".label{font-size:11.5px;fill:#1f2933}"
        ".section{font-size:13px;font-weight:600;fill:#0b5394}"
        ".head{fill:#eef3f8;stroke:#5b7083;rx:4}"
        ".note{fill:#fff8dc;stroke:#c9b458}"
        ".life{stroke:#9aa5b1;stroke-dasharray:4 4}"
        ".call{stroke:#1f2933;stroke-width:1.3}"
        ".answer{stroke:#1f2933;stroke-width:1.3;stroke-dasharray:6 4}"
    )
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}"'
            f' height="{height}" viewBox="0 0 {WIDTH} {height}"'
            f' role="img" aria-label="{escape(title)}">',
            f"<style>{style}</style>",
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5"'
            ' markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z" fill="#1f2933"/></marker></defs>',
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            *heads,
            *rows,
            "</svg>",
            "",
        ]
    )


def main() -> int:
    OUTPUT.write_text(draw(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
