// A person connects Charles Schwab from the page, both ways it can be connected: for trading
// through the SnapTrade portal, then directly through Schwab's own sign-in (Allow on Schwab's
// consent page). The picker says which provider and why; each popup's accounts appear without a
// reload; once Schwab direct is connected, Schwab counts once, from Schwab direct, and the page
// says SnapTrade's copy is shown through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

async function schwabEntry(page, provider) {
  const entry = page.locator(`#institutions li[data-slug="charles_schwab"][data-provider="${provider}"]`);
  await entry.waitFor({ timeout: 30_000 });
  return entry;
}

test("connect Schwab through SnapTrade for trading, then directly, and see it counted once", async () => {
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const user = `browser-${randomBytes(4).toString("hex")}`;
    await page.goto(`${baseUrl}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.match(await page.textContent("#portfolio"), /No positions yet/);

    await page.fill("#institution-query", "schwab");
    const direct = await schwabEntry(page, "schwab");
    assert.match(await direct.textContent(), /via Schwab direct/);
    assert.match(await direct.textContent(), /its preferred provider/, "the picker says why");

    // Trading at Schwab goes through SnapTrade, and the picker says so.
    await page.check("#need-trading");
    const trading = await schwabEntry(page, "snaptrade");
    assert.match(await trading.textContent(), /via SnapTrade.*trading was requested/s);
    const [portal] = await Promise.all([context.waitForEvent("page"), trading.locator("button").click()]);
    await portal.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    assert.match(await portal.textContent("body"), /Schwab/i, "the portal offers the chosen brokerage");
    await Promise.all([portal.waitForEvent("close", { timeout: 30_000 }), portal.click("form button[type=submit]")]);
    await page.waitForSelector('#portfolio table tr[data-security="AAPL"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connect-status"), /Connected Charles Schwab through SnapTrade/);
    const totals = await page.$$eval("#totals [data-currency]", (nodes) => nodes.map((n) => n.dataset.currency));
    assert.deepEqual(totals.sort(), ["CAD", "USD"], "every currency kept");
    assert.match(await page.textContent("#providers"), /SnapTrade.*Updated just now/);
    await page.screenshot({ path: join(artifacts, "connect-schwab.png"), fullPage: true });

    // Schwab direct: Schwab's own consent page in the popup; the person clicks Allow.
    await page.uncheck("#need-trading");
    const again = await schwabEntry(page, "schwab");
    const [consent] = await Promise.all([context.waitForEvent("page"), again.locator("button").click()]);
    await consent.waitForSelector('button[value="allow"]', { timeout: 30_000 });
    await consent.fill('input[name="customer"]', `customer-${randomBytes(4).toString("hex")}`);
    await Promise.all([consent.waitForEvent("close", { timeout: 30_000 }), consent.click('button[value="allow"]')]);
    await page.waitForSelector('#portfolio table tr[data-security="SYNT"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connect-status"), /Connected Charles Schwab through Schwab direct/);
    await page.waitForFunction(() => !document.querySelector('#portfolio table tr[data-security="AAPL"]'), null, { timeout: 20_000 });
    assert.match(await page.textContent("#providers"), /SnapTrade.*Charles Schwab shown through Schwab direct/);
    await page.waitForSelector('#connections li[data-provider="schwab"][data-status="ok"]', { timeout: 20_000 });

    await page.click('[data-view="by_account"]');
    await page.waitForFunction(() => document.querySelectorAll("#portfolio table caption").length > 1, null, { timeout: 30_000 });
    const captions = await page.$$eval("#portfolio table caption", (nodes) => nodes.map((n) => n.textContent));
    assert.equal(captions.length, 2, `Schwab direct's two accounts, nothing twice: ${captions.join(" | ")}`);
    await page.screenshot({ path: join(artifacts, "connect-schwab-direct.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
