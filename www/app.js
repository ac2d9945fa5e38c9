// Tributary's reference web app: loads the browser module, signs in, lets a person pick an
// institution, connects it through the provider Tributary chooses (in a popup), and shows the
// merged portfolio. Decisions come from the API and the browser module; this file only renders.
import init, { version, formatMoney } from "./pkg/tributary_client.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = { token: null, view: "consolidated", wasm: false };

const show = (id, status, text) => {
  const el = $(id);
  el.dataset.state = status;
  el.textContent = text;
};

// Builds an element: el("td", { class: "num" }, "12.50").
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

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

const money = (amount, currency) => {
  if (amount === null || amount === undefined) return "—";
  try {
    return state.wasm ? formatMoney(String(amount), currency) : `${amount} ${currency}`;
  } catch {
    return `${amount} ${currency}`;
  }
};

// "Updated 3 h ago" from a real fetch time in Unix seconds.
function ago(unixSeconds) {
  if (!unixSeconds) return "never updated";
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unixSeconds));
  if (s < 60) return "Updated just now";
  if (s < 3600) return `Updated ${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `Updated ${Math.floor(s / 3600)} h ago`;
  return `Updated ${Math.floor(s / 86400)} d ago`;
}

const providerLabel = (p) => ({ snaptrade: "SnapTrade", plaid: "Plaid" })[p] ?? p;

async function loadModule() {
  try {
    await init();
    state.wasm = true;
    show("wasm-status", "ok", `tributary-client ${version()} · ${formatMoney("1234.5", "usd")}`);
  } catch (e) {
    show("wasm-status", "error", `The browser module failed to load: ${e.message}`);
  }
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
// supply its own token instead.
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

function routeText(route) {
  if (route.error) return route.error.message;
  return route.message;
}

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
        el("span", { class: "why" }, routeText(route)),
        el("button", { type: "button", disabled: !usable, onclick: () => connect(entry, needTrading) }, "Connect"),
      );
    }),
  );
}

let searchSeq = 0;
async function search() {
  const seq = ++searchSeq;
  const q = $("institution-query").value.trim();
  try {
    const body = await apiJson(`/api/institutions?q=${encodeURIComponent(q)}`);
    if (seq === searchSeq) renderInstitutions(body.institutions);
  } catch (e) {
    if (seq === searchSeq) $("connect-status").textContent = `Search failed: ${e.message}`;
  }
}

// Opens the chosen provider's flow in a popup (opened on the click itself so it is not blocked);
// without a popup the flow runs in this window and completes when it returns here.
async function connect(entry, needTrading) {
  const status = $("connect-status");
  const popup = window.open("", "tributary-connect", "popup,width=520,height=720");
  status.textContent = `Opening the connection for ${entry.display_name}…`;
  // Remembered so the Plaid exchange can refuse a duplicate before an Item is created.
  sessionStorage.setItem("tributary:connecting", entry.slug ?? entry.display_name);
  try {
    const answer = await apiJson("/api/connections", {
      method: "POST",
      body: {
        institution: entry.slug ?? entry.display_name,
        need_trading: needTrading,
        redirect: `${location.origin}/?flow=return${params.get("user") ? `&user=${encodeURIComponent(params.get("user"))}` : ""}`,
      },
    });
    status.textContent = `Connecting ${entry.display_name} through ${providerLabel(answer.provider)}: finish in the window that opened.`;
    if (popup) popup.location.href = answer.flow.url;
    else location.assign(answer.flow.url);
  } catch (e) {
    popup?.close();
    status.textContent = `Could not start the connection: ${e.message}`;
  }
}

// Finishes a flow from the parameters the provider redirected back with.
async function completeFlow(result) {
  const status = $("connect-status");
  try {
    if (result.public_token) {
      status.textContent = "Linking your institution…";
      const institution = sessionStorage.getItem("tributary:connecting") ?? undefined;
      await apiJson("/api/plaid/exchange", { method: "POST", body: { public_token: result.public_token, institution } });
    } else if (result.status === "SUCCESS") {
      status.textContent = "Importing your accounts…";
      await apiJson("/api/snaptrade/connections/sync", { method: "POST", body: {} });
    } else {
      status.textContent = `The connection was not completed (${result.status ?? "cancelled"}).`;
      return;
    }
    status.textContent = "Connected. Your accounts are below.";
    await loadPortfolio();
  } catch (e) {
    status.textContent = e.status === 409 ? `Already connected: ${e.message}` : `Connecting failed: ${e.message}`;
  }
}

// ---- Portfolio ----------------------------------------------------------------------------

function renderProviders(providers) {
  $("providers").replaceChildren(
    ...providers
      .filter((p) => p.status !== "not_connected")
      .map((p) =>
        el(
          "li",
          { "data-provider": p.provider, "data-status": p.status },
          el("span", { class: `badge ${p.provider}` }, providerLabel(p.provider)),
          " ",
          p.status === "failed"
            ? el("span", { class: "error" }, p.error?.message ?? "failed")
            : `${ago(p.last_updated)}${p.status === "stale" ? " (stale)" : ""}${p.status === "routed_away" ? " · shown through another provider" : ""}`,
        ),
      ),
  );
}

function renderTotals(totals) {
  $("totals").replaceChildren(...totals.map((t) => el("span", { "data-currency": t.currency }, money(t.total, t.currency))));
}

function positionsTable(caption, rows) {
  return el(
    "table",
    {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, el("th", {}, "Security"), el("th", {}, "Kind"), el("th", { class: "num" }, "Quantity"), el("th", { class: "num" }, "Value"), el("th", {}, "Source"))),
    el(
      "tbody",
      {},
      rows.map((r) =>
        el(
          "tr",
          { "data-security": r.security_key },
          el("td", {}, r.ticker ?? r.name ?? r.security_key),
          el("td", {}, r.kind),
          el("td", { class: "num" }, r.quantity),
          el("td", { class: "num" }, money(r.market_value, r.currency)),
          el("td", {}, r.source),
        ),
      ),
    ),
  );
}

function renderPortfolio(body) {
  const target = $("portfolio");
  target.dataset.loaded = "ok";
  renderProviders(body.providers);
  renderTotals(body.totals);
  if (state.view === "by_account") {
    const accounts = body.by_account ?? [];
    if (!accounts.length) return target.replaceChildren("No accounts yet: connect an institution above.");
    target.replaceChildren(
      ...accounts.map((a) => {
        const account = a.account;
        const caption = `${account.institution_name ?? account.institution ?? "Account"} · ${account.name ?? account.account_id}`;
        const rows = a.positions.map((p) => ({ ...p, source: providerLabel(p.provider) }));
        const cash = a.cash.map((c) => ({ security_key: `cash:${c.currency}`, name: `Cash ${c.currency}`, kind: "cash", quantity: "", market_value: c.amount, currency: c.currency, source: providerLabel(c.provider) }));
        return positionsTable(caption, [...rows, ...cash]);
      }),
    );
    return;
  }
  const lines = body.consolidated ?? [];
  if (!lines.length) return target.replaceChildren("No positions yet: connect an institution above.");
  const rows = lines.map((l) => ({ ...l, source: [...new Set(l.sources.map((s) => providerLabel(s.provider)))].join(", ") }));
  const cash = (body.cash ?? []).map((c) => ({ security_key: `cash:${c.currency}`, name: `Cash ${c.currency}`, kind: "cash", quantity: "", market_value: c.amount, currency: c.currency, source: "" }));
  target.replaceChildren(positionsTable("All accounts", [...rows, ...cash]));
}

async function loadPortfolio() {
  const target = $("portfolio");
  try {
    renderPortfolio(await apiJson(`/api/portfolio?view=${state.view}`));
  } catch (e) {
    target.dataset.loaded = "error";
    target.textContent = `The portfolio could not be loaded: ${e.message}`;
  }
}

function setView(view) {
  state.view = view;
  for (const b of document.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
  loadPortfolio();
}

// ---- Start --------------------------------------------------------------------------------

const returned = params.get("flow") === "return" ? Object.fromEntries(params) : null;
const sameOriginOpener = (() => {
  try {
    return window.opener && window.opener.location.origin === location.origin;
  } catch {
    return false;
  }
})();
if (returned && sameOriginOpener) {
  // This is the popup coming back from the provider: hand the result to the app and close.
  window.opener.postMessage({ type: "tributary:connected", result: returned }, location.origin);
  window.close();
} else {
  window.addEventListener("message", (event) => {
    if (event.origin === location.origin && event.data?.type === "tributary:connected") completeFlow(event.data.result);
  });
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

  const [, , signedIn] = await Promise.all([loadModule(), checkApi(), signIn()]);
  if (signedIn) {
    if (returned) {
      history.replaceState(null, "", params.get("user") ? `/?user=${encodeURIComponent(params.get("user"))}` : "/");
      await completeFlow(returned);
    }
    await Promise.all([search(), loadPortfolio()]);
  } else {
    $("portfolio").dataset.loaded = "error";
    $("portfolio").textContent = "Sign in to see your portfolio.";
  }
  document.body.dataset.ready = "true";
}
