// Deterministic input for the browser-merge benchmark: per-provider holdings bodies shaped like
// the worker's `GET /api/<provider>/holdings` answers, from a seeded PRNG (same seed, same bytes).
//
// The core has two providers (snaptrade, plaid), so "3 providers" becomes 2 providers here. The
// data exercises every branch of the merge: one institution both providers cover (Schwab: Plaid's
// copy is routed to SnapTrade, its canonical provider), accounts known only by institution name
// (resolved through the alias table), a stale cache (Plaid, 80 h old against 72 h), missing market
// values and cost bases, several currencies, and securities shared across accounts and providers.

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ["equity", "equity", "equity", "etf", "etf", "mutual_fund", "option", "crypto", "fixed_income", "cash", "other"];
const CURRENCIES = ["USD", "USD", "USD", "USD", "CAD", "EUR"];
const INSTITUTIONS = {
  snaptrade: [["charles_schwab", "Charles Schwab"], ["fidelity", "Fidelity"], ["robinhood", "Robinhood"],
    ["interactive_brokers", "Interactive Brokers"], ["wealthsimple", "Wealthsimple"]],
  plaid: [["chase", "Chase"], ["charles_schwab", "Charles Schwab"], ["vanguard", "Vanguard"], ["wells_fargo", "Wells Fargo"]],
};
const NOW = 1_800_000_000;

/**
 * `positions` positions (split evenly) in `accounts` accounts per provider, drawn from a universe
 * of `securities` securities; returns the array `mergePortfolios` takes.
 */
export function generateResults({ seed = 42, positions = 10_000, accountsPerProvider = 40, securities = 2_000 } = {}) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const decimal = (max, places) => (random() * max).toFixed(places);
  const providers = ["snaptrade", "plaid"];
  const perAccount = Math.ceil(positions / providers.length / accountsPerProvider);
  let remaining = positions;
  return providers.map((provider, p) => {
    const body = {
      provider, status: "ok", accounts: [], positions: [], balances: [], last_updated: NOW - 3600 * (p === 0 ? 2 : 80),
      cache_info: p === 0 ? { age_hours: "1.50", ttl_hours: 24, from_cache: true } : { age_hours: "80.00", ttl_hours: 72, from_cache: true },
      has_pending_updates: false, last_error: null,
    };
    for (let a = 0; a < accountsPerProvider; a += 1) {
      const [slug, name] = INSTITUTIONS[provider][a % INSTITUTIONS[provider].length];
      const accountId = `${provider.slice(0, 2)}-acct-${String(a).padStart(3, "0")}`;
      // Every seventh account is known only by its institution's name, like a provider that sends no id.
      const byName = a % 7 === 3;
      body.accounts.push({
        provider, account_id: accountId, connection_id: `${provider}-conn-${a % 3}`, institution: byName ? null : slug,
        institution_name: name, name: `${name} account ${a}`, number_mask: String(1000 + a), account_type: pick(["Margin", "IRA", "Cash"]),
        currency: "USD",
      });
      const count = Math.min(perAccount, remaining);
      remaining -= count;
      const used = new Set();
      for (let i = 0; i < count; i += 1) {
        let s;
        do s = Math.floor(random() * securities); while (used.has(s));
        used.add(s);
        const ticker = `T${String(s).padStart(4, "0")}`;
        const kind = KINDS[s % KINDS.length];
        const quantity = decimal(500, 1 + (s % 4));
        const price = random() < 0.05 ? null : decimal(900, 2);
        body.positions.push({
          provider, account_id: accountId, institution: byName ? null : slug, security_key: kind === "fixed_income" ? `cusip:${ticker}` : ticker,
          ticker: kind === "fixed_income" ? null : ticker, name: random() < 0.1 ? null : `Security ${ticker}`, kind, quantity, price,
          market_value: price === null ? null : decimal(100_000, 2), cost_basis: random() < 0.1 ? null : decimal(80_000, 2),
          currency: s % 17 === 0 ? "CAD" : "USD", as_of: NOW - 3600,
        });
      }
      for (const currency of new Set([pick(CURRENCIES), "USD"])) {
        body.balances.push({
          provider, account_id: accountId, institution: byName ? null : slug, currency, amount: decimal(20_000, 2),
          buying_power: random() < 0.5 ? null : decimal(40_000, 2), as_of: NOW - 3600,
        });
      }
    }
    return body;
  });
}
