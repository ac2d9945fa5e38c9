// A person's activity in the web app, on the real worker and simulator: connect Fidelity (through
// SnapTrade's portal; its simulated accounts come with a default history), open the Activity
// tab, sync, and see one row per transaction with its provider's badge, exactly the API's rows;
// totals per currency exactly the sums of the API's own decimals (summed here as integers, never
// floats); a type filter narrows the rows to that type; the CSV download holds the header and the
// same rows; a second sync at once is a countdown; a webhook announcing activity shows in the tab,
// whose "Sync now" syncs it; and when holdings and activity disagree, the warning stands beside
// the account it concerns.
//
// No step waits for real time: this person's clock on the worker is moved (past the sync
// cooldown and the holdings TTL, so the next read is a second holdings snapshot), and the page's
// clock is Playwright's, fast-forwarded through the countdown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const sim = process.env.TRIBUTARY_SIM_URL;
const user = process.env.TRIBUTARY_USER;
const cooldownS = Number(process.env.TRIBUTARY_REFRESH_COOLDOWN_S);
const CSV_HEADER = "id,trade_date,settlement_date,provider,institution,account_id,type,provider_type,security_key,ticker,security_name,quantity,price,amount,fees,currency,description";

const isoDay = (offsetDays) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const shot = (page, name) => page.screenshot({ path: join(artifacts, name), fullPage: true });

async function post(url, body, token) {
  const headers = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json();
  assert.ok(response.ok, `${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function get(token, path) {
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const answer = await response.json();
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(answer)}`);
  return answer;
}

// Every row of the ledger for `query`, page by page, as the API answers it.
async function ledger(token, query) {
  const rows = [];
  let cursor = null;
  for (let page = 0; page < 100; page++) {
    const params = new URLSearchParams({ ...query, limit: "500", ...(cursor ? { cursor } : {}) });
    const body = await get(token, `/api/transactions?${params}`);
    rows.push(...body.transactions);
    if (!body.next_cursor) return rows;
    cursor = body.next_cursor;
  }
  throw new Error("more than 100 pages");
}

// Exact decimals as scaled integers: "−12.50" → {units: -1250n, scale: 2}.
function decimal(text) {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  assert.ok(match, `a decimal: ${text}`);
  const fraction = match[3] ?? "";
  return { units: BigInt(`${match[1]}${match[2]}${fraction}`), scale: fraction.length };
}

// The exact sum of decimal strings, written without trailing zeros ("0.30" → "0.3").
function sum(texts) {
  const values = texts.map(decimal);
  const scale = Math.max(0, ...values.map((v) => v.scale));
  const total = values.reduce((acc, v) => acc + v.units * 10n ** BigInt(scale - v.scale), 0n);
  return normalize(total, scale);
}

function normalize(units, scale) {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  let fraction = scale ? digits.slice(-scale) : "";
  const whole = scale ? digits.slice(0, -scale) : digits;
  fraction = fraction.replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

const canonical = (text) => {
  const { units, scale } = decimal(text);
  return normalize(units, scale);
};

// How the page shows an exact fiat amount: grouped, at least two decimals ("-1,234.50 USD").
function shown(exact, currency) {
  const negative = exact.startsWith("-");
  const [whole, fraction = ""] = exact.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}.${fraction.padEnd(2, "0")} ${currency}`;
}

// What the page's table shows: each row's id, type, provider and the text of its provider badge.
const tableRows = (page) =>
  page.$$eval("#activity tbody tr", (rows) =>
    rows.map((r) => ({ id: r.dataset.id, type: r.dataset.type, provider: r.dataset.provider, badge: r.querySelector(".badge")?.textContent })),
  );

// The records of an RFC 4180 text (quoted fields may hold commas, quotes and line breaks).
function csvRecords(text) {
  const records = [];
  let field = "", record = [], quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field), records.push(record), (field = ""), (record = []);
    } else field += c;
  }
  if (field || record.length) record.push(field), records.push(record);
  return records;
}

// Compares the page's totals with the exact sums of the API's rows, currency by currency.
async function assertTotals(page, rows) {
  const expected = new Map();
  for (const row of rows) {
    const entry = expected.get(row.currency) ?? { amounts: [], count: 0 };
    if (row.amount !== null) entry.amounts.push(row.amount);
    entry.count += 1;
    expected.set(row.currency, entry);
  }
  const seen = await page.$$eval("#activity-totals [data-currency]", (nodes) =>
    nodes.map((n) => ({ currency: n.dataset.currency, amount: n.dataset.amount, count: Number(n.dataset.count), text: n.querySelector(".amount").textContent })),
  );
  assert.deepEqual(seen.map((t) => t.currency).sort(), [...expected.keys()].map((c) => c ?? "").sort(), "one total per currency");
  for (const total of seen) {
    const want = expected.get(total.currency || null);
    const exact = want.amounts.length ? sum(want.amounts) : "0";
    assert.equal(canonical(total.amount), exact, `${total.currency}: the exact sum of the API's amounts`);
    assert.equal(total.text, shown(exact, total.currency), `${total.currency}: shown with every digit`);
    assert.equal(total.count, want.count, `${total.currency}: row count`);
  }
}

test("activity: sync, provider badges, exact totals, a type filter, the CSV, a countdown, announced activity and a reconciliation warning", async () => {
  assert.ok(sim && user && cooldownS > 0, "run through the e2e harness (TRIBUTARY_SIM_URL, TRIBUTARY_USER, TRIBUTARY_REFRESH_COOLDOWN_S)");
  const { token } = await post(`${baseUrl}/api/dev/session`, { user_id: user });
  const context = await launch();
  try {
    await context.clock.install();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=${user}&poll_ms=1000`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    // Connect Fidelity through SnapTrade's portal.
    await page.fill("#institution-query", "fidelity");
    const entry = page.locator('#institutions li[data-slug="fidelity"][data-provider="snaptrade"]');
    await entry.waitFor({ timeout: 30_000 });
    const [popup] = await Promise.all([context.waitForEvent("page"), entry.locator("button").click()]);
    await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
    await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);
    await page.bringToFront();
    await page.waitForFunction(() => /Connected/.test(document.getElementById("connect-status").textContent), null, { timeout: 30_000 });
    const holdings = await get(token, "/api/snaptrade/holdings");
    const account = holdings.accounts[0].account_id;

    // The Activity tab, before any sync: an empty state that says what to do.
    await page.click("#tab-activity");
    assert.ok(await page.locator("#panel-portfolio").isHidden(), "one panel at a time");
    await page.waitForSelector('#activity[data-loaded="empty"]', { timeout: 30_000 });
    assert.match(await page.textContent("#activity"), /has not been read yet: press Sync activity/);
    await page.waitForSelector(`#activity-accounts li[data-account="${account}"]`, { timeout: 30_000 });
    const from = isoDay(-730);
    await page.fill("#activity-from", from);
    await page.click("#activity-apply");
    await page.waitForSelector('#activity[data-loaded="empty"]', { timeout: 30_000 });
    await shot(page, "activity-empty.png");

    // Sync: the per-provider result, then the rows — exactly the API's, each with its provider badge.
    await page.click("#activity-sync");
    await page.waitForSelector('#activity-notice[data-state="ok"] li[data-provider="snaptrade"][data-status="ok"]', { timeout: 60_000 });
    await page.waitForSelector('#activity[data-loaded="ok"]', { timeout: 30_000 });
    const all = await ledger(token, { from });
    assert.ok(all.length >= 8, `the default history: ${all.length} rows`);
    const rows = await tableRows(page);
    assert.deepEqual(rows.map((r) => r.id), all.map((r) => r.id), "one row per transaction, newest first, as the API lists them");
    for (const row of rows) assert.deepEqual([row.provider, row.badge], ["snaptrade", "SnapTrade"], `${row.id}: its provider badge`);
    await assertTotals(page, all);
    assert.match(await page.textContent('#activity-providers li[data-provider="snaptrade"]'), /Synced just now/);
    await shot(page, "activity-synced.png");

    // A type filter narrows the rows to that type, and the totals with them.
    await page.selectOption("#activity-type", "buy");
    const buys = await ledger(token, { from, type: "buy" });
    assert.ok(buys.length > 0 && buys.length < all.length, `buys: ${buys.length} of ${all.length}`);
    await page.waitForFunction((n) => document.querySelectorAll("#activity tbody tr").length === n, buys.length, { timeout: 30_000 });
    const filtered = await tableRows(page);
    assert.deepEqual(filtered.map((r) => r.id), buys.map((r) => r.id));
    assert.ok(filtered.every((r) => r.type === "buy"), "only buys");
    await assertTotals(page, buys);

    // The CSV of the same filters: the header, then the same rows.
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), page.click("#activity-csv")]);
    assert.match(download.suggestedFilename(), /^transactions-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const records = csvRecords(await readFile(await download.path(), "utf8"));
    assert.equal(records[0].join(","), CSV_HEADER);
    assert.equal(records.length - 1, filtered.length, "as many CSV rows as rows shown");
    assert.deepEqual(records.slice(1).map((r) => r[0]), filtered.map((r) => r.id));
    assert.ok(records.slice(1).every((r) => r[6] === "buy"));
    await page.waitForSelector("#activity-csv-status:has-text('Downloaded')", { timeout: 10_000 });

    // Syncing again at once is the cooldown: a countdown, the sync buttons off until it ends.
    await page.click("#activity-sync");
    await page.waitForSelector('#activity-notice[data-state="wait"] #activity-countdown', { timeout: 30_000 });
    const wait = Number(await page.textContent("#activity-countdown"));
    assert.ok(wait >= 1 && wait <= cooldownS, `countdown starts at ${wait}`);
    assert.ok(await page.locator("#activity-sync").isDisabled());
    await shot(page, "activity-cooldown.png");

    // SnapTrade announces new activity: the tab says so (holdings are not announced).
    const hook = await post(`${sim}/__sim/snaptrade/webhook`, { url: `${baseUrl}/webhooks/snaptrade`, event_type: "ACCOUNT_TRANSACTIONS_UPDATED", user_id: user, account_id: account });
    assert.equal(hook.status, 200, JSON.stringify(hook));
    await page.waitForSelector('#activity-pending:not([hidden])[data-providers="snaptrade"]', { timeout: 30_000 });
    assert.match(await page.textContent("#activity-pending"), /New activity announced by SnapTrade/);
    assert.ok(await page.locator("#activity-dot").isVisible(), "the tab shows it too");
    assert.ok(await page.locator("#pending-banner").isHidden(), "no holdings refresh is offered for activity");

    // Holdings and activity disagree: tomorrow, two buys, only one of them shown by the holdings.
    const held = holdings.positions.filter((p) => p.account_id === account && p.ticker).map((p) => p.ticker);
    assert.ok(held.length >= 2, JSON.stringify(held));
    const buy = (symbol, apply) =>
      post(`${sim}/__sim/transactions`, { provider: "snaptrade", user, account_id: account, apply_to_holdings: apply, rows: [{ kind: "buy", symbol, quantity: "2", price: "10", date: isoDay(1) }] });
    await buy(held[0], true);
    await buy(held[1], false);
    // A day on for this person: past the sync cooldown and the holdings TTL; the page's countdown ends.
    const clock = await post(`${baseUrl}/api/dev/clock`, { advance_s: 25 * 3600, user_id: user });
    assert.equal(clock.user_id, user);
    await page.clock.fastForward((wait + 1) * 1000);
    await page.waitForSelector("#activity-notice[hidden]", { state: "attached", timeout: 30_000 });

    // "Sync now" syncs the announced activity; the notice goes; the warning stands beside the account.
    await page.click("#activity-sync-pending");
    await page.waitForSelector('#activity-notice[data-state="ok"] li[data-provider="snaptrade"][data-status="ok"]', { timeout: 60_000 });
    await page.waitForSelector("#activity-pending[hidden]", { state: "attached", timeout: 30_000 });
    const warning = page.locator(`#activity-accounts li[data-account="${account}"] .reconciliation li[data-security="${held[1]}"]`);
    await warning.waitFor({ timeout: 30_000 });
    assert.equal(await warning.getAttribute("data-difference"), "-2");
    assert.match(await warning.textContent(), new RegExp(`${held[1]}: your holdings changed by \\+0 .* the activity says \\+2 — -2 unexplained`));
    const warned = await page.$$eval("#activity-accounts .reconciliation li", (items) =>
      items.map((li) => [li.closest("[data-account]").dataset.account, li.dataset.security]),
    );
    assert.deepEqual(warned, [[account, held[1]]], "exactly the change no transaction explains, beside its account");
    const after = await ledger(token, { from, type: "buy" });
    assert.equal(after.length, buys.length + 2, "the two new buys were synced");
    assert.deepEqual((await tableRows(page)).map((r) => r.id), after.map((r) => r.id));
    await assertTotals(page, after);
    await shot(page, "activity-reconciliation.png");

    // Readable on a phone: nothing wider than the screen but the scrollable table itself.
    await page.setViewportSize({ width: 375, height: 800 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `page is ${width}px wide at 375px`);
    await shot(page, "activity-375px.png");
    // The deliberate 429 is the one failed load the browser may log.
    assert.deepEqual(errors.filter((e) => !/status of 429/.test(e)), []);
  } finally {
    await context.close();
  }
});
