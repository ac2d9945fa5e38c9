// Bundles the tiny app (main.js) the way an app developer would: `import ... from
// "@tributary/client"` resolved from a node_modules folder that holds the built npm package
// (wasm-client/pkg, from `make build-npm`), bundled by esbuild.
//
// Why a plugin: the package is wasm-pack's `--target bundler` output, whose entry does
// `import * as wasm from "./tributary_client_bg.wasm"` — the ESM integration for WebAssembly
// that webpack and Vite (with a plugin) understand, but esbuild does not. The plugin below turns
// that import into a module that fetches the .wasm file (emitted next to the bundle by esbuild's
// `file` loader), instantiates it with the imports the module declares, and re-exports its
// exports — exactly what a bundler with ESM-integration support produces.
import * as esbuild from "esbuild";
import { mkdirSync, mkdtempSync, readFileSync, existsSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../../..");
export const packageDir = join(repoRoot, "wasm-client/pkg");

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** esbuild plugin: WebAssembly ESM integration for `import * as wasm from "./x.wasm"`. */
export const wasmEsmIntegration = {
  name: "wasm-esm-integration",
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      // The generated module's own import of the bytes goes to the `file` loader.
      if (args.namespace === "wasm-esm") return { path };
      return { path, namespace: "wasm-esm" };
    });
    build.onLoad({ filter: /.*/, namespace: "wasm-esm" }, (args) => {
      const module = new WebAssembly.Module(readFileSync(args.path));
      const importModules = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
      const exportNames = WebAssembly.Module.exports(module).map((e) => e.name);
      const odd = exportNames.find((name) => !IDENTIFIER.test(name));
      if (odd) throw new Error(`wasm export ${JSON.stringify(odd)} is not a JavaScript identifier`);
      const imports = importModules.map((m, i) => `${JSON.stringify(m)}: import${i}`).join(", ");
      const contents = [
        `import url from ${JSON.stringify(args.path)};`,
        ...importModules.map((m, i) => `import * as import${i} from ${JSON.stringify(m)};`),
        `const response = fetch(new URL(url, import.meta.url));`,
        `const { instance } = await WebAssembly.instantiateStreaming(response, { ${imports} });`,
        ...exportNames.map((name) => `export const ${name} = instance.exports.${name};`),
      ].join("\n");
      return { contents, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

/** Bundles `main.js` into a fresh directory; returns that directory. */
export async function bundlePackageApp() {
  if (!existsSync(join(packageDir, "package.json"))) {
    throw new Error(`${packageDir} is missing: run \`make build-npm\` first`);
  }
  const work = mkdtempSync(join(tmpdir(), "tributary-package-app-"));
  // A node_modules as `npm install ./wasm-client/pkg` would make it (a link to the package).
  const modules = join(work, "node_modules");
  mkdirSync(join(modules, "@tributary"), { recursive: true });
  symlinkSync(packageDir, join(modules, "@tributary/client"), "dir");
  const outdir = join(work, "dist");
  await esbuild.build({
    entryPoints: [join(here, "main.js")],
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    nodePaths: [modules],
    outdir,
    loader: { ".wasm": "file" },
    plugins: [wasmEsmIntegration],
    logLevel: "warning",
  });
  return outdir;
}
