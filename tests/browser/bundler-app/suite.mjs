// The npm package in a bundled app, from another origin: for one bundler (Vite or webpack 5), the
// tiny app is built twice with no bundler configuration, once importing "@tributary/client" (the
// WebAssembly ESM integration entry) and once "@tributary/client/web" (the entry that loads its
// WebAssembly itself), and each build runs in Chromium against the development worker; for Vite,
// its dev server also serves the app importing "@tributary/client/web". The page is served as
// http://localhost:<port> (an origin in the worker's ALLOWED_ORIGINS: Playwright answers its
// requests from the built files, or from the dev server) and calls the API at
// http://127.0.0.1:<port> through real CORS. Each must show the institutions and the IBKR Flex
// holdings the worker holds for the session's user, fetch the package's .wasm from the app's
// origin, and log no error.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "../chromium.mjs";
import { buildApp, startViteDev } from "./build.mjs";

const simUrl = process.env.TRIBUTARY_SIM_URL;
const apiOrigin = new URL(baseUrl).origin;
// The web app's origin in cors.test.mjs too: the dev worker lists http://localhost:<its port>.
const appOrigin = apiOrigin.replace("127.0.0.1", "localhost");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
const ENTRIES = ["@tributary/client", "@tributary/client/web"];

async function call(method, path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** Answers every request to the app's origin from `dist`, as a static host would; returns the paths served. */
async function serveFromDisk(context, dist) {
  const served = [];
  await context.route(`${appOrigin}/**`, async (route) => {
    const { pathname } = new URL(route.request().url());
    const file = resolve(dist, pathname === "/" ? "index.html" : decodeURIComponent(pathname.slice(1)));
    const bytes = file.startsWith(dist + sep) ? await readFile(file).catch(() => null) : null;
    if (!bytes) return route.fulfill({ status: 404, contentType: "text/plain", body: `no ${pathname}` });
    served.push(pathname);
    return route.fulfill({ status: 200, contentType: TYPES[extname(file)] ?? "application/octet-stream", body: bytes });
  });
  return served;
}

/**
 * Answers every request to the app's origin with the dev server's answer; returns the paths served.
 * The dev client's hot-reload WebSocket (to the page's host) is answered by Playwright and stays
 * silent: nothing changes while the test runs.
 */
async function serveFromDevServer(context, devUrl) {
  const served = [];
  await context.routeWebSocket(`${appOrigin.replace("http:", "ws:")}/**`, () => {});
  await context.route(`${appOrigin}/**`, async (route) => {
    const url = new URL(route.request().url());
    const response = await route.fetch({ url: `${devUrl}${url.pathname}${url.search}`, timeout: 30_000 });
    if (response.ok()) served.push(url.pathname);
    return route.fulfill({ response });
  });
  return served;
}

/**
 * Opens the app (its origin answered by `serve(context)`) as the session `token`'s user and checks
 * what it shows against the worker; `screenshot` names the artifact. Returns the paths served.
 */
async function checkApp({ token, serve, screenshot }) {
  const context = await launch();
  try {
    // Playwright answers the page itself, so Chromium cannot know it came from a loopback server
    // and files it under the public address space, whose requests to 127.0.0.1 need the Local
    // Network Access permission; granting it puts the page where a real localhost server would.
    await context.grantPermissions(["local-network-access"], { origin: appOrigin });
    const served = await serve(context);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const answers = [];
    page.on("response", (r) => {
      if (r.url().startsWith(`${apiOrigin}/`)) answers.push({ url: r.url(), status: r.status(), headers: r.headers() });
    });
    const fragment = new URLSearchParams({ api: apiOrigin, token });
    await page.goto(`${appOrigin}/#${fragment}`);
    await page.waitForSelector('body[data-ready="true"], body[data-ready="error"]', { timeout: 30_000 });
    const failed = `${await page.getAttribute("body", "data-error")}; page errors: ${errors.join(" | ")}`;
    assert.equal(await page.getAttribute("body", "data-ready"), "true", failed);
    await page.screenshot({ path: join(artifacts, screenshot), fullPage: true });

    // The page ran on its own origin, and the package's WebAssembly came from there too.
    assert.equal(await page.evaluate(() => location.origin), appOrigin);
    assert.ok(served.some((path) => path.endsWith(".wasm")), `the page fetched the .wasm: ${served.join(", ")}`);
    assert.match(await page.textContent("#version"), /^\d+\.\d+\.\d+$/);

    // institutions() through the package, cross-origin: Schwab, connected for trading via SnapTrade.
    const schwab = page.locator('#institutions li[data-slug="charles_schwab"]');
    assert.equal(await schwab.getAttribute("data-provider"), "snaptrade");

    // holdings() equals the worker's own merge for this user: the IBKR Flex statement's positions.
    const shown = await page.evaluate(() => window.app.portfolio);
    const worker = (await call("GET", "/api/portfolio?view=consolidated", undefined, token)).body;
    assert.ok(worker.consolidated.length > 0, `the statement has positions: ${JSON.stringify(worker)}`);
    for (const key of ["consolidated", "cash", "totals", "view"]) assert.deepEqual(shown[key], worker[key], key);
    assert.equal(await page.getAttribute('#providers li[data-provider="ibkr_flex"]', "data-status"), "ok");
    assert.equal(await page.locator("#positions tr").count(), worker.consolidated.length);

    // Every API answer the page read came through CORS for the app's origin.
    assert.ok(answers.some((a) => a.url.includes("/api/institutions")), JSON.stringify(answers));
    for (const answer of answers) {
      assert.equal(answer.headers["access-control-allow-origin"], appOrigin, JSON.stringify(answer));
      assert.ok(answer.status < 400, JSON.stringify(answer));
    }
    assert.deepEqual(errors, []);
    return served;
  } finally {
    await context.close();
  }
}

/** Registers this bundler's tests, sharing one development user with IBKR Flex connected. */
export function bundlerTests(bundler) {
  let token;
  before(async () => {
    assert.notEqual(appOrigin, apiOrigin, "the app runs on another origin than the API");
    const user = `${bundler}-app-${randomBytes(4).toString("hex")}`;
    ({ token } = (await call("POST", "/api/dev/session", { user_id: user })).body);
    const flex = await fetch(`${simUrl}/__sim/ibkr/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: `flex-${user}` }),
    }).then((r) => r.json());
    const connected = await call("POST", "/api/ibkr/connect", { token: flex.token, query_id: flex.query_id }, token);
    assert.equal(connected.status, 201, JSON.stringify(connected.body));
  });

  for (const entry of ENTRIES) {
    test(`a ${bundler} build of an app importing ${entry}, with no configuration, runs cross-origin in Chromium`, async () => {
      const app = await buildApp(bundler, entry);
      try {
        const wasm = app.files.filter((f) => f.endsWith(".wasm"));
        assert.equal(wasm.length, 1, `${bundler} emits the package's .wasm as one asset: ${app.files.join(", ")}`);
        const screenshot = `${bundler}-app${entry.endsWith("/web") ? "-web" : ""}.png`;
        await checkApp({ token, screenshot, serve: (context) => serveFromDisk(context, app.dist) });
      } finally {
        app.remove();
      }
    });
  }

  // Vite's dev server pre-bundles an installed package, which moves the "." entry's .wasm import
  // away from the file it names; the web entry is served as it is (README: the browser package).
  if (bundler === "vite") {
    test("vite's dev server, with no configuration, serves an app importing @tributary/client/web that runs cross-origin", async () => {
      const dev = await startViteDev("@tributary/client/web");
      try {
        const serve = (context) => serveFromDevServer(context, dev.url);
        const served = await checkApp({ token, screenshot: "vite-dev-app-web.png", serve });
        // As from a registry install: the page ran the package as Vite pre-bundled it.
        assert.ok(served.some((path) => path.startsWith("/node_modules/.vite/deps/")), served.join(", "));
      } finally {
        await dev.close();
      }
    });
  }
}
