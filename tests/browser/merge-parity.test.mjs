// The browser module's mergePortfolios, fed the per-provider holdings endpoints' answers, equals
// the worker's own /api/portfolio for the same user: both call the same core merge.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, baseUrl, collectPageErrors } from "./chromium.mjs";

const token = process.env.TRIBUTARY_TOKEN;

test("mergePortfolios in Chromium equals the worker's /api/portfolio", { skip: !token && "needs TRIBUTARY_TOKEN" }, async () => {
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(baseUrl + "/");
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const result = await page.evaluate(async (token) => {
      const mod = await import("/pkg/tributary_client.js");
      await mod.default();
      const get = async (path) => (await fetch(path, { headers: { authorization: `Bearer ${token}` } })).json();
      const [snaptrade, plaid] = await Promise.all([get("/api/snaptrade/holdings"), get("/api/plaid/holdings")]);
      const views = {};
      for (const view of ["consolidated", "by_account"]) {
        views[view] = { browser: mod.mergePortfolios([snaptrade, plaid], view), worker: await get(`/api/portfolio?view=${view}`) };
      }
      return views;
    }, token);
    for (const [view, { browser, worker }] of Object.entries(result)) {
      assert.ok(worker[view].length > 0, `${view} has lines`);
      assert.deepEqual(browser[view], worker[view], `${view} lines`);
      assert.deepEqual(browser.cash, worker.cash, `${view} cash`);
      assert.deepEqual(browser.totals, worker.totals, `${view} totals`);
      const statuses = (r) => r.providers.map((p) => [p.provider, p.status, p.routed_away.map((x) => x.institution)]);
      assert.deepEqual(statuses(browser), statuses(worker), `${view} provider statuses`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
