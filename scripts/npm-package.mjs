// Turns wasm-pack's bundler output into the publishable `@tributary/client` package.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/npm-package.mjs <wasm-pack out dir>");
  process.exit(2);
}
const path = join(dir, "package.json");
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.name = "@tributary/client";
pkg.type = "module";
pkg.sideEffects = pkg.sideEffects ?? ["./tributary_client.js", "./snippets/*"];
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
console.log(`${pkg.name}@${pkg.version} ready in ${dir}`);
