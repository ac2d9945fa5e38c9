// A Plaid Item's login breaks at the bank: the page says it needs repair and offers Reconnect,
// which opens Plaid's Link in update mode in a popup; when it comes back the package asks the
// worker to check the Item (no token exchange) and the connection is whole again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const user = process.env.TRIBUTARY_USER;

test("a Plaid Item that needs repair is reconnected in update mode from the page", async () => {
  assert.ok(user, "run through the e2e harness (TRIBUTARY_USER: a user whose Plaid Item needs repair)");
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const broken = page.locator('#connections li[data-provider="plaid"][data-status="needs_repair"]');
    await broken.waitFor({ timeout: 30_000 });
    assert.match(await broken.textContent(), /sign in again through Plaid/);

    const button = broken.getByRole("button", { name: /Reconnect/ });
    const [popup] = await Promise.all([context.waitForEvent("page"), button.click()]);
    await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    assert.match(await popup.textContent("body"), /reconnect your account at\s+Chase/);
    await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);

    await page.waitForSelector('#connections li[data-provider="plaid"][data-status="ok"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connections-status"), /reconnected/);
    await page.screenshot({ path: join(artifacts, "plaid-reconnect-done.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
