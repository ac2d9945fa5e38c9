// A person's whole journey in the web app, on the real worker and simulator: connect Schwab for
// trading (SnapTrade portal) and Chase (Plaid hosted link), see both, get told when the broker has news,
// refresh only that, meet the cooldown countdown and the paid-refresh confirmation, and keep seeing
// one provider's holdings while the other fails. A screenshot of every state lands in test-artifacts/.
//
// No step waits for real time to pass: the worker's cooldown is long (TRIBUTARY_REFRESH_COOLDOWN_S),
// so "within the cooldown" holds however slow the machine is; the page's clock is Playwright's
// (fast-forwarded through the countdown); this person's clock on the worker is moved past the
// cooldown (`POST /api/dev/clock` with `user_id`); SnapTrade's own 10 s refresh throttle is ended
// in the simulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

const sim = process.env.TRIBUTARY_SIM_URL;
const user = process.env.TRIBUTARY_USER;
const plaidUser = process.env.TRIBUTARY_PLAID_USER;
const cooldownS = Number(process.env.TRIBUTARY_REFRESH_COOLDOWN_S);
const POLL_MS = 1000;

// Moves only this person's clock on the worker past the refresh cooldown.
async function passCooldown() {
  const response = await fetch(`${baseUrl}/api/dev/clock`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advance_s: cooldownS + 1, user_id: user }),
  });
  const answer = await response.json();
  assert.equal(response.status, 200, `dev clock: ${JSON.stringify(answer)}`);
  assert.equal(answer.user_id, user);
}

async function simControl(path, body) {
  const response = await fetch(`${sim}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json();
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(answer)}`);
  return answer;
}

async function billed(provider, who) {
  const calls = await (await fetch(`${sim}/__sim/calls`)).json();
  return calls[provider]?.users?.[who]?.billed ?? 0;
}

// "Refresh all" (free), then "Ask them for the latest now" (a paid refresh of every provider).
async function askBrokers(page) {
  await page.click("#refresh-all");
  await page.waitForSelector("#refresh-force", { timeout: 30_000 });
  await page.click("#refresh-force");
}

// Waits for `selector`; on a timeout, says what the refresh notice showed instead.
async function waitFor(page, selector, timeout) {
  await page.waitForSelector(selector, { timeout }).catch(async (e) => {
    const notice = await page.evaluate(() => document.getElementById("refresh-notice").outerHTML);
    throw new Error(`${e.message}\nrefresh notice: ${notice}`);
  });
}

const shot = (page, name) => page.screenshot({ path: join(artifacts, name), fullPage: true });

async function connectThroughPopup(context, page, query, slug, provider, choose, needTrading = false) {
  await page.setChecked("#need-trading", needTrading);
  await page.fill("#institution-query", query);
  const entry = page.locator(`#institutions li[data-slug="${slug}"][data-provider="${provider}"]`);
  await entry.waitFor({ timeout: 30_000 });
  assert.equal(await entry.getAttribute("data-provider"), provider);
  const [popup] = await Promise.all([context.waitForEvent("page"), entry.locator("button").click()]);
  await popup.waitForSelector("form button[type=submit]", { timeout: 30_000 });
  if (choose) await popup.check(choose);
  await Promise.all([popup.waitForEvent("close", { timeout: 30_000 }), popup.click("form button[type=submit]")]);
  await page.bringToFront();
  await page.waitForFunction((s) => /Connected/.test(document.getElementById("connect-status").textContent), null, { timeout: 20_000 });
}

test("connect, see, get told about news, refresh it, wait, confirm a paid refresh, survive a failure", async () => {
  assert.ok(sim && user && plaidUser && cooldownS > 0, "run through the e2e harness (TRIBUTARY_SIM_URL, TRIBUTARY_USER, TRIBUTARY_PLAID_USER, TRIBUTARY_REFRESH_COOLDOWN_S)");
  const context = await launch();
  try {
    // The page's time flows as usual until the test fast-forwards it.
    await context.clock.install();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${baseUrl}/?user=${user}&poll_ms=${POLL_MS}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.ok(await page.locator("#pending-banner").isHidden(), "nothing pending for a new person");

    // Connect through both providers; the accounts appear without a reload.
    // Schwab for trading goes through SnapTrade (reading alone would use Schwab direct).
    await connectThroughPopup(context, page, "schwab", "charles_schwab", "snaptrade", undefined, true);
    // Each provider's freshness is read right after its own fetch (the label says "just now" for a
    // minute); SnapTrade's is only required to be a recent one after the whole Plaid flow, however
    // long that took on a busy machine.
    await page.waitForSelector('#portfolio tr[data-security="AAPL"]', { timeout: 30_000 });
    assert.match(await page.textContent("#providers"), /SnapTrade.*Updated just now/);
    await connectThroughPopup(context, page, "chase", "chase", "plaid", 'input[value="ins_56"]');
    await page.waitForSelector('#portfolio tr[data-security="VTI"]', { timeout: 30_000 });
    assert.match(await page.textContent("#providers"), /Plaid.*Updated just now/);
    await page.waitForSelector('#connections li[data-provider="plaid"][data-status="ok"]', { timeout: 30_000 });
    assert.equal(await page.locator('#connections li[data-provider="snaptrade"][data-status="ok"]').count(), 1);
    assert.match(await page.textContent("#providers"), /SnapTrade.*Updated (just now|\d+ min ago)/);
    await shot(page, "journey-connected.png");

    // The broker has news: a signed holdings webhook raises the banner within one poll.
    const hook = await simControl("/__sim/snaptrade/webhook", { url: `${baseUrl}/webhooks/snaptrade`, event_type: "ACCOUNT_HOLDINGS_UPDATED", user_id: user });
    assert.equal(hook.status, 200, JSON.stringify(hook));
    await page.waitForSelector("#pending-banner:not([hidden])", { timeout: 30_000 });
    assert.equal(await page.getAttribute("#pending-banner", "data-providers"), "snaptrade");
    assert.match(await page.textContent("#pending-banner"), /Updated data available from your broker/);
    await shot(page, "journey-pending-banner.png");

    // "Refresh now" re-reads only SnapTrade (the webhook's data, not a paid refresh), visibly.
    // Every state the notice passes through is recorded as it happens, with the button's aria-busy
    // at that moment, so the busy state is seen however briefly (or slowly) it shows.
    await page.evaluate(() => {
      const notice = document.getElementById("refresh-notice");
      window.noticeStates = [];
      new MutationObserver(() => {
        window.noticeStates.push(`${notice.dataset.state}:${document.getElementById("refresh-now").getAttribute("aria-busy")}`);
      }).observe(notice, { attributes: true, childList: true, subtree: true });
    });
    await simControl("/__sim/faults", { provider: "snaptrade", endpoint: "accounts", user_id: user, kind: "latency", ms: 1500, times: 1 });
    await page.click("#refresh-now");
    await page.waitForFunction(() => window.noticeStates.includes("busy:true"), null, { timeout: 30_000 });
    await shot(page, "journey-refreshing.png");
    await page.waitForSelector('#refresh-notice[data-state="ok"]', { timeout: 30_000 });
    assert.match(await page.textContent("#refresh-notice"), /Refreshed SnapTrade\./);
    await page.waitForSelector("#pending-banner[hidden]", { state: "attached", timeout: 30_000 });
    assert.equal(await billed("snaptrade", user), 0, "a webhook-driven refresh is never billed");

    // A second refresh inside the cooldown: a "please wait" countdown, not an error.
    await page.click("#refresh-all");
    await page.waitForSelector('#refresh-notice[data-state="wait"] #countdown', { timeout: 30_000 }).catch(async (e) => {
      throw new Error(`${e.message}\nnotice: ${await page.evaluate(() => document.getElementById("refresh-notice").outerHTML)}`);
    });
    const first = Number(await page.textContent("#countdown"));
    assert.ok(first >= 1 && first <= cooldownS, `countdown starts at ${first}`);
    assert.ok(await page.locator("#refresh-all").isDisabled(), "no refresh while waiting");
    assert.match(await page.textContent("#refresh-notice"), /Please wait/);
    await shot(page, "journey-cooldown.png");
    // Five seconds pass at once (a tab in the background): the countdown shows the true wait.
    await page.clock.fastForward(5_000);
    await page.waitForFunction(
      (start) => {
        const n = document.getElementById("countdown");
        return !n || Number(n.textContent) <= start - 5;
      },
      first,
      { timeout: 30_000 },
    ).catch(async (e) => {
      const seen = await page.evaluate(() => [document.visibilityState, document.getElementById("refresh-notice").outerHTML]);
      throw new Error(`${e.message}\nstarted at ${first}; now: ${seen.join(" | ")}`);
    });
    // The whole cooldown passes, on the worker (this person's clock) and in the page.
    await passCooldown();
    await page.clock.fastForward((first + 1) * 1000);
    await page.waitForSelector("#refresh-notice[hidden]", { state: "attached", timeout: 30_000 });
    assert.ok(await page.locator("#refresh-all").isEnabled());

    // "Refresh all" is free: with nothing announced it re-reads nothing and says so.
    await page.click("#refresh-all");
    await page.waitForSelector("#refresh-force", { timeout: 30_000 });
    assert.match(await page.textContent("#refresh-notice"), /Nothing new announced by your brokers/);
    assert.equal(await billed("snaptrade", user), 0, "a free refresh bills nothing");

    // Asking the brokers themselves is allowed once (and billed once each)...
    await page.click("#refresh-force");
    await waitFor(page, '#refresh-notice[data-state="ok"]:not(:has(#refresh-force))', 15_000);
    assert.match(await page.textContent("#refresh-notice"), /Refreshed SnapTrade and Plaid\./);
    const billedBefore = { snaptrade: await billed("snaptrade", user), plaid: await billed("plaid", plaidUser) };
    assert.ok(billedBefore.snaptrade >= 1 && billedBefore.plaid >= 1, JSON.stringify(billedBefore));

    // Repeating it inside the paid-refresh cap asks first: what it costs and when the next free one is.
    await page.waitForFunction(() => !document.getElementById("refresh-all").disabled, null, { timeout: 30_000 });
    await passCooldown();
    await askBrokers(page);
    await waitFor(page, "#cost-dialog[open]", 10_000);
    const explanation = await page.textContent("#cost-text");
    assert.match(explanation, /paid (SnapTrade|Plaid) call/);
    assert.match(explanation, /next free refresh is/);
    await shot(page, "journey-cost-dialog.png");
    await page.keyboard.press("Escape");
    await page.waitForSelector('#refresh-notice[data-state="ok"]', { timeout: 30_000 });
    assert.match(await page.textContent("#refresh-notice"), /Not refreshed/);
    assert.deepEqual({ snaptrade: await billed("snaptrade", user), plaid: await billed("plaid", plaidUser) }, billedBefore, "declining costs nothing");

    // Accepting the charge while Plaid fails: Plaid's error shows inline, everything else still shows.
    await simControl("/__sim/faults", { provider: "plaid", endpoint: "*", user_id: plaidUser, kind: "status", status: 500, times: 20 });
    await passCooldown();
    await askBrokers(page);
    await waitFor(page, "#cost-dialog[open]", 10_000);
    // SnapTrade itself throttles a connection's refreshes for 10 s; end that so only Plaid fails.
    await simControl("/__sim/snaptrade/refresh-throttle/end", { user_id: user });
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.value), "confirm", "the dialog is keyboard-usable");
    await page.keyboard.press("Enter");
    await page.waitForSelector('#refresh-notice[data-state="error"] li[data-provider="plaid"]', { timeout: 20_000 });
    assert.match(await page.textContent("#refresh-notice"), /Refreshed SnapTrade; some providers could not refresh/);
    for (const security of ["AAPL", "VTI"]) {
      assert.equal(await page.locator(`#portfolio tr[data-security="${security}"]`).count(), 1, `${security} still shown`);
    }
    await shot(page, "journey-provider-error.png");

    // Readable on a phone: nothing wider than the screen but the scrollable table itself.
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 375, `page is ${overflow}px wide at 375px`);
    await shot(page, "journey-375px.png");
    // The browser logs the deliberate 429 and 402 answers as failed loads; nothing else may appear.
    assert.deepEqual(errors.filter((e) => !/status of (429|402)/.test(e)), []);
  } finally {
    await context.close();
  }
});
