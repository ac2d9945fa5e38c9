// A person trades from the web app, on the real worker and simulator: connect Robinhood for
// trading (SnapTrade's portal, `connection_type: "trade"`), open the account's order ticket, find
// MSFT, see a refusal's message in the ticket's alert region, preview a Limit BUY of 1 at 401.25,
// check that the confirmation lists every field and each estimate with its source (an unavailable
// figure is "—"), place it with the keyboard alone (pressing Enter twice sends one request), see
// it open, cancel it and see it cancelled — the worker agreeing at each step. And a read-only
// connection's ticket offers "Reconnect with trading" (SnapTrade's portal, `connection_type:
// "trade"`, `reconnect: <its id>`), after which the account has a full ticket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const user = process.env.TRIBUTARY_USER;
const SOURCE_TEXT = { brokerage: "(from the broker)", estimate: "(estimated from cached prices)", unavailable: "(unavailable)" };

async function api(token, method, path, body) {
  const headers = { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) };
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const answer = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

// How the page shows an exact USD amount rounded to cents ("9,598.75 USD").
function usd(exact) {
  const [whole, fraction = ""] = exact.replace("-", "").split(".");
  const cents = `${fraction}00`.slice(0, 2);
  return `${exact.startsWith("-") ? "-" : ""}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents} USD`;
}

const focused = (page) => page.evaluate(() => ({ id: document.activeElement?.id ?? "", action: document.activeElement?.dataset?.action ?? "" }));

// A development session for `id`: its bearer token.
async function signIn(id) {
  const session = await fetch(`${baseUrl}/api/dev/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user_id: id }) });
  assert.ok(session.ok, `dev session: ${session.status}`);
  return (await session.json()).token;
}

// Completes the simulator's SnapTrade portal in the popup `opening` opens.
async function finishPortal(page, context, opening) {
  const [portal] = await Promise.all([context.waitForEvent("page"), opening()]);
  await portal.waitForSelector("form button[type=submit]", { timeout: 30_000 });
  await Promise.all([portal.waitForEvent("close", { timeout: 30_000 }), portal.click("form button[type=submit]")]);
  await page.bringToFront();
}

// Connects Robinhood from the picker (for trading when `trade`), through SnapTrade's portal.
async function connectRobinhood(page, context, trade) {
  await page.setChecked("#need-trading", trade);
  await page.fill("#institution-query", "robinhood");
  const entry = page.locator('#institutions li[data-slug="robinhood"][data-provider="snaptrade"]');
  await entry.waitFor({ timeout: 30_000 });
  await finishPortal(page, context, () => entry.locator("button").click());
  await page.waitForFunction(() => /Connected Robinhood/.test(document.getElementById("connect-status").textContent), null, { timeout: 30_000 });
}

test("trading: a Robinhood trade connection, a ticket, MSFT, a refusal, a Limit BUY previewed, placed by keyboard, open, cancelled", async () => {
  assert.ok(user, "run through the e2e harness (TRIBUTARY_USER)");
  const token = await signIn(user);
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const places = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/api/orders") places.push(r.headers()["idempotency-key"]);
    });
    await page.goto(`${baseUrl}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.ok(await page.locator("#trade-empty").isVisible(), "no ticket before an account can trade");

    // Connect Robinhood for trading: SnapTrade's portal, a trade connection.
    await connectRobinhood(page, context, true);
    const { connections } = await api(token, "GET", "/api/snaptrade/connections");
    assert.deepEqual(connections.map((c) => c.type), ["trade"], "a trade connection");
    const account = (await api(token, "GET", "/api/snaptrade/holdings")).accounts[0].account_id;

    // The account's ticket, opened from the keyboard: the focus lands in the symbol search.
    const ticket = page.locator(`#tickets li.ticket[data-account="${account}"][data-mode="trade"]`);
    await ticket.waitFor({ timeout: 30_000 });
    assert.ok(await page.locator("#trade-empty").isHidden());
    await ticket.locator(".ticket-toggle").focus();
    await page.keyboard.press("Enter");
    assert.equal(await ticket.locator(".ticket-toggle").getAttribute("aria-expanded"), "true");
    const search = ticket.locator('input[type="search"]');
    assert.equal((await focused(page)).id, await search.getAttribute("id"), "the focus is in the symbol search");
    for (const control of await ticket.locator("input, select").all()) {
      const id = await control.getAttribute("id");
      assert.equal(await ticket.locator(`label[for="${id}"]`).count(), 1, `${id} has a label`);
    }

    // Find MSFT (debounced search through the package): it is chosen under Instrument.
    await page.keyboard.type("MSFT");
    const instrument = ticket.locator(".field select").first();
    await ticket.locator('option[data-symbol="MSFT"]').waitFor({ state: "attached", timeout: 30_000 });
    await page.waitForFunction((id) => document.getElementById(id).selectedOptions[0]?.dataset.symbol === "MSFT", await instrument.getAttribute("id"), { timeout: 10_000 });
    assert.match(await ticket.locator('[role="status"]').first().textContent(), /match/);

    // A Limit order: the limit price appears, the stop price does not.
    const typeId = await ticket.locator("label", { hasText: "Order type" }).getAttribute("for");
    await page.selectOption(`#${typeId}`, "Limit");
    assert.ok(await ticket.locator('[data-field="limit"]').isVisible());
    assert.ok(await ticket.locator('[data-field="stop"]').isHidden());
    await page.fill(`#${await ticket.locator("label", { hasText: "Quantity" }).getAttribute("for")}`, "1");

    // Without its limit price the worker refuses it: its message, in the alert region.
    await ticket.locator('[data-action="preview"]').click();
    const alert = ticket.locator('[role="alert"]');
    await page.waitForFunction((n) => document.querySelectorAll(".ticket [role=alert][data-code]").length === n, 1, { timeout: 30_000 });
    assert.equal(await alert.getAttribute("data-code"), "invalid_order");
    assert.match(await alert.textContent(), /limit_price/);

    // Preview the Limit BUY of 1 at 401.25: the confirmation, with the focus on its heading.
    await page.fill(`#${await ticket.locator("label", { hasText: "Limit price" }).getAttribute("for")}`, "401.25");
    const [previewed] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/api/orders/preview", { timeout: 30_000 }),
      ticket.locator('[data-action="preview"]').click(),
    ]);
    assert.equal(previewed.status(), 200);
    const preview = await previewed.json();
    const confirm = ticket.locator('[data-view="confirm"]');
    await confirm.waitFor({ timeout: 30_000 });
    assert.equal(await alert.textContent(), "", "the refusal is gone");
    assert.equal((await focused(page)).id, await confirm.locator("h4").getAttribute("id"), "the focus is on the confirmation's heading");
    const fieldText = (name) => confirm.locator(`[data-field="${name}"] dd`).textContent();
    assert.match(await fieldText("account"), /Robinhood/);
    assert.equal(await fieldText("symbol"), "MSFT");
    assert.equal(await fieldText("side"), "Buy");
    assert.equal(await fieldText("quantity"), "1 unit");
    assert.equal(await fieldText("type"), "Limit");
    assert.equal(await fieldText("limit"), "401.25 USD");
    assert.equal(await fieldText("duration"), "Day");
    assert.equal(await confirm.locator('[data-field="stop"]').count(), 0, "no stop price for a Limit order");
    for (const figure of ["price", "commission", "fees", "remaining_cash"]) {
      const row = confirm.locator(`[data-figure="${figure}"]`);
      const source = preview.estimate.source[figure];
      assert.equal(await row.getAttribute("data-source"), source, figure);
      assert.equal(await row.locator(".source").textContent(), SOURCE_TEXT[source], `${figure}: its source`);
      const value = preview.estimate[figure];
      const want = value === null ? "—" : usd(value);
      assert.equal(await row.locator(".amount").textContent(), want, `${figure}: ${value} shown as ${want}, never 0 when unknown`);
    }
    assert.equal(preview.estimate.source.price, "brokerage", "Robinhood previews its own price");
    assert.match(await confirm.locator(".expiry").textContent(), /can be placed for [0-5]:\d\d\./);
    await page.screenshot({ path: join(artifacts, "trading-confirm.png"), fullPage: true });

    // Place with the keyboard alone: Tab to "Place order", Enter twice — one request, one order.
    await page.keyboard.press("Tab");
    assert.equal((await focused(page)).action, "place", "Tab from the heading reaches Place order");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    const status = ticket.locator('[data-view="status"]');
    await status.waitFor({ timeout: 30_000 });
    const state = status.locator(".order-state");
    assert.equal(await state.getAttribute("aria-live"), "polite");
    await page.waitForFunction(() => document.querySelector(".ticket .order-state")?.dataset.state === "open", null, { timeout: 30_000 });
    assert.match(await state.textContent(), /Buy 1 MSFT: Open at the broker\./);
    assert.equal((await focused(page)).id, await status.locator("h4").getAttribute("id"), "the focus moves to the status");
    assert.equal(places.length, 1, `one place request: ${JSON.stringify(places)}`);
    assert.match(places[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a UUID v4 Idempotency-Key");
    const { orders } = await api(token, "GET", `/api/orders?account_id=${encodeURIComponent(account)}`);
    assert.equal(orders.length, 1, "one order at the worker");
    assert.deepEqual([orders[0].state, orders[0].symbol, orders[0].units, orders[0].limit_price], ["open", "MSFT", "1", "401.25"]);
    assert.ok(await status.locator('[data-action="cancel-order"]').isVisible(), "an open order can be cancelled");
    await page.screenshot({ path: join(artifacts, "trading-open.png"), fullPage: true });

    // Cancel it: the status says so, Cancel goes, and the worker agrees; Refresh keeps it cancelled.
    await status.locator('[data-action="cancel-order"]').click();
    await page.waitForFunction(() => document.querySelector(".ticket .order-state")?.dataset.state === "cancelled", null, { timeout: 30_000 });
    assert.match(await state.textContent(), /Buy 1 MSFT: Cancelled\./);
    assert.ok(await status.locator('[data-action="cancel-order"]').isHidden());
    assert.equal((await api(token, "GET", `/api/orders/${orders[0].id}`)).order.state, "cancelled");
    await status.locator('[data-action="refresh-order"]').click();
    await page.waitForFunction(() => !document.querySelector('.ticket [data-action="refresh-order"]').disabled, null, { timeout: 30_000 });
    assert.equal(await state.getAttribute("data-state"), "cancelled");
    assert.equal(await alert.textContent(), "", "no refusal");
    await page.screenshot({ path: join(artifacts, "trading-cancelled.png"), fullPage: true });
    // The one refusal asked for (the 400 `invalid_order`) is the browser's only complaint.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
    assert.equal(errors.length, 1, JSON.stringify(errors));
  } finally {
    await context.close();
  }
});

test("trading: a read-only Robinhood connection offers Reconnect with trading, which reopens SnapTrade's portal for a trade connection", async () => {
  assert.ok(user, "run through the e2e harness (TRIBUTARY_USER)");
  const reader = `${user}-ro`;
  const token = await signIn(reader);
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=${reader}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    // Robinhood, read-only ("I want to trade" left unticked).
    await connectRobinhood(page, context, false);
    const [connection] = (await api(token, "GET", "/api/snaptrade/connections")).connections;
    assert.equal(connection.type, "read");
    const account = (await api(token, "GET", "/api/snaptrade/holdings")).accounts[0].account_id;

    // Its ticket says it is read-only and offers the reconnection, asking SnapTrade for trading.
    const ticket = page.locator(`#tickets li.ticket[data-account="${account}"][data-mode="read_only"]`);
    await ticket.waitFor({ timeout: 30_000 });
    await ticket.locator(".ticket-toggle").click();
    assert.match(await ticket.textContent(), /read-only: reconnect it with trading/);
    assert.equal(await ticket.locator("form").count(), 0, "no order form on a read-only connection");
    const asked = page.waitForRequest((r) => new URL(r.url()).pathname === "/api/snaptrade/connection-url", { timeout: 30_000 });
    await finishPortal(page, context, () => ticket.locator('[data-action="reconnect-trading"]').click());
    const body = (await asked).postDataJSON();
    assert.ok(connection.external_id, JSON.stringify(connection));
    assert.deepEqual([body.reconnect, body.connection_type], [connection.external_id, "trade"], JSON.stringify(body));

    // Reconnected for trading: the same account now has a full order ticket.
    await page.locator(`#tickets li.ticket[data-account="${account}"][data-mode="trade"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("#tickets li.ticket").count(), 1, "one ticket per account");
    assert.deepEqual((await api(token, "GET", "/api/snaptrade/connections")).connections.map((c) => c.type), ["trade"]);
    await page.screenshot({ path: join(artifacts, "trading-reconnected.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
