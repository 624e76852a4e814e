// What the Node test issuers share: loading oauth2-mock-server and reading
// `--name value` options. The package is loaded from
// $FLASK_MCP_OAUTH2_MOCK_SERVER (its package folder) or tools/node_modules.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir =
  process.env.FLASK_MCP_OAUTH2_MOCK_SERVER ||
  path.resolve(here, "../../tools/node_modules/oauth2-mock-server");
const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
const entry = path.join(packageDir, manifest.exports?.["."]?.default ?? manifest.main);

export const { OAuth2Issuer, OAuth2Service, Events } = await import(pathToFileURL(entry).href);

export function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}
