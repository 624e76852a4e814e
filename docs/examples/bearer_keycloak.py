import os

from flask_mcp.auth import ClaimNames
from flask_mcp.auth import JWTVerifier

# Keycloak keeps realm roles in a nested claim, and names the e-mail claim
# as OpenID Connect does; every token must carry the mcp scope.
verifier = JWTVerifier(
    issuer=os.environ["OAUTH_ISSUER"],  # https://sso.example.com/realms/acme
    audience=os.environ["MCP_SERVER_URL"],
    claims=ClaimNames(roles="realm_access.roles"),
    required_scopes=["mcp"],
    leeway=10,
)
