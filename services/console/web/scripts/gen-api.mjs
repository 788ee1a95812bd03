// Generate the typed API client's types from the services' committed OpenAPI documents.
// `make openapi` refreshes the documents from the code; this turns them into TypeScript.
import { mkdirSync, readdirSync, writeFileSync, readFileSync } from "node:fs";
import { join, basename } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";

const root = new URL("..", import.meta.url).pathname;
const specs = join(root, "openapi");
const out = join(root, "src", "api", "gen");
mkdirSync(out, { recursive: true });
for (const file of readdirSync(specs).filter((f) => f.endsWith(".json")).sort()) {
  const name = basename(file, ".json");
  const ast = await openapiTS(JSON.parse(readFileSync(join(specs, file), "utf8")));
  const header = `// Generated from openapi/${file} by scripts/gen-api.mjs: do not edit.\n`;
  writeFileSync(join(out, `${name}.ts`), header + astToString(ast));
  console.log(`api types: src/api/gen/${name}.ts`);
}
