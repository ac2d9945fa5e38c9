// The merged portfolio: per-provider freshness and errors, totals per currency, and the positions
// by account or consolidated. The merge itself is the package's (the core's); this only renders.
import { $, el, money, ago, providerLabel } from "./ui.js";

const institution = (slug) => slug.replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());

// Why some of a provider's rows are not shown here, or are shown only as a stand-in.
function dedupNote(p) {
  const routed = (p.routed_away ?? []).map((r) => `${institution(r.institution)} shown through ${providerLabel(r.to)}`);
  const standIn = (p.fail_open ?? []).map((f) => `${institution(f.institution)} shown here while ${providerLabel(f.preferred)} is unavailable`);
  return [...routed, ...standIn].map((text) => ` · ${text}`).join("");
}

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
            : `${ago(p.last_updated)}${p.status === "stale" ? " (stale)" : ""}${dedupNote(p)}`,
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

/** Renders a merged portfolio (`TributaryClient.holdings(view)`) in `view`. */
export function renderPortfolio(body, view) {
  const target = $("portfolio");
  target.dataset.loaded = "ok";
  renderProviders(body.providers);
  renderTotals(body.totals);
  if (view === "by_account") {
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

