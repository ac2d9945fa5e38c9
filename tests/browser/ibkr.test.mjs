// A person connects Interactive Brokers through IBKR Flex from the page: the picker offers IBKR
// Flex (direct, free), the paste form says where IBKR shows the token and query id and what the
// query must include, a wrong token is named in the form (nothing saved), and the right one
// shows the accounts, marked with their statement's date.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const simUrl = process.env.TRIBUTARY_SIM_URL;

async function sim(path, body) {
  const response = await fetch(`${simUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return response.json();
}

test("paste an IBKR Flex token and query id, see a refusal named, then the accounts", async () => {
  assert.ok(simUrl, "TRIBUTARY_SIM_URL names the simulator");
  const flexUser = `flex-${randomBytes(4).toString("hex")}`;
  // The person's current token has expired.
  const { token: stale, query_id: queryId } = await sim("/__sim/ibkr/users", { user: flexUser });
  await sim("/__sim/ibkr/expire", { token: stale });

  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=browser-${randomBytes(4).toString("hex")}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    await page.fill("#institution-query", "interactive");
    const entry = page.locator('#institutions li[data-slug="interactive_brokers"][data-provider="ibkr_flex"]');
    await entry.waitFor({ timeout: 30_000 });
    assert.match(await entry.textContent(), /via IBKR Flex/);
    await entry.locator("button").click();
    const dialog = page.locator("#ibkr-dialog");
    await dialog.waitFor({ state: "visible", timeout: 10_000 });
    const instructions = (await dialog.textContent()).replace(/\s+/g, " ");
    for (const needed of ["Flex Web Service Configuration", "Open Positions", "Summary", "Lot", "Cash Report", "Trades", "Cash Transactions", "XML"]) {
      assert.ok(instructions.includes(needed), `the form says: ${needed}`);
    }

    // An expired token: IBKR's answer is named in the form, and the form stays open to fix it.
    await page.fill("#ibkr-token", stale);
    await page.fill("#ibkr-query", queryId);
    await page.click("#ibkr-submit");
    await page.waitForSelector('#ibkr-status[data-state="error"]', { timeout: 60_000 });
    assert.equal(await page.getAttribute("#ibkr-status", "data-code"), "ibkr_token_expired");
    assert.match(await page.textContent("#ibkr-status"), /expired.*new token/is);
    assert.ok(await dialog.isVisible(), "the form stays open");

    // They generate a new one in Client Portal and paste it.
    const { token: current } = await sim("/__sim/ibkr/tokens", { user: flexUser, expires_in_seconds: 31_536_000 });
    await page.fill("#ibkr-token", current);
    await page.click("#ibkr-submit");
    await dialog.waitFor({ state: "hidden", timeout: 60_000 });
    assert.match(await page.textContent("#connect-status"), /Connected Interactive Brokers through IBKR Flex: statement of 2026-03-13/);
    await page.waitForSelector('#portfolio table tr[data-security="SYNT"]', { timeout: 20_000 });
    await page.waitForSelector('#connections li[data-provider="ibkr_flex"][data-status="ok"]', { timeout: 20_000 });
    assert.match(await page.textContent('#connections li[data-provider="ibkr_flex"]'), /statement of 2026-03-13/);
    const totals = await page.$$eval("#totals [data-currency]", (nodes) => nodes.map((n) => n.dataset.currency));
    for (const currency of ["CAD", "EUR", "USD"]) assert.ok(totals.includes(currency), `every currency kept: ${totals}`);
    await page.screenshot({ path: join(artifacts, "connect-ibkr-flex.png"), fullPage: true });
    // The refusal's 409 is the one error the browser logged.
    assert.deepEqual(errors.filter((e) => !/status of 409/.test(e)), []);
  } finally {
    await context.close();
  }
});
