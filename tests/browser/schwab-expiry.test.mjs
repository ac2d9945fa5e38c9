// Schwab direct's seven-day sign-in, seen from the page: 48 hours before it ends the connection
// warns and offers Reconnect; Reconnect runs Schwab's sign-in again in a popup (the person clicks
// Allow), and the connection is current again. The harness connected Schwab directly for
// TRIBUTARY_USER as Schwab customer TRIBUTARY_SCHWAB_CUSTOMER and moved this user's clock 5.5 days on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const user = process.env.TRIBUTARY_USER;
const customer = process.env.TRIBUTARY_SCHWAB_CUSTOMER;

test("a Schwab direct sign-in about to expire is warned about and renewed from the page", async () => {
  assert.ok(user && customer, "run through the e2e harness (TRIBUTARY_USER, TRIBUTARY_SCHWAB_CUSTOMER)");
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const expiring = page.locator('#connections li[data-provider="schwab"][data-status="expires_soon"]');
    await expiring.waitFor({ timeout: 30_000 });
    assert.match(await expiring.textContent(), /Sign-in expires .*reconnect to keep it updating/);
    assert.equal(await page.locator('#portfolio tr[data-security="SYNT"]').count(), 1, "its holdings are shown");
    await page.screenshot({ path: join(artifacts, "schwab-expires-soon.png"), fullPage: true });

    const button = expiring.getByRole("button", { name: /Reconnect/ });
    const [consent] = await Promise.all([context.waitForEvent("page"), button.click()]);
    await consent.waitForSelector('button[value="allow"]', { timeout: 30_000 });
    await consent.fill('input[name="customer"]', customer);
    await Promise.all([consent.waitForEvent("close", { timeout: 30_000 }), consent.click('button[value="allow"]')]);

    await page.waitForSelector('#connections li[data-provider="schwab"][data-status="ok"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connections-status"), /reconnected/);
    assert.equal(await page.locator('#connections li[data-provider="schwab"]').count(), 1, "the same connection, renewed");
    await page.screenshot({ path: join(artifacts, "schwab-renewed.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
