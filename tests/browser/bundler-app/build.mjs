// Builds the tiny app (index.html + main.js) as an app developer would, with Vite or webpack 5 and
// no bundler configuration at all: the app's own folder holds a node_modules with the built npm
// package (a link to wasm-client/pkg, from `make build-npm`, as `npm install ./wasm-client/pkg`
// would make it), and the bundler's JS API is given only where the app is and where to write.
// main.js imports "@tributary/client"; built for another entry of the package, its one import
// names that entry instead. `startViteDev` serves the app with Vite's dev server instead, from a
// copy of the package (as a registry install is: Vite pre-bundles it, which it never does for a
// link). Nothing here reaches the network.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const packageDir = resolve(here, "../../../wasm-client/pkg");

const PACKAGE = "@tributary/client";

/** A fresh app folder (index.html, main.js, node_modules/@tributary/client) in a temp directory. */
function appFolder(bundler, entry, { copy = false } = {}) {
  if (!existsSync(join(packageDir, "web.js"))) {
    throw new Error(`${packageDir}/web.js is missing: run \`make build-npm\` first`);
  }
  const work = mkdtempSync(join(tmpdir(), `tributary-${bundler}-app-`));
  const app = join(work, "app");
  mkdirSync(join(app, "node_modules/@tributary"), { recursive: true });
  cpSync(join(here, "index.html"), join(app, "index.html"));
  const main = readFileSync(join(here, "main.js"), "utf8");
  const imports = main.split(`from ${JSON.stringify(PACKAGE)};`);
  if (imports.length !== 2) throw new Error(`main.js must import ${PACKAGE} exactly once`);
  writeFileSync(join(app, "main.js"), imports.join(`from ${JSON.stringify(entry)};`));
  const installed = join(app, "node_modules/@tributary/client");
  if (copy) cpSync(packageDir, installed, { recursive: true });
  else symlinkSync(packageDir, installed, "dir");
  return { work, app, dist: join(app, "dist") };
}

async function viteBuild(app, dist) {
  const { build } = await import("vite");
  await build({ root: app, configFile: false, logLevel: "warn", build: { outDir: dist } });
}

async function webpackBuild(app, dist) {
  const { default: webpack } = await import("webpack");
  const compiler = webpack({ mode: "production", context: app, entry: "./main.js", output: { path: dist, filename: "main.js" } });
  const stats = await new Promise((done, fail) => compiler.run((e, s) => (e ? fail(e) : done(s))));
  await new Promise((done) => compiler.close(done));
  if (stats.hasErrors()) throw new Error(`webpack failed:\n${stats.toString("errors-only")}`);
  // webpack bundles scripts only: the page is the app's own index.html beside the bundle.
  cpSync(join(app, "index.html"), join(dist, "index.html"));
}

const BUILDERS = { vite: viteBuild, webpack: webpackBuild };

/**
 * Builds the app with `bundler` ("vite" or "webpack") importing `entry` ("@tributary/client" or a
 * subpath); returns the built files' folder, the files in it, and `remove()` for the temp directory.
 */
export async function buildApp(bundler, entry = PACKAGE) {
  const { work, app, dist } = appFolder(bundler, entry);
  try {
    await BUILDERS[bundler](app, dist);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  const files = readdirSync(dist, { recursive: true }).map(String).sort();
  return { dist, files, remove: () => rmSync(work, { recursive: true, force: true }) };
}

/**
 * Serves the app importing `entry` with Vite's dev server on 127.0.0.1 (any free port); returns
 * its URL and `close()`, which stops the server and removes the temp directory.
 */
export async function startViteDev(entry) {
  const { work, app } = appFolder("vite-dev", entry, { copy: true });
  const { createServer } = await import("vite");
  let server;
  try {
    server = await createServer({ root: app, configFile: false, logLevel: "warn", server: { host: "127.0.0.1", port: 0 } });
    await server.listen();
  } catch (e) {
    await server?.close();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  const url = new URL(server.resolvedUrls.local[0]).origin;
  return { url, close: async () => (await server.close(), rmSync(work, { recursive: true, force: true })) };
}
