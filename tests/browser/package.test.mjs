// The npm package is consumable: a tiny app importing "@tributary/client" is bundled with esbuild
// (package-app/build.mjs), served from 127.0.0.1, and run in Chromium against the development
// worker. The app lists institutions, connects Schwab through the popup (the package's connect +
// handleConnectRedirect), shows holdings equal to the worker's /api/portfolio, sees a webhook's
// pending flag through the poller, refreshes it away, and shows a 429 as the package reports it.
//
// The worker answers no CORS requests, so the app's server also forwards /api/* to the worker:
// the page and the API share one origin, as they would behind a host app's reverse proxy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, rm } from "node:fs/promises";
import { dirname, join, extname } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";
import { bundlePackageApp } from "./package-app/build.mjs";

const user = process.env.TRIBUTARY_USER;
const simUrl = process.env.TRIBUTARY_SIM_URL;
const appDir = new URL("./package-app/", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const FORWARDED = ["authorization", "content-type", "accept"];

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

// Serves the bundle (index.html for "/") and forwards /api/* to the worker.
async function serve(dist) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://127.0.0.1");
      if (url.pathname.startsWith("/api/")) {
        const headers = Object.fromEntries(FORWARDED.filter((h) => req.headers[h]).map((h) => [h, req.headers[h]]));
        const body = ["GET", "HEAD"].includes(req.method) ? undefined : await readBody(req);
        const answer = await fetch(baseUrl + url.pathname + url.search, { method: req.method, headers, body });
        const out = { "content-type": answer.headers.get("content-type") ?? "application/json" };
        if (answer.headers.get("retry-after")) out["retry-after"] = answer.headers.get("retry-after");
        const bytes = Buffer.from(await answer.arrayBuffer());
        res.writeHead(answer.status, out).end(bytes);
        return;
      }
      const file = url.pathname === "/" ? join(appDir, "index.html") : join(dist, url.pathname.slice(1).replaceAll("..", ""));
      const bytes = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(bytes);
    } catch (e) {
      if (!res.headersSent) res.writeHead(e.code === "ENOENT" ? 404 : 502).end(String(e.message));
      else res.destroy();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

async function api(path, token, options = {}) {
  const response = await fetch(baseUrl + path, {
    ...options,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  return response.json();
}

test("an esbuild bundle of @tributary/client connects, shows holdings, polls and refreshes in Chromium", { skip: !user && "needs TRIBUTARY_USER" }, async () => {
  const dist = await bundlePackageApp();
  const server = await serve(dist);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${origin}/?user=${encodeURIComponent(user)}&poll=300`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.match(await page.textContent("#version"), /^\d+\.\d+\.\d+$/);

    // Institutions through the package; Plaid (linked before the page opened) is the only provider.
    const schwab = page.locator('#institutions li[data-slug="charles_schwab"]');
    assert.equal(await schwab.getAttribute("data-provider"), "snaptrade");
    await page.waitForSelector('#providers li[data-provider="plaid"][data-status="ok"]');
    assert.equal(await page.getAttribute('#providers li[data-provider="snaptrade"]', "data-status"), "not_connected");

    // connect(): the popup goes to SnapTrade's portal and comes back through handleConnectRedirect.
    const [popup] = await Promise.all([context.waitForEvent("page"), schwab.locator("button").click()]);
    await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);
    await page.waitForSelector('#connect-result[data-status="connected"][data-provider="snaptrade"]', { timeout: 20_000 });
    await page.waitForSelector('#providers li[data-provider="snaptrade"][data-status="ok"]', { timeout: 20_000 });
    assert.ok(await page.isVisible('#positions tr[data-security="AAPL"]'), "SnapTrade's positions are shown");
    await page.screenshot({ path: join(artifacts, "package-app-connected.png"), fullPage: true });

    // holdings() equals the worker's own merge, in both views.
    const views = await page.evaluate(async () => {
      const token = window.app.token();
      const get = async (path) => (await fetch(path, { headers: { authorization: `Bearer ${token}` } })).json();
      const out = {};
      for (const view of ["consolidated", "by_account"]) {
        out[view] = { client: await window.app.client.holdings(view), worker: await get(`/api/portfolio?view=${view}`) };
      }
      return out;
    });
    for (const [view, { client, worker }] of Object.entries(views)) {
      assert.ok(worker[view].length > 0, `${view} has lines`);
      for (const key of [view, "cash", "totals", "view"]) assert.deepEqual(client[key], worker[key], `${view}: ${key}`);
      const reports = (r) => r.providers.map(({ cache_info, ...report }) => ({ ...report, ttl: cache_info?.ttl_hours }));
      assert.deepEqual(reports(client), reports(worker), `${view}: provider reports`);
    }

    // A holdings webhook raises SnapTrade's flag; the poller sees it; refreshing it clears it.
    const token = await page.evaluate(() => window.app.token());
    const { connections } = await api("/api/snaptrade/connections", token);
    const webhook = await fetch(`${simUrl}/__sim/snaptrade/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        url: `${baseUrl}/webhooks/snaptrade`, event_type: "ACCOUNT_HOLDINGS_UPDATED",
        user_id: user, authorization_id: connections[0].external_id,
      }),
    });
    assert.equal(webhook.status, 200, await webhook.text());
    await page.waitForSelector('#pending[data-any="true"][data-snaptrade="true"][data-plaid="false"]', { timeout: 20_000 });
    await page.screenshot({ path: join(artifacts, "package-app-pending.png"), fullPage: true });
    await page.click("#refresh-pending");
    await page.waitForSelector('#refresh-log li[data-decision="allowed"]', { timeout: 20_000 });
    await page.waitForSelector('#pending[data-any="false"]', { timeout: 20_000 });

    // Two refreshes in a row: within the cooldown one is a 429, thrown once with retryAfter.
    await page.click("#refresh-snaptrade");
    await page.click("#refresh-snaptrade");
    await page.waitForFunction(() => document.querySelectorAll("#refresh-log li").length === 3, null, { timeout: 20_000 });
    const limited = page.locator('#refresh-log li[data-status="429"]').first();
    await limited.waitFor({ timeout: 30_000 });
    assert.equal(await limited.getAttribute("data-name"), "TributaryError");
    assert.equal(await limited.getAttribute("data-code"), "refresh_cooling_down");
    assert.equal(await limited.getAttribute("data-attempts"), "1", "a 429 is never retried");
    assert.ok(Number(await limited.getAttribute("data-retry-after")) >= 1, "retryAfter from the Retry-After header");
    await page.screenshot({ path: join(artifacts, "package-app-rate-limited.png"), fullPage: true });
    // The browser logs the deliberate 429 as a failed load; nothing else may appear.
    assert.deepEqual(errors.filter((e) => !/status of 429/.test(e)), []);
  } finally {
    await context.close();
    server.close();
    await rm(dirname(dist), { recursive: true, force: true });
  }
});
