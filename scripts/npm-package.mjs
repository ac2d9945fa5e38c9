// Turns wasm-pack's bundler output into the publishable `@tributary/client` package: names it,
// makes it an ES module with typings, lists exactly the files it ships, and refuses to finish
// when the typings lack the documented exports (so a broken package is never handed on).
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/npm-package.mjs <wasm-pack out dir>");
  process.exit(2);
}
const path = join(dir, "package.json");
const pkg = JSON.parse(readFileSync(path, "utf8"));
const entry = "tributary_client.js";
const types = "tributary_client.d.ts";

// Every export the package documents, each with a doc comment in the typings.
const documented = ["class TributaryClient", "class PendingUpdatesPoller", "function handleConnectRedirect", "function mergePortfolios"];
const typings = readFileSync(join(dir, types), "utf8");
const undocumented = documented.filter((decl) => !new RegExp(`\\*/\\s*export ${decl}\\b`).test(typings));
if (undocumented.length) {
  console.error(`${types} lacks documented exports: ${undocumented.join(", ")}`);
  process.exit(1);
}

// wasm-bindgen's classes declare `[Symbol.dispose]()`, which TypeScript knows only with the
// `esnext.disposable` library: reference it from the typings, so a `--strict` app with any `lib`
// setting compiles against them as they are.
const disposable = '/// <reference lib="esnext.disposable" />';
if (typings.includes("Symbol.dispose") && !typings.startsWith(disposable)) {
  writeFileSync(join(dir, types), `${disposable}\n${typings}`);
}

const files = readdirSync(dir).filter((f) => /\.(js|wasm|d\.ts)$/.test(f));
if (existsSync(join(dir, "snippets"))) files.push("snippets");
Object.assign(pkg, {
  name: "@tributary/client",
  type: "module",
  main: entry,
  module: entry,
  types,
  exports: { ".": { types: `./${types}`, import: `./${entry}` }, "./package.json": "./package.json" },
  files: files.sort(),
  sideEffects: [`./${entry}`, "./snippets/*"],
});
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
console.log(`${pkg.name}@${pkg.version} ready in ${dir} (${files.length} files)`);
