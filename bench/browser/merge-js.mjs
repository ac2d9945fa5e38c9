// The plain-JavaScript baseline for the browser-merge benchmark: the algorithm of the core's
// `merge_portfolios` (core/src/merge/{mod,views,check}.rs and core/src/dedup.rs), written the way a
// JavaScript client would, with the same output to the byte for valid input (the bench asserts it).
// Every list sorts by the same keys; ties break on the row's JSON, as the core's
// `sort_deterministically` does.

import { ZERO, sum } from "./decimal.mjs";
import { AMOUNTS, PROVIDERS, readResult } from "./read.mjs";

const priority = (provider) => PROVIDERS.indexOf(provider);
const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const compareKeys = (a, b) => {
  for (let i = 0; i < a.length; i += 1) {
    const c = compare(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
};

/** Sorts `items` by `key`, ties broken by their JSON (two stable sorts, as the core does). */
function sortDeterministically(items, key) {
  const json = items.map((item) => [JSON.stringify(item), item]);
  json.sort((a, b) => compare(a[0], b[0]));
  const keyed = json.map(([, item]) => [key(item), item]);
  keyed.sort((a, b) => compareKeys(a[0], b[0]));
  return keyed.map(([, item]) => item);
}

/** `merge(results, view)` over the given dedup routing and alias tables (core/data/*.json). */
export function createMerger(dedupRouting, institutionsFile) {
  // Each institution's canonical chain, most preferred first (a single name is a chain of one).
  const chains = Object.fromEntries(Object.entries(dedupRouting.positions ?? {}).map(([s, c]) => [s, [c].flat()]));
  const byAlias = new Map();
  const normalize = (name) => [...name.toLowerCase()].filter((c) => /[\p{L}\p{N}]/u.test(c)).join("");
  for (const [slug, entry] of Object.entries(institutionsFile.institutions)) {
    for (const name of [slug, entry.display_name, ...(entry.aliases ?? [])]) byAlias.set(normalize(name), slug);
  }
  const resolve = (name) => byAlias.get(normalize(name)) ?? null;

  const accountInstitutions = (h) => {
    const map = new Map();
    for (const a of h.accounts) {
      const slug = a.institution ?? (a.institution_name === null ? null : resolve(a.institution_name));
      if (slug !== null) map.set(a.account_id, slug);
    }
    return map;
  };
  const institutionsIn = (h) => {
    const byAccount = accountInstitutions(h);
    const found = new Set(byAccount.values());
    for (const row of [...h.positions, ...h.balances]) {
      const slug = row.institution ?? byAccount.get(row.account_id);
      if (slug !== undefined && slug !== null) found.add(slug);
    }
    return found;
  };

  function routeHoldings(h, provider, isAvailable) {
    const wasEmpty = h.accounts.length === 0 && h.positions.length === 0 && h.balances.length === 0;
    const byAccount = accountInstitutions(h);
    const routed = new Map();
    const failOpen = new Map();
    // The first provider of the chain that can supply the institution counts; none: every copy stays.
    const skipTo = (slug) => {
      if (slug === undefined || slug === null) return null;
      const chain = chains[slug];
      if (chain === undefined) return null;
      const to = chain.find((p) => isAvailable(p, slug));
      if (to !== undefined && to !== provider) return to;
      if (chain[0] !== provider) failOpen.set(slug, chain[0]);
      return null;
    };
    const tally = (slug, to) => {
      if (!routed.has(slug)) routed.set(slug, { institution: slug, to, accounts: 0, positions: 0, balances: 0 });
      return routed.get(slug);
    };
    const kept = { accounts: [], positions: [], balances: [] };
    for (const [list, field] of [[h.accounts, "accounts"], [h.positions, "positions"], [h.balances, "balances"]]) {
      for (const row of list) {
        const slug = field === "accounts" ? byAccount.get(row.account_id) : row.institution ?? byAccount.get(row.account_id);
        const to = skipTo(slug);
        if (to === null) kept[field].push(row);
        else tally(slug, to)[field] += 1;
      }
    }
    const routedAway = [...routed.entries()].sort((a, b) => compare(a[0], b[0])).map(([, r]) => r);
    const keptNothing = kept.accounts.length === 0 && kept.positions.length === 0 && kept.balances.length === 0;
    const outcome = wasEmpty ? "nothing" : routedAway.length === 0 ? "none" : keptNothing ? "all" : "some";
    const failOpenList = [...failOpen.entries()].sort((a, b) => compare(a[0], b[0])).map(([institution, preferred]) => ({ institution, preferred }));
    return { kept, outcome, routedAway, failOpen: failOpenList };
  }

  return function merge(entries, view) {
    const results = entries.map((entry, i) => check(readResult(entry, i)));
    // A holdings body whose last fetch failed is served from an older cache: not available.
    const unavailable = new Set(entries.filter((e) => e?.last_error != null).map((e) => e.provider));
    const available = (provider) => !unavailable.has(provider);
    const supplies = new Set();
    for (const r of results) {
      if (r.status === "ok" && available(r.provider)) for (const slug of institutionsIn(r.holdings)) supplies.add(`${r.provider}|${slug}`);
    }
    const rows = { accounts: [], positions: [], balances: [] };
    let reports = [];
    for (const r of results) {
      const report = { provider: r.provider, status: r.status };
      let kept = { accounts: [], positions: [], balances: [] };
      let routedAway = [];
      let failOpen = [];
      if (r.status === "ok") {
        const routed = routeHoldings(r.holdings, r.provider, (to, slug) => supplies.has(`${to}|${slug}`));
        const age = r.cache_info?.[AMOUNTS].age_hours ?? null;
        const stale = age !== null && age.atLeast(r.cache_info.ttl_hours);
        report.status = routed.outcome === "all" ? "routed_away" : stale ? "stale" : routed.outcome === "nothing" ? "empty" : "ok";
        ({ kept, routedAway, failOpen } = routed);
      } else if (r.status === "failed") {
        report.error = r.error;
      }
      Object.assign(report, {
        last_updated: r.status === "ok" ? r.last_updated : null, cache_info: r.status === "ok" ? r.cache_info : null,
        routed_away: routedAway, fail_open: failOpen, available: available(r.provider), accounts: kept.accounts.length, positions: kept.positions.length, balances: kept.balances.length,
      });
      reports.push(report);
      for (const field of ["accounts", "positions", "balances"]) rows[field].push(...kept[field]);
    }
    for (const provider of PROVIDERS) {
      if (!reports.some((r) => r.provider === provider)) {
        reports.push({ provider, status: "not_connected", last_updated: null, cache_info: null, routed_away: [], fail_open: [], available: available(provider), accounts: 0, positions: 0, balances: 0 });
      }
    }
    reports = sortDeterministically(reports, (r) => [priority(r.provider)]);
    return build(rows, reports, view);
  };
}

/** The core's `check_holdings`: rows of another provider or implausible amounts fail the result. */
function check(result) {
  if (result.status !== "ok") return result;
  const h = result.holdings;
  const failed = (code, message) => ({ status: "failed", provider: result.provider, error: { code, message } });
  for (const row of [...h.accounts, ...h.positions, ...h.balances]) {
    if (row.provider !== result.provider) return failed("inconsistent_holdings", `${result.provider} returned a row labelled ${row.provider}`);
  }
  const amounts = [
    ...h.positions.flatMap((p) => Object.values(p[AMOUNTS])),
    ...h.balances.flatMap((b) => Object.values(b[AMOUNTS])),
  ];
  if (amounts.some((v) => v !== null && v.exceedsPowerOfTen(18))) return failed("implausible_holdings", `${result.provider} reported an implausible amount`);
  return result;
}

function build(rows, providers, view) {
  const accounts = sortDeterministically(rows.accounts, (a) => [priority(a.provider), a.account_id]);
  const positions = sortDeterministically(rows.positions, (p) => [priority(p.provider), p.account_id, p.security_key, p.currency]);
  const balances = sortDeterministically(rows.balances, (b) => [priority(b.provider), b.account_id, b.currency]);
  const out = { view };
  if (view === "by_account") out.by_account = byAccount(accounts, positions, balances);
  else out.consolidated = consolidate(positions);
  out.cash = cashTotals(balances);
  out.totals = currencyTotals(positions, balances);
  out.providers = providers;
  return out;
}

function byAccount(accounts, positions, balances) {
  const found = new Map();
  const key = (row) => `${priority(row.provider)}\u0000${row.account_id}`;
  const entry = (row) => {
    if (!found.has(key(row))) {
      const account = { provider: row.provider, account_id: row.account_id, connection_id: null, institution: row.institution,
        institution_name: null, name: null, number_mask: null, account_type: null, currency: null };
      found.set(key(row), { account, positions: [], cash: [] });
    }
    return found.get(key(row));
  };
  for (const a of accounts) if (!found.has(key(a))) found.set(key(a), { account: a, positions: [], cash: [] });
  for (const p of positions) entry(p).positions.push(p);
  for (const b of balances) entry(b).cash.push(b);
  const list = [...found.entries()].sort((a, b) => compare(a[0], b[0])).map(([, v]) => v);
  const sortKey = ({ account: a }) => [a.institution === null ? 1 : 0, a.institution ?? "", priority(a.provider), a.account_id];
  return list.map((v) => [sortKey(v), v]).sort((a, b) => compareKeys(a[0], b[0])).map(([, v]) => v);
}

function groupBy(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const k = key(row);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(row);
  }
  return [...groups.entries()].sort((a, b) => compare(a[0], b[0]));
}

function consolidate(positions) {
  return groupBy(positions, (p) => `${p.security_key}\u0000${p.currency}`).map(([, group]) => {
    const known = group.map((p) => p[AMOUNTS].market_value).filter((v) => v !== null);
    const costs = group.map((p) => p[AMOUNTS].cost_basis);
    return {
      security_key: group[0].security_key, currency: group[0].currency,
      ticker: group.find((p) => p.ticker !== null)?.ticker ?? null, name: group.find((p) => p.name !== null)?.name ?? null,
      kind: group.find((p) => p.kind !== "other")?.kind ?? "other", quantity: sum(group.map((p) => p[AMOUNTS].quantity)).toString(),
      market_value: known.length > 0 ? sum(known).toString() : null, market_value_complete: known.length === group.length,
      cost_basis: costs.every((c) => c !== null) ? sum(costs).toString() : null,
      sources: group.map((p) => ({ provider: p.provider, account_id: p.account_id, institution: p.institution,
        quantity: p.quantity, market_value: p.market_value, cost_basis: p.cost_basis })),
    };
  });
}

function cashTotals(balances) {
  return groupBy(balances, (b) => b.currency).map(([currency, group]) => ({
    currency, amount: sum(group.map((b) => b[AMOUNTS].amount)).toString(),
    sources: group.map((b) => ({ provider: b.provider, account_id: b.account_id, institution: b.institution, amount: b.amount })),
  }));
}

function currencyTotals(positions, balances) {
  const totals = new Map();
  const of = (currency) => {
    if (!totals.has(currency)) totals.set(currency, { currency, positions_value: ZERO, cash: ZERO, total: ZERO, unvalued_positions: 0 });
    return totals.get(currency);
  };
  for (const p of positions) {
    const t = of(p.currency);
    if (p[AMOUNTS].market_value === null) t.unvalued_positions += 1;
    else t.positions_value = t.positions_value.plus(p[AMOUNTS].market_value);
  }
  for (const b of balances) of(b.currency).cash = of(b.currency).cash.plus(b[AMOUNTS].amount);
  return [...totals.entries()].sort((a, b) => compare(a[0], b[0])).map(([, t]) => ({
    currency: t.currency, positions_value: t.positions_value.toString(), cash: t.cash.toString(),
    total: t.positions_value.plus(t.cash).toString(), unvalued_positions: t.unvalued_positions,
  }));
}
