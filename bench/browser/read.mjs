// Reading provider results for the plain-JavaScript merge baseline: the same entry shapes the
// browser module's `mergePortfolios` accepts (a worker holdings body, or a tagged result), the same
// normalisation of values (currencies upper-cased, tickers trimmed, decimals exact), and the same
// rows in the same field order the core serialises them in. An unreadable entry becomes that
// provider's `provider_malformed_response` failure, as in the core (the message text differs).

import { Decimal } from "./decimal.mjs";

/** Where a row keeps its amounts as exact decimals; a symbol key, so JSON never shows it. */
export const AMOUNTS = Symbol("amounts");

/** `text` as the core prints the decimal it parses to, and that decimal. */
function amount(text) {
  const value = Decimal.parseOptional(text);
  return [value === null ? null : value.toString(), value];
}

export const PROVIDERS = ["schwab", "ibkr_flex", "snaptrade", "plaid"];
const KINDS = new Set(["equity", "etf", "mutual_fund", "option", "crypto", "fixed_income", "derivative", "loan", "cash", "other"]);
const SLUG = /^[a-z0-9]+(_[a-z0-9]+)*$/;

const fail = (what) => { throw new Error(what); };
const text = (value, field) => (typeof value === "string" ? value : fail(`${field} must be a string`));
const optional = (value, read) => (value === null || value === undefined ? null : read(value));

function currency(value) {
  const code = text(value, "currency").trim();
  if (!/^[A-Za-z0-9]{3,10}$/.test(code)) fail(`bad currency ${code}`);
  return code.toUpperCase();
}
function slug(value) {
  const s = text(value, "institution");
  if (s.length > 64 || !SLUG.test(s)) fail(`bad institution ${s}`);
  return s;
}
function ticker(value) {
  const t = text(value, "ticker").trim();
  if (t.length === 0 || t.length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(t)) fail(`bad ticker ${t}`);
  return t;
}
function provider(value) {
  return PROVIDERS.includes(value) ? value : fail(`unknown provider ${value}`);
}
function integer(value, field) {
  return Number.isInteger(value) ? value : fail(`${field} must be an integer`);
}

function account(a) {
  return {
    provider: provider(a.provider), account_id: text(a.account_id, "account_id"),
    connection_id: optional(a.connection_id, (v) => text(v, "connection_id")),
    institution: optional(a.institution, slug), institution_name: optional(a.institution_name, (v) => text(v, "institution_name")),
    name: optional(a.name, (v) => text(v, "name")), number_mask: optional(a.number_mask, (v) => text(v, "number_mask")),
    account_type: optional(a.account_type, (v) => text(v, "account_type")), currency: optional(a.currency, currency),
  };
}

function position(p) {
  const [quantity, q] = amount(p.quantity ?? fail("quantity is required"));
  const [price, pr] = amount(p.price);
  const [marketValue, mv] = amount(p.market_value);
  const [costBasis, cb] = amount(p.cost_basis);
  return {
    provider: provider(p.provider), account_id: text(p.account_id, "account_id"), institution: optional(p.institution, slug),
    security_key: text(p.security_key, "security_key"), ticker: optional(p.ticker, ticker), name: optional(p.name, (v) => text(v, "name")),
    kind: KINDS.has(p.kind) ? p.kind : fail(`unknown kind ${p.kind}`), quantity, price, market_value: marketValue,
    cost_basis: costBasis, currency: currency(p.currency), as_of: integer(p.as_of, "as_of"),
    [AMOUNTS]: { quantity: q, price: pr, market_value: mv, cost_basis: cb },
  };
}

function balance(b) {
  const [cash, c] = amount(b.amount ?? fail("amount is required"));
  const [buyingPower, bp] = amount(b.buying_power);
  return {
    provider: provider(b.provider), account_id: text(b.account_id, "account_id"), institution: optional(b.institution, slug),
    currency: currency(b.currency), amount: cash, buying_power: buyingPower, as_of: integer(b.as_of, "as_of"),
    [AMOUNTS]: { amount: c, buying_power: bp },
  };
}

function holdings(h) {
  const list = (v, read) => (v === null || v === undefined ? [] : Array.isArray(v) ? v.map(read) : fail("expected a list"));
  return { accounts: list(h.accounts, account), positions: list(h.positions, position), balances: list(h.balances, balance) };
}

function cacheInfo(c) {
  if (c === null || c === undefined) return null;
  const [age, ageValue] = amount(c.age_hours);
  return { age_hours: age, ttl_hours: integer(c.ttl_hours, "ttl_hours"), from_cache: c.from_cache === true, [AMOUNTS]: { age_hours: ageValue } };
}

/** One entry as `{status: "ok"|"failed"|"not_connected", provider, ...}`. */
export function readResult(entry, index) {
  const named = PROVIDERS.includes(entry?.provider) ? entry.provider : fail(`results[${index}] names no known provider`);
  try {
    const status = entry.status ?? null;
    if (status !== null && !["ok", "failed", "not_connected"].includes(status)) fail(`unknown status ${status}`);
    if (status === "not_connected") return { status, provider: named };
    const flat = [entry.accounts, entry.positions, entry.balances].some((v) => v !== null && v !== undefined);
    const nested = entry.holdings !== null && entry.holdings !== undefined;
    const error = entry.error ?? null;
    if ((status === "failed" || status === null) && !nested && !flat && error !== null) {
      return { status: "failed", provider: named, error: { code: text(error.code, "code"), message: text(error.message, "message") } };
    }
    if (status === "failed") fail("a failed result needs error {code, message} and no holdings");
    if (nested && flat) fail("holdings were given both nested and as top-level lists");
    if (!nested && !flat) fail("an ok result needs holdings (or accounts, positions, balances)");
    return {
      status: "ok", provider: named, holdings: holdings(nested ? entry.holdings : entry),
      last_updated: optional(entry.last_updated, (v) => integer(v, "last_updated")), cache_info: cacheInfo(entry.cache_info),
    };
  } catch (e) {
    return { status: "failed", provider: named, error: { code: "provider_malformed_response", message: `results[${index}]: ${e.message}` } };
  }
}
