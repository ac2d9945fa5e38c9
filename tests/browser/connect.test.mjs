// A person connects Charles Schwab from the page: the picker shows the provider and why, the
// SnapTrade portal opens in a popup, and the accounts appear without a page reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

test("connect Schwab through the SnapTrade portal popup and see its holdings", async () => {
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const user = `browser-${randomBytes(4).toString("hex")}`;
    await page.goto(`${baseUrl}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.match(await page.textContent("#portfolio"), /No positions yet/);

    await page.fill("#institution-query", "schwab");
    const schwab = page.locator('#institutions li[data-slug="charles_schwab"]');
    await schwab.waitFor({ timeout: 30_000 });
    assert.equal(await schwab.getAttribute("data-provider"), "snaptrade");
    assert.match(await schwab.textContent(), /via SnapTrade/);

    const [popup] = await Promise.all([context.waitForEvent("page"), schwab.locator("button").click()]);
    await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    assert.match(await popup.textContent("body"), /Schwab/i, "the portal offers the chosen brokerage");
    await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);

    await page.waitForSelector('#portfolio table tr[data-security="AAPL"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connect-status"), /Connected/);
    const totals = await page.$$eval("#totals [data-currency]", (nodes) => nodes.map((n) => n.dataset.currency));
    assert.deepEqual(totals.sort(), ["CAD", "USD"], "every currency kept");
    assert.match(await page.textContent("#providers"), /SnapTrade.*Updated just now/);

    await page.click('[data-view="by_account"]');
    await page.waitForFunction(() => document.querySelectorAll("#portfolio table caption").length > 1, null, { timeout: 30_000 });
    const captions = await page.$$eval("#portfolio table caption", (nodes) => nodes.map((n) => n.textContent));
    assert.equal(captions.length, 2, captions.join(" | "));
    await page.screenshot({ path: join(artifacts, "connect-schwab.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
