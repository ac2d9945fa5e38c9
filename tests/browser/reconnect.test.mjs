// A connection breaks at the brokerage: the page says it needs repair and offers Reconnect, which
// runs SnapTrade's reconnect portal in a popup; when it comes back the connection is whole again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const user = process.env.TRIBUTARY_USER;

test("a connection that needs repair is reconnected from the page", async () => {
  assert.ok(user, "run through the e2e harness (TRIBUTARY_USER: a user whose Schwab connection broke)");
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const broken = page.locator('#connections li[data-provider="snaptrade"][data-status="needs_repair"]');
    await broken.waitFor({ timeout: 30_000 });
    assert.match(await broken.textContent(), /Needs repair/);
    assert.equal(await page.locator('#portfolio tr[data-security="AAPL"]').count(), 1, "cached holdings still shown");
    await page.screenshot({ path: join(artifacts, "reconnect-needs-repair.png"), fullPage: true });

    const button = broken.getByRole("button", { name: /Reconnect/ });
    const [popup] = await Promise.all([context.waitForEvent("page"), button.click()]);
    await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    assert.match(await popup.textContent("body"), /Reconnect your brokerage/);
    await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);

    await page.waitForSelector('#connections li[data-provider="snaptrade"][data-status="ok"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connections-status"), /reconnected/);
    await page.screenshot({ path: join(artifacts, "reconnect-done.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
