// Small rendering helpers shared by the web app's modules: element building, money, freshness.
import { formatMoney, formatMoneyRounded } from "./pkg/tributary_client.js";

export const $ = (id) => document.getElementById(id);

/** Sets a status line's text and its `data-state` (ok | error | loading | busy | wait). */
export function show(id, status, text) {
  const node = $(id);
  node.dataset.state = status;
  node.textContent = text;
}

/** Builds an element: `el("td", { class: "num" }, "12.50")`; `on*` attributes become listeners. */
export function el(tag, attrs = {}, ...children) {
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

/** An exact decimal amount shown to people, rounded to the currency's minor unit ("1,234.50 USD"),
 * or "—" when there is none. The data stays exact; only what is shown is rounded. */
export function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  try {
    return formatMoneyRounded(String(amount), currency);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** An exact decimal amount with every digit kept ("-1,234.565 CAD"), or "—" when there is none. */
export function exactMoney(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  if (!currency) return String(amount);
  try {
    return formatMoney(String(amount), currency);
  } catch {
    return `${amount} ${currency}`;
  }
}

/**
 * Counts down `seconds` (at least 1) against a deadline, not in ticks (a background tab whose
 * timers the browser slows still shows the true wait and ends it on time): `each(left)` now and
 * every second, `done()` at zero. Returns a function that stops it.
 */
export function countdown(seconds, each, done) {
  const deadline = Date.now() + Math.max(1, Math.ceil(seconds ?? 1)) * 1000;
  const tick = () => {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left > 0) return each(left);
    clearInterval(timer);
    done();
  };
  const timer = setInterval(tick, 1000);
  tick();
  return () => clearInterval(timer);
}

/** "Updated 3 h ago" from a real fetch time in Unix seconds. */
export function ago(unixSeconds) {
  if (!unixSeconds) return "never updated";
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unixSeconds));
  if (s < 60) return "Updated just now";
  if (s < 3600) return `Updated ${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `Updated ${Math.floor(s / 3600)} h ago`;
  return `Updated ${Math.floor(s / 86400)} d ago`;
}

/** A local date and time people can read, from Unix seconds. */
export function when(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export const providerLabel = (p) => ({ snaptrade: "SnapTrade", plaid: "Plaid", schwab: "Schwab direct", ibkr_flex: "IBKR Flex" })[p] ?? p;

/** A list of provider names for a sentence: "SnapTrade and Plaid". */
export function providerList(providers) {
  const names = providers.map(providerLabel);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "");
}
