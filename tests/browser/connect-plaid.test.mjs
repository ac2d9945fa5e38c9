// A person links Chase from the page: the picker routes it to Plaid, the hosted link opens in a
// popup, and the Plaid holdings appear without a page reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

test("link Chase through the Plaid hosted-link popup and see its holdings", async () => {
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=browser-plaid-${randomBytes(4).toString("hex")}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    await page.fill("#institution-query", "chase");
    const chase = page.locator('#institutions li[data-slug="chase"]');
    await chase.waitFor({ timeout: 30_000 });
    assert.equal(await chase.getAttribute("data-provider"), "plaid");

    const [popup] = await Promise.all([context.waitForEvent("page"), chase.locator("button").click()]);
    await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    await popup.check('input[value="ins_56"]');
    await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);

    await page.waitForSelector('#portfolio table tr[data-security="VTI"]', { timeout: 20_000 });
    assert.match(await page.textContent("#connect-status"), /Connected/);
    assert.match(await page.textContent("#providers"), /Plaid.*Updated just now/);
    await page.screenshot({ path: join(artifacts, "connect-chase.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
