// The Trade section: one order ticket per account that can trade. An account can trade when its
// connection's capabilities say so (`capabilitiesFor(provider, institution, connection type)`, the
// rule the worker applied at import); a SnapTrade account on a read-only connection gets a ticket
// that says so and offers "Reconnect with trading". Whatever the page believes, the worker's gate
// decides: its 403 `trading_not_allowed` is shown in the ticket with the same offer.
import { capabilitiesFor } from "./pkg/tributary_client.js";
import { $, el, providerLabel } from "./ui.js";
import { createTicket } from "./ticket.js";

const institution = (slug) => (slug ?? "").replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
const accountName = (a) => `${a.institution_name ?? (institution(a.institution) || providerLabel(a.provider))} · ${a.name ?? a.account_id}`;

/** `"trade"` (a full ticket), `"read_only"` (reconnect first) or `null` (this account cannot trade). */
function tradingMode(account, connection) {
  if (!connection) return account.provider === "snaptrade" ? "trade" : null;
  try {
    const where = connection.institution_slug ?? connection.institution_name ?? account.institution ?? undefined;
    if (capabilitiesFor(account.provider, where, connection.type).trading) return "trade";
  } catch {
    return null;
  }
  return account.provider === "snaptrade" && connection.type === "read" ? "read_only" : null;
}

/**
 * Wires the Trade section to `client` (a `TributaryClient`). `reconnectTrading(connection)` runs
 * the SnapTrade reconnect flow asking for a trade connection (from the click) and resolves its
 * `ConnectResult`; `onReconnected()` reloads the page's data. Returns `update(connections)`:
 * call it with the connection list whenever the page reloads it.
 */
export function setupTrading({ client, reconnectTrading, onReconnected }) {
  const tickets = new Map();
  let seq = 0;
  let made = 0;

  async function reconnect(connection, button, say) {
    button.disabled = true;
    say(`Reconnecting ${connection.institution_name ?? "your brokerage"} with trading… finish in the window that opened.`);
    try {
      const result = await reconnectTrading(connection);
      say(result.status === "connected" ? "Reconnected with trading: you can place orders now." : `The reconnection was not completed${result.reason ? ` (${result.reason})` : ""}.`);
      if (result.status === "connected") await onReconnected();
    } catch (e) {
      say(`Reconnecting failed: ${e.message}`);
    } finally {
      button.disabled = false;
    }
  }

  async function update(connections) {
    const mine = ++seq;
    let accounts;
    try {
      accounts = (await client.holdings("by_account")).by_account.map((a) => a.account);
    } catch (e) {
      if (mine === seq) $("trade-status").textContent = `The accounts could not be loaded: ${e.message}`;
      return;
    }
    if (mine !== seq) return;
    $("trade-status").textContent = "";
    const wanted = new Map();
    for (const account of accounts) {
      const connection = connections.find((c) => c.provider === account.provider && c.external_id === account.connection_id);
      const mode = tradingMode(account, connection);
      if (mode) wanted.set(account.account_id, { account, connection, mode });
    }
    for (const [id, ticket] of tickets) {
      const next = wanted.get(id);
      if (next && next.mode === ticket.mode) continue;
      ticket.node.remove();
      tickets.delete(id);
    }
    for (const [id, { account, connection, mode }] of wanted) {
      if (tickets.has(id)) continue;
      const ticket = createTicket({ client, account, connection, mode, name: accountName(account), n: ++made, reconnect });
      tickets.set(id, ticket);
      $("tickets").append(ticket.node);
    }
    $("trade-empty").hidden = tickets.size > 0;
  }

  return { update };
}
