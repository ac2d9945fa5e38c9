// The Activity tab: one row per transaction from every provider (each with its provider's badge),
// filtered by dates, account and type; exact totals per currency; the CSV of the same filters;
// "Sync activity" (the API's per-provider result, its cooldown as a countdown); the poller's
// "new activity announced" notice; and every reconciliation warning beside the account it
// concerns. Every call goes through the package, which also does the sums (exact decimals,
// never JavaScript numbers); this module only renders and wires.
import { $, el, exactMoney, countdown, providerLabel, providerList, ago } from "./ui.js";

const TYPES = ["buy", "sell", "dividend", "interest", "fee", "tax", "deposit", "withdrawal", "transfer_in", "transfer_out", "split", "other"];
const typeLabel = (type) => type.replace("_", " ").replace(/^\w/, (c) => c.toUpperCase());
const institution = (slug) => (slug ?? "").replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
const signed = (decimal) => (decimal.startsWith("-") ? decimal : `+${decimal}`);

const SYNC_TEXT = {
  ok: (r) => `${r.stored} read, ${r.removed} removed`,
  partial: (r) => `partly read (${r.stored} stored): ${r.error?.message ?? "some accounts failed"}`,
  failed: (r) => `failed: ${r.error?.message ?? "the provider did not answer"}`,
  not_ready: () => "still preparing your transactions; try again in a few minutes",
  not_supported: () => "does not provide activity yet",
};

/**
 * Wires the Activity tab to `client` (a `TributaryClient`) and `poller` (the page's
 * `PendingUpdatesPoller`). Returns `open()` (loads the tab; call it whenever it is shown) and
 * `showFlags(flags)` (the poller's flags: the tab says when new activity is announced).
 */
export function setupActivity({ client, poller }) {
  const notice = $("activity-notice");
  const syncButtons = () => [$("activity-sync"), $("activity-sync-pending")];
  let accounts = [];
  let seq = 0;
  let busy = false;
  let stopCountdown = null;

  $("activity-type").append(...TYPES.map((t) => el("option", { value: t }, typeLabel(t))));

  const filters = () => ({
    from: $("activity-from").value,
    to: $("activity-to").value,
    account: $("activity-account").value,
    type: $("activity-type").value,
  });

  function say(state, ...content) {
    notice.dataset.state = state;
    notice.hidden = false;
    notice.replaceChildren(...content);
  }

  const accountName = (id) => {
    const account = accounts.find((a) => a.account_id === id);
    return account ? `${account.institution_name ?? institution(account.institution)} · ${account.name ?? id}` : id;
  };

  // The accounts the person has (names from their holdings), for the account filter and the warnings.
  async function loadAccounts() {
    try {
      const portfolio = await client.holdings("by_account");
      accounts = portfolio.by_account.map((a) => a.account);
    } catch {
      accounts = [];
    }
    const select = $("activity-account");
    const chosen = select.value;
    select.replaceChildren(
      el("option", { value: "" }, "All accounts"),
      ...accounts.map((a) => el("option", { value: a.account_id }, `${accountName(a.account_id)} (${providerLabel(a.provider)})`)),
    );
    select.value = accounts.some((a) => a.account_id === chosen) ? chosen : "";
  }

  function renderProviders(providers) {
    const text = (p) => {
      const routed = p.routed_away.map((r) => ` · ${institution(r.institution)} listed through ${providerLabel(r.decision.canonical)}`);
      if (p.status === "never_synced") return "not synced yet";
      const synced = ago(p.last_synced_at).replace("Updated", "Synced").replace("never updated", "never synced");
      const problem = p.status === "incomplete" ? ` · last sync incomplete: ${p.problems[0]?.message ?? p.problems[0]?.status}` : "";
      return `${synced}${problem}${routed.join("")}`;
    };
    $("activity-providers").replaceChildren(
      ...providers
        .filter((p) => p.status !== "not_connected")
        .map((p) => el("li", { "data-provider": p.provider, "data-status": p.status }, el("span", { class: `badge ${p.provider}` }, providerLabel(p.provider)), " ", text(p))),
    );
  }

  // Each account with its reconciliation warnings beside it: what holdings show against what the activity says.
  function renderAccounts(list, { mismatches, error }) {
    const ids = [...new Set([...accounts.map((a) => a.account_id), ...mismatches.map((m) => m.account_id)])];
    const items = ids.map((id) => {
      const account = accounts.find((a) => a.account_id === id);
      const provider = account?.provider ?? mismatches.find((m) => m.account_id === id)?.provider;
      const rows = list.transactions.filter((t) => t.account_id === id).length;
      const warnings = mismatches.filter((m) => m.account_id === id);
      return el(
        "li",
        { "data-account": id, "data-provider": provider, "data-warnings": warnings.length },
        el("span", { class: "name" }, accountName(id), provider && el("span", { class: `badge ${provider}` }, providerLabel(provider))),
        el("span", { class: "muted" }, `${rows} transaction${rows === 1 ? "" : "s"} shown`),
        warnings.length > 0 &&
          el(
            "ul",
            { class: "reconciliation", "aria-label": `Holdings and activity disagree for ${accountName(id)}` },
            warnings.map((m) =>
              el(
                "li",
                { "data-security": m.security_key, "data-difference": m.difference },
                `⚠ ${m.security_key}: your holdings changed by ${signed(m.observed_change)} between ${m.since} and ${m.until}, ` +
                  `the activity says ${signed(m.implied_change)} — ${signed(m.difference)} unexplained. Nothing was changed; check with your broker.`,
              ),
            ),
          ),
      );
    });
    const unchecked = error && el("li", { class: "error" }, `Holdings and activity could not be compared: ${error.message}`);
    $("activity-accounts").replaceChildren(...items, ...(unchecked ? [unchecked] : []));
    $("activity-accounts").hidden = items.length === 0 && !unchecked;
  }

  function renderTotals(totals) {
    $("activity-totals").replaceChildren(
      ...totals.map((t) =>
        el(
          "span",
          { "data-currency": t.currency ?? "", "data-amount": t.amount, "data-count": t.count },
          `Net ${t.currency ?? "(no currency)"}: `,
          el("span", { class: "amount" }, exactMoney(t.amount, t.currency)),
          el("span", { class: "muted" }, ` · ${t.count} transaction${t.count === 1 ? "" : "s"}, fees ${exactMoney(t.fees, t.currency)}`),
        ),
      ),
    );
  }

  function renderRows(list) {
    const target = $("activity");
    const connected = list.providers.filter((p) => p.status !== "not_connected");
    if (!list.transactions.length) {
      target.dataset.loaded = "empty";
      const why = !connected.length
        ? "Connect an institution to see its activity here."
        : connected.some((p) => p.status === "never_synced")
          ? "Your brokers' activity has not been read yet: press Sync activity."
          : "Try a wider date range or another type.";
      return target.replaceChildren(el("p", { class: "empty" }, `No activity from ${list.from} to ${list.to}. ${why}`));
    }
    target.dataset.loaded = "ok";
    const header = ["Date", "Type", "Security", "Quantity", "Amount", "Account", "Source"];
    target.replaceChildren(
      el(
        "table",
        {},
        el("caption", {}, `${list.transactions.length} transaction${list.transactions.length === 1 ? "" : "s"}, newest first`),
        el("thead", {}, el("tr", {}, header.map((h, i) => el("th", { class: i === 3 || i === 4 ? "num" : undefined }, h)))),
        el(
          "tbody",
          {},
          list.transactions.map((t) =>
            el(
              "tr",
              { "data-id": t.id, "data-type": t.type, "data-provider": t.provider, "data-account": t.account_id },
              el("td", {}, t.trade_date),
              el("td", { title: t.provider_type }, typeLabel(t.type)),
              el("td", {}, t.security?.ticker ?? t.security?.name ?? t.description ?? "—"),
              el("td", { class: "num" }, t.quantity ?? ""),
              el("td", { class: "num", "data-amount": t.amount ?? "" }, exactMoney(t.amount, t.currency)),
              el("td", {}, accountName(t.account_id)),
              el("td", {}, el("span", { class: `badge ${t.provider}` }, providerLabel(t.provider))),
            ),
          ),
        ),
      ),
    );
  }

  // The ledger and the reconciliation for the filters; a newer load wins over an older one.
  async function load() {
    const mine = ++seq;
    const target = $("activity");
    target.dataset.loaded = "loading";
    target.setAttribute("aria-busy", "true");
    target.replaceChildren(el("p", {}, "Loading activity…"));
    try {
      const [list, reconciliation] = await Promise.all([client.transactions(filters()), client.reconciliation().catch((error) => ({ mismatches: [], error }))]);
      if (mine !== seq) return;
      $("activity-window").textContent = `From ${list.from} to ${list.to}`;
      renderProviders(list.providers);
      renderTotals(list.totals);
      renderAccounts(list, reconciliation);
      renderRows(list);
    } catch (e) {
      if (mine !== seq) return;
      target.dataset.loaded = "error";
      $("activity-totals").replaceChildren();
      target.replaceChildren(
        el("p", { class: "error", "data-code": e.code ?? "" }, `The activity could not be loaded: ${e.message}`),
        el("button", { type: "button", onclick: load }, "Try again"),
      );
    } finally {
      if (mine === seq) target.removeAttribute("aria-busy");
    }
  }

  function setBusy(on) {
    busy = on;
    for (const b of syncButtons()) {
      b.disabled = on || stopCountdown !== null;
      b.setAttribute("aria-busy", String(on));
    }
    $("activity-sync").textContent = on ? "Syncing…" : "Sync activity";
  }

  // The cooldown is a wait, not a failure: a countdown, and the sync buttons back at zero.
  function startCountdown(seconds) {
    stopCountdown?.();
    const each = (left) =>
      say("wait", "Please wait ", el("span", { id: "activity-countdown" }, String(left)), " s: your activity was synced moments ago.");
    stopCountdown = countdown(seconds, each, () => {
      stopCountdown = null;
      notice.hidden = true;
      notice.replaceChildren();
      for (const b of syncButtons()) b.disabled = busy;
    });
    for (const b of syncButtons()) b.disabled = true;
  }

  function report(result) {
    const shown = result.results.filter((r) => r.status !== "not_connected");
    if (!shown.length) return say("ok", "Nothing to sync: connect an institution first.");
    const failed = shown.some((r) => r.status === "failed" || r.status === "partial");
    say(
      failed ? "error" : "ok",
      `Synced activity from ${providerList(shown.map((r) => r.provider))}:`,
      el("ul", {}, shown.map((r) => el("li", { "data-provider": r.provider, "data-status": r.status }, `${providerLabel(r.provider)}: ${(SYNC_TEXT[r.status] ?? (() => r.status))(r)}`))),
    );
  }

  async function sync(action) {
    if (busy || stopCountdown !== null) return;
    setBusy(true);
    say("busy", "Reading new activity from your brokers…");
    try {
      report(await action());
      // The holdings read first: reconciliation compares the last two holdings reads.
      await loadAccounts();
      await load();
      await poller?.poll().catch(() => {});
    } catch (e) {
      if (e.status === 429) startCountdown(e.retryAfter);
      else say("error", `The sync failed: ${e.message}`);
    } finally {
      setBusy(false);
    }
  }

  // The CSV route needs the session's token, so the package fetches it and the page hands it over as a file.
  async function downloadCsv() {
    const button = $("activity-csv");
    const status = $("activity-csv-status");
    button.disabled = true;
    status.textContent = "Preparing the CSV…";
    try {
      const { filename, csv } = await client.transactionsCsv(filters());
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
      const link = el("a", { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = `Downloaded ${filename}.`;
    } catch (e) {
      status.textContent = `The CSV could not be downloaded: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  }

  function showFlags(flags) {
    const pending = Object.entries(flags.transactions ?? {}).filter(([, raised]) => raised).map(([provider]) => provider);
    const banner = $("activity-pending");
    banner.hidden = pending.length === 0;
    banner.dataset.providers = pending.join(" ");
    $("activity-pending-text").textContent = pending.length ? `New activity announced by ${providerList(pending)}. ` : "";
    $("activity-dot").hidden = pending.length === 0;
  }

  $("activity-filters").addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  for (const id of ["activity-account", "activity-type"]) $(id).addEventListener("change", load);
  $("activity-sync").addEventListener("click", () => sync(() => client.syncTransactions()));
  $("activity-sync-pending").addEventListener("click", () => sync(() => poller.syncTransactions()));
  $("activity-csv").addEventListener("click", downloadCsv);

  async function open() {
    await loadAccounts();
    await load();
  }
  return { open, showFlags };
}
