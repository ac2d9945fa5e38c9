// Tributary's reference web app, built on the `@tributary/client` package: a person picks an
// institution, connects it through the provider Tributary chooses (in a popup), sees the merged
// portfolio and (in the Activity tab) every transaction, is told when their broker has news,
// refreshes or syncs only what changed, and trades from an order ticket per tradable account.
// Decisions come from the API and the package; these modules only render and wire.
import init, { TributaryClient, handleConnectRedirect, version } from "./pkg/tributary_client.js";
import { $, el, show, providerLabel } from "./ui.js";
import { renderPortfolio } from "./portfolio.js";
import { setupRefresh } from "./refresh.js";
import { loadConnections, renderConnections } from "./accounts.js";
import { connectIbkrFlex } from "./ibkr.js";
import { setupActivity } from "./activity.js";
import { setupTrading } from "./trading.js";

const params = new URLSearchParams(location.search);
const state = { token: null, view: "consolidated", client: null, connected: [], trading: null };
// Tests shorten the pending-updates poll with `?poll_ms=`; people get the package's 5 minutes.
const pollMs = Number(params.get("poll_ms")) > 0 ? Number(params.get("poll_ms")) : undefined;
// Where a provider flow comes back to: this page, which hands the result to its opener.
const returnUrl = () => `${location.origin}/?flow=return${params.get("user") ? `&user=${encodeURIComponent(params.get("user"))}` : ""}`;

async function apiJson(path, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { ...options, headers, body: options.body && JSON.stringify(options.body) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error ?? { code: "http_" + response.status, message: response.statusText };
    throw Object.assign(new Error(error.message), { status: response.status, code: error.code, body });
  }
  return body;
}

async function checkApi() {
  try {
    const health = await apiJson("/api/health");
    show("api-status", "ok", `${health.status} · v${health.version} · D1 ${health.d1.schema} · KV ok`);
  } catch (e) {
    show("api-status", "error", `Unhealthy: ${e.message}`);
  }
}

// In development the worker issues sessions itself (`?user=` picks the user); a host app would
// supply its own token to the client instead.
async function signIn() {
  try {
    const userId = params.get("user") ?? "demo-user";
    const { token } = await apiJson("/api/dev/session", { method: "POST", body: { user_id: userId } });
    state.token = token;
    const me = await apiJson("/api/me");
    show("session-status", "ok", `Signed in as ${me.user_id}`);
    return true;
  } catch (e) {
    show("session-status", "error", e.status === 404 ? "No development session here: sign in through your app." : e.message);
    return false;
  }
}

// ---- Institution picker -------------------------------------------------------------------

function renderInstitutions(list) {
  const needTrading = $("need-trading").checked;
  $("institutions").replaceChildren(
    ...list.map((entry) => {
      const route = needTrading ? entry.trade : entry.read;
      const caps = needTrading ? entry.trade_capabilities : entry.read_capabilities;
      const usable = !route.error;
      return el(
        "li",
        { "data-slug": entry.slug ?? "", "data-provider": route.provider ?? "" },
        el(
          "span",
          { class: "name" },
          entry.display_name,
          usable && el("span", { class: `badge ${route.provider}` }, `via ${providerLabel(route.provider)}`),
          usable && route.used_fallback && el("span", { class: "badge warn" }, "fallback"),
          caps?.trading && el("span", { class: "badge trading" }, "Trading"),
          caps?.realtime && el("span", { class: "badge realtime" }, "Real-time"),
        ),
        el("span", { class: "why" }, route.error ? route.error.message : route.message),
        el(
          "button",
          {
            type: "button",
            disabled: !usable,
            "aria-label": `Connect ${entry.display_name}`,
            onclick: () => (route.provider === "ibkr_flex" ? connectFlex(entry.display_name) : connect(entry, needTrading)),
          },
          "Connect",
        ),
      );
    }),
  );
}

let searchSeq = 0;
async function search() {
  const seq = ++searchSeq;
  try {
    const list = await state.client.institutions($("institution-query").value.trim());
    if (seq === searchSeq) renderInstitutions(list);
  } catch (e) {
    if (seq === searchSeq) $("connect-status").textContent = `Search failed: ${e.message}`;
  }
}

function flowMessage(result, name) {
  if (result.status === "connected") return `Connected ${name} through ${providerLabel(result.provider)}. Your accounts are below.`;
  return `The connection to ${name} was not completed${result.reason ? ` (${result.reason})` : ""}.`;
}

function flowError(e, name) {
  if (e.code === "already_connected") return `Already connected: ${e.message}`;
  if (e.code === "popup_blocked") return `Your browser blocked the ${name} window: allow pop-ups for this site and try again.`;
  if (e.code === "plaid_item_still_broken") return `${name} still needs reconnecting: ${e.message}`;
  return `Connecting ${name} failed: ${e.message}`;
}

// The package opens the provider's flow in a popup on this very click, waits for it to come back,
// and finishes the connection; the new accounts then appear without a reload.
async function connect(entry, needTrading) {
  const status = $("connect-status");
  status.textContent = `Opening the connection for ${entry.display_name}… finish in the window that opened.`;
  try {
    const result = await state.client.connect(entry.slug ?? entry.display_name, { needTrading, redirect: returnUrl() });
    status.textContent = flowMessage(result, entry.display_name);
    if (result.status === "connected") await reloadAll();
  } catch (e) {
    status.textContent = flowError(e, entry.display_name);
  }
}

// IBKR Flex has no provider window: the person pastes a token and query id, checked at once.
async function connectFlex(name) {
  const status = $("connect-status");
  status.textContent = `Connecting ${name} through IBKR Flex… paste your Flex token and query id.`;
  const result = await connectIbkrFlex(apiJson);
  if (result.status === "connected") {
    status.textContent = `Connected ${name} through IBKR Flex: statement of ${result.statementDate}. Your accounts are below.`;
  } else if (result.status === "statement_pending") {
    status.textContent = `Connected ${name} through IBKR Flex. IBKR is still generating the statement; it will be read within a few minutes.`;
  } else {
    status.textContent = `The connection to ${name} was not completed (cancelled).`;
  }
  if (result.status !== "cancelled") await reloadAll();
}

async function reconnect(connection, button) {
  const name = connection.institution_name ?? connection.institution_slug ?? "your institution";
  const status = $("connections-status");
  button.disabled = true;
  status.textContent = `Reconnecting ${name}… finish in the window that opened.`;
  if (connection.provider === "ibkr_flex") {
    // A Flex connection is repaired by pasting a new token for the same query.
    button.disabled = false;
    status.textContent = "";
    return connectFlex(name);
  }
  try {
    // Schwab direct is repaired by signing in again (its authorize flow); the others by their own
    // repair flow (SnapTrade's portal in reconnect mode, Plaid's Link in update mode — the package
    // then asks the worker to check the Item, with no token exchange).
    const result =
      connection.provider === "schwab"
        ? await state.client.connect(connection.institution_slug ?? "charles_schwab", { redirect: returnUrl() })
        : await state.client.reconnect(connection.id, { redirect: returnUrl() });
    status.textContent = result.status === "connected" ? `${name} is reconnected.` : flowMessage(result, name);
    await reloadAll();
  } catch (e) {
    status.textContent = flowError(e, name);
  } finally {
    button.disabled = false;
  }
}

// ---- Portfolio and connections -------------------------------------------------------------

async function loadPortfolio() {
  const target = $("portfolio");
  try {
    const portfolio = await state.client.holdings(state.view);
    state.connected = portfolio.providers.filter((p) => p.status !== "not_connected").map((p) => p.provider);
    renderPortfolio(portfolio, state.view);
  } catch (e) {
    target.dataset.loaded = "error";
    target.textContent = `The portfolio could not be loaded: ${e.message}`;
  }
}

async function loadAccounts() {
  const listed = await loadConnections(apiJson);
  renderConnections(listed, reconnect);
  await state.trading?.update(listed.connections);
}

// A read-only SnapTrade connection reopened in SnapTrade's portal asking for trading
// (`connection_type: "trade"`, `reconnect: <its id>`), from the ticket's click.
const reconnectTrading = (connection) => state.client.reconnect(connection.id, { needTrading: true, redirect: returnUrl() });

const reloadAll = () => Promise.all([loadPortfolio(), loadAccounts()]);

function setView(view) {
  state.view = view;
  for (const b of document.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
  loadPortfolio();
}

// ---- Tabs: the portfolio and the activity ----------------------------------------------------

// `activity()` is the Activity tab once the person is signed in (null before).
function setupTabs(activity) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.dataset.tab !== "activity") return;
    if (activity()) return activity().open();
    $("activity").dataset.loaded = "error";
    $("activity").textContent = "Sign in to see your activity.";
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    // Arrow keys move between tabs (the tablist pattern); the chosen one takes the focus.
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      select(next);
    });
  });
  if (params.get("tab") === "activity") select($("tab-activity"));
}

// ---- Start --------------------------------------------------------------------------------

async function start() {
  try {
    await init();
  } catch (e) {
    show("wasm-status", "error", `The browser module failed to load: ${e.message}`);
    $("portfolio").dataset.loaded = "error";
    $("portfolio").textContent = "This page needs the Tributary browser module, which did not load.";
    return;
  }
  // The popup coming back from a provider: hand the result to the page that opened it, and close.
  if (handleConnectRedirect()) return;
  show("wasm-status", "ok", `tributary-client ${version()}`);
  state.client = new TributaryClient(location.origin, () => state.token ?? "");

  let timer;
  $("institution-query").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    search();
  });
  $("need-trading").addEventListener("change", search);
  for (const b of document.querySelectorAll("[data-view]")) b.addEventListener("click", () => setView(b.dataset.view));

  const [, signedIn] = await Promise.all([checkApi(), signIn()]);
  let activity = null;
  if (signedIn) {
    state.trading = setupTrading({ client: state.client, reconnectTrading, onReconnected: reloadAll });
    await Promise.all([search(), reloadAll()]);
    // The poller's flags reach the Activity tab (new transactions announced) as they change.
    let latestFlags = null;
    const onFlags = (flags) => {
      latestFlags = flags;
      activity?.showFlags(flags);
    };
    const poller = setupRefresh({ client: state.client, pollMs, onRefreshed: reloadAll, connectedProviders: () => state.connected, onFlags });
    activity = setupActivity({ client: state.client, poller });
    if (latestFlags) activity.showFlags(latestFlags);
  } else {
    $("portfolio").dataset.loaded = "error";
    $("portfolio").textContent = "Sign in to see your portfolio.";
  }
  setupTabs(() => activity);
  document.body.dataset.ready = "true";
}

await start();
