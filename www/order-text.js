// How the order ticket words previews and orders: the API's values as people read them, exact
// decimals rounded only for display, an unknown figure "—" (never 0), each estimate's source.
import { el, money } from "./ui.js";

export const SIDES = [["BUY", "Buy"], ["SELL", "Sell"]];
export const TYPES = [["Market", "Market"], ["Limit", "Limit"], ["Stop", "Stop"], ["StopLimit", "Stop limit"]];
export const DURATIONS = [["Day", "Day"], ["GTC", "Good till cancelled"], ["FOK", "Fill or kill"], ["IOC", "Immediate or cancel"]];
const SOURCE_TEXT = { brokerage: "from the broker", estimate: "estimated from cached prices", unavailable: "unavailable" };
const FIGURES = [["price", "Price"], ["commission", "Commission"], ["fees", "Fees"], ["remaining_cash", "Cash after the order"]];
const STATE_TEXT = {
  sending: "Sending to the broker…",
  unknown: "Sent, but the broker has not confirmed it yet: refresh to check (it is never sent twice).",
  open: "Open at the broker.",
  executed: "Executed.",
  cancelled: "Cancelled.",
  rejected: "Rejected by the broker.",
  failed: "Failed: it never reached the broker.",
};

export const needsLimit = (type) => type === "Limit" || type === "StopLimit";
export const needsStop = (type) => type === "Stop" || type === "StopLimit";
const label = (pairs, value) => pairs.find(([v]) => v === value)?.[1] ?? value;
const amount = (value, currency) => (value === null || value === undefined ? "—" : currency ? money(value, currency) : String(value));
const units = (n) => `${n} unit${n === "1" ? "" : "s"}`;
const rows = (pairs) => pairs.filter(Boolean).map(([term, value, attrs = {}]) => el("div", attrs, el("dt", {}, term), el("dd", {}, value)));

/** The confirmation's fields of a preview (`OrderPreview`) for the account `name`. */
export function previewRows(previewed, name) {
  const o = previewed.order;
  const currency = previewed.estimate.currency;
  return rows([
    ["Account", name.includes(previewed.brokerage) ? name : `${name} (${previewed.brokerage})`, { "data-field": "account" }],
    ["Symbol", o.symbol, { "data-field": "symbol" }],
    ["Side", label(SIDES, o.action), { "data-field": "side" }],
    ["Quantity", o.units !== null ? units(o.units) : `${amount(o.notional, currency)} (notional)`, { "data-field": "quantity" }],
    ["Order type", label(TYPES, o.order_type), { "data-field": "type" }],
    needsLimit(o.order_type) && ["Limit price", amount(o.limit_price, currency), { "data-field": "limit" }],
    needsStop(o.order_type) && ["Stop price", amount(o.stop_price, currency), { "data-field": "stop" }],
    ["Time in force", label(DURATIONS, o.time_in_force), { "data-field": "duration" }],
  ]);
}

/** Each estimate figure with its source; an unavailable one is "—". */
export function estimateRows(previewed) {
  const currency = previewed.estimate.currency;
  return FIGURES.map(([key, text]) => {
    const source = previewed.estimate.source[key];
    const value = source === "unavailable" ? null : previewed.estimate[key];
    return el(
      "div",
      { "data-figure": key, "data-source": source },
      el("dt", {}, text),
      el("dd", {}, el("span", { class: "amount" }, amount(value, currency)), " ", el("span", { class: "source" }, `(${SOURCE_TEXT[source] ?? source})`)),
    );
  });
}

/** One sentence for an order's state: "Buy 1 MSFT: Open at the broker." */
export function orderLine(order, currency) {
  return `${label(SIDES, order.action)} ${order.units ?? amount(order.notional, currency)} ${order.symbol}: ${STATE_TEXT[order.state] ?? order.state}`;
}

/** The status fields of an order (`Order`). */
export function orderRows(order, currency) {
  const prices = `${order.limit_price ? ` at ${amount(order.limit_price, currency)}` : ""}${order.stop_price ? `, stop ${amount(order.stop_price, currency)}` : ""}`;
  const filled = order.filled_units ? `${units(order.filled_units)}${order.execution_price ? ` at ${amount(order.execution_price, currency)}` : ""}` : "—";
  return rows([
    ["Order type", `${label(TYPES, order.order_type)}${prices}`],
    ["Time in force", label(DURATIONS, order.time_in_force)],
    ["Broker's order id", order.brokerage_order_id ?? "—"],
    ["Filled", filled],
    order.message && ["Broker's message", order.message],
  ]);
}
