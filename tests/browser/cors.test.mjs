// A host app on its own origin uses the package against the API on another origin, in Chromium:
// the web app served as http://localhost:<port> calls http://127.0.0.1:<port> (an origin listed in
// ALLOWED_ORIGINS), reads a 429's Retry-After through CORS — the package's `retryAfter` and the raw
// header both — while a page on an origin that is not listed is refused by the browser itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { launch, baseUrl, collectPageErrors } from "./chromium.mjs";

const simUrl = process.env.TRIBUTARY_SIM_URL;
const hostApp = baseUrl.replace("127.0.0.1", "localhost");

async function post(url, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

test("a page on an allowed origin reads Retry-After through CORS; another origin is refused", async () => {
  assert.notEqual(hostApp, baseUrl, "the host app runs on another origin than the API");
  const user = `cors-${randomBytes(4).toString("hex")}`;
  const { body: session } = await post(`${baseUrl}/api/dev/session`, { user_id: user });
  // IBKR Flex connected now: asking it for another statement within the hour is a 429.
  const { body: flex } = await post(`${simUrl}/__sim/ibkr/users`, { user: `flex-${user}` });
  const connected = await post(`${baseUrl}/api/ibkr/connect`, { token: flex.token, query_id: flex.query_id }, session.token);
  assert.equal(connected.status, 201, JSON.stringify(connected.body));

  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${hostApp}/?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const seen = await page.evaluate(
      async ({ api, token }) => {
        const pkg = await import("/pkg/tributary_client.js");
        await pkg.default();
        const client = new pkg.TributaryClient(api, () => token);
        let thrown = null;
        try {
          await client.refresh({ providers: ["ibkr_flex"] });
        } catch (e) {
          thrown = { code: e.code, status: e.status, retryAfter: e.retryAfter };
        }
        const raw = await fetch(`${api}/api/holdings/refresh`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ providers: ["ibkr_flex"] }),
        });
        return { thrown, rawStatus: raw.status, header: raw.headers.get("retry-after"), origin: location.origin };
      },
      { api: baseUrl, token: session.token },
    );
    assert.equal(seen.origin, hostApp);
    assert.equal(seen.thrown?.code, "refresh_throttled", JSON.stringify(seen));
    assert.equal(seen.thrown.status, 429);
    assert.ok(seen.thrown.retryAfter > 0 && seen.thrown.retryAfter <= 3600, JSON.stringify(seen));
    assert.equal(seen.rawStatus, 429);
    assert.ok(Number(seen.header) > 0, `Retry-After is readable cross-origin: ${JSON.stringify(seen)}`);
    // The throttled attempts logged a 429 each; nothing else went wrong on the page.
    assert.deepEqual(errors.filter((e) => !/status of 429/.test(e)), []);

    // A page on an origin the deployment does not list: the browser refuses it the answer.
    const stranger = await context.newPage();
    await stranger.goto(`${simUrl}/health`);
    const refused = await stranger.evaluate(async ({ api, token }) => {
      try {
        await fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${token}` } });
        return "answered";
      } catch (e) {
        return `refused: ${e.name}`;
      }
    }, { api: baseUrl, token: session.token });
    assert.equal(refused, "refused: TypeError");
  } finally {
    await context.close();
  }
});
