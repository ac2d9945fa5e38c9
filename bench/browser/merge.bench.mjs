// Figure 4, browser merge: in headless Chromium, the browser module's `mergePortfolios` (wasm,
// JS↔Wasm conversion included) against the plain-JavaScript baseline in this directory, on the
// same deterministic 10,000 positions. Both outputs must be identical (to the byte of their JSON)
// before anything is timed. Prints one JSON line: every run's milliseconds per view and side.
//
// Run by `make bench` (bench/src/merge.rs); by hand: `node bench/browser/merge.bench.mjs` (after
// `make build-www`), or with `BENCH_PKG_DIR=<dir>` for another build of the module.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../../tests/browser/chromium.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNS = Number(process.env.BENCH_MERGE_RUNS ?? 21);
const WARM_UP = 3;
// BENCH_PKG_DIR: another build of the browser module to measure (e.g. one built at another opt-level).
const PKG = process.env.BENCH_PKG_DIR ? resolve(process.env.BENCH_PKG_DIR) : join(root, "www/pkg");
const MOUNTS = { "/pkg/": PKG, "/bench/": join(root, "bench/browser"), "/data/": join(root, "core/data") };
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

// A static server on 127.0.0.1 for the page, the browser module, these scripts and the core's tables.
function serve() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>merge bench</title>");
      return;
    }
    const mount = Object.keys(MOUNTS).find((prefix) => url.pathname.startsWith(prefix));
    const file = mount && normalize(join(MOUNTS[mount], url.pathname.slice(mount.length)));
    if (!file || !file.startsWith(MOUNTS[mount])) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// Runs in the page: checks equality, then times both sides alternately.
async function measure({ runs, warmUp }) {
  const wasm = await import("/pkg/tributary_client.js");
  await wasm.default();
  const { generateResults } = await import("/bench/generate.mjs");
  const { createMerger } = await import("/bench/merge-js.mjs");
  const table = async (name) => (await fetch(`/data/${name}.json`)).json();
  const jsMerge = createMerger(await table("dedup_routing"), await table("institutions"));
  const results = generateResults();
  const firstDifference = (a, b, path = "$") => {
    if (JSON.stringify(a) === JSON.stringify(b)) return null;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const key of keys) {
      const found = firstDifference(a[key], b[key], `${path}.${key}`);
      if (found) return found;
    }
    return `${path}: key order ${Object.keys(a)} vs ${Object.keys(b)}`;
  };
  const time = (f) => {
    const started = performance.now();
    f();
    return performance.now() - started;
  };
  const out = { positions: results.reduce((n, r) => n + r.positions.length, 0), providers: results.length, views: {} };
  for (const view of ["consolidated", "by_account"]) {
    const fromWasm = wasm.mergePortfolios(results, view);
    const fromJs = jsMerge(results, view);
    const difference = firstDifference(fromWasm, fromJs);
    if (difference) return { error: `${view}: wasm and JavaScript disagree at ${difference}` };
    const text = JSON.stringify(results);
    for (let i = 0; i < warmUp; i += 1) {
      time(() => wasm.mergePortfolios(results, view));
      time(() => jsMerge(results, view));
    }
    const answer = JSON.stringify(fromWasm);
    const runsOf = { wasm: [], js: [], stringify: [], wasm_from_string: [], parse_answer: [] };
    for (let i = 0; i < runs; i += 1) {
      const order = i % 2 === 0 ? ["wasm", "js"] : ["js", "wasm"];
      for (const side of order) {
        runsOf[side].push(time(() => (side === "wasm" ? wasm.mergePortfolios(results, view) : jsMerge(results, view))));
      }
      runsOf.stringify.push(time(() => JSON.stringify(results)));
      runsOf.wasm_from_string.push(time(() => wasm.mergePortfolios(text, view)));
      runsOf.parse_answer.push(time(() => JSON.parse(answer)));
    }
    out.views[view] = { ...runsOf, lines: (fromWasm[view] ?? []).length, output_bytes: JSON.stringify(fromWasm).length, input_bytes: text.length };
  }
  return out;
}

const server = await serve();
const context = await launch();
try {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const result = await page.evaluate(measure, { runs: RUNS, warmUp: WARM_UP });
  result.user_agent = await page.evaluate(() => navigator.userAgent);
  if (errors.length) result.error = `page errors: ${errors.join("; ")}`;
  console.log(JSON.stringify(result));
  process.exitCode = result.error ? 1 : 0;
} finally {
  await context.close();
  server.close();
}
