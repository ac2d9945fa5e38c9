// A tiny app that uses only the npm package `@tributary/client`, bundled by esbuild (see
// build.mjs): institution search, connecting through the popup, merged holdings, pending-update
// flags from the poller, and refreshes with their errors shown as the package reports them.
// `?user=` names the development user; `?poll=` the poll interval in ms.
import { TributaryClient, PendingUpdatesPoller, handleConnectRedirect, version } from "@tributary/client";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

function item(attrs, text) {
  const li = document.createElement("li");
  for (const [key, value] of Object.entries(attrs)) li.dataset[key] = String(value);
  li.textContent = text;
  return li;
}

// A development session for `?user=`; a host app would hand over its own token instead.
async function devToken() {
  const response = await fetch("/api/dev/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user_id: params.get("user") ?? "package-app-user" }),
  });
  if (!response.ok) throw new Error(`no development session (${response.status})`);
  return (await response.json()).token;
}

function describeError(e) {
  return { status: e.status, code: e.code, retryAfter: e.retryAfter ?? "", attempts: e.attempts, name: e.name };
}

async function start() {
  let token;
  const client = new TributaryClient(location.origin, async () => (token ??= await devToken()));
  $("version").textContent = version();

  async function showHoldings() {
    const portfolio = await client.holdings("consolidated");
    $("providers").replaceChildren(
      ...portfolio.providers.map((p) => item({ provider: p.provider, status: p.status }, `${p.provider}: ${p.status}`)),
    );
    $("positions").replaceChildren(
      ...portfolio.consolidated.map((line) => {
        const row = document.createElement("tr");
        row.dataset.security = line.security_key;
        row.textContent = `${line.ticker ?? line.security_key} ${line.quantity}`;
        return row;
      }),
    );
  }

  async function connect(slug) {
    const shown = $("connect-result");
    try {
      // This app connects for trading: Schwab then goes through SnapTrade's portal, whose return
      // comes back to this page (Schwab direct's OAuth callback is registered on the worker's origin).
      const result = await client.connect(slug, { needTrading: true });
      Object.assign(shown.dataset, { status: result.status, provider: result.provider });
      shown.textContent = JSON.stringify(result);
      await showHoldings();
    } catch (e) {
      Object.assign(shown.dataset, { status: "error", code: e.code });
      shown.textContent = e.message;
    }
  }

  async function search() {
    const list = await client.institutions($("query").value);
    $("institutions").replaceChildren(
      ...list.map((entry) => {
        const li = item({ slug: entry.slug ?? "", provider: entry.trade.provider ?? "" }, `${entry.display_name} `);
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "Connect";
        button.addEventListener("click", () => connect(entry.slug ?? entry.display_name));
        li.append(button);
        return li;
      }),
    );
  }

  function logRefresh(promise) {
    promise.then(
      (result) => $("refresh-log").append(item({ status: "ok", decision: result.decision }, JSON.stringify(result))),
      (e) => $("refresh-log").append(item(describeError(e), `${e.status} ${e.code}: ${e.message}`)),
    );
  }

  const poller = new PendingUpdatesPoller(client, {
    intervalMs: Number(params.get("poll") ?? 300000),
    onChange: (flags) => {
      Object.assign($("pending").dataset, { any: flags.any, snaptrade: flags.snaptrade, plaid: flags.plaid });
      $("pending").textContent = flags.any ? "Updated data available from your broker" : "Up to date";
    },
  });
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    search();
  });
  $("refresh-pending").addEventListener("click", () => logRefresh(poller.refresh().then(async (r) => (await showHoldings(), r))));
  $("refresh-snaptrade").addEventListener("click", () => logRefresh(client.refresh({ providers: ["snaptrade"] })));

  await Promise.all([search(), showHoldings()]);
  poller.start();
  window.app = { client, token: () => token };
  document.body.dataset.ready = "true";
}

// In the popup coming back from the provider, hand the result to the opener and stop.
if (!handleConnectRedirect()) {
  start().catch((e) => {
    document.body.dataset.ready = "error";
    document.body.append(`Failed: ${e.message}`);
  });
}
