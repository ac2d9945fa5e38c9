// The person's connections: provider badge, capability badges, status, and a Reconnect action for a
// connection that needs repair (the provider's own repair flow, in a popup, through the package).
import { capabilitiesFor } from "./pkg/tributary_client.js";
import { $, el, providerLabel } from "./ui.js";

/** Reads every provider's connections (each failure shown, never hiding the others'). */
export async function loadConnections(apiJson) {
  const reads = await Promise.allSettled([
    apiJson("/api/snaptrade/connections").then((b) => b.connections),
    apiJson("/api/plaid/items").then((b) => b.connections),
    apiJson("/api/schwab/connections").then((b) => b.connections),
    apiJson("/api/ibkr/connections").then((b) => b.connections),
  ]);
  const connections = reads.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  const errors = reads.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  return { connections, errors };
}

const REPAIR_TEXT = {
  schwab_reauth_required: "Your Schwab sign-in has expired: reconnect to keep it updating (the holdings already fetched stay).",
  plaid_reauth_required: "Your bank needs you to sign in again through Plaid: reconnect to keep it updating (the holdings already fetched stay).",
  ibkr_token_expired: "Your IBKR Flex token has expired: reconnect with a new token (the holdings already read stay).",
  ibkr_token_invalid: "IBKR no longer accepts this Flex token (a newer one replaced it): reconnect with the current token.",
  ibkr_ip_restricted: "This Flex token is bound to another IP address: generate one with no IP restriction and reconnect.",
};

function statusOf(connection) {
  if (connection.needs_repair) {
    const reason = connection.repair_reason;
    return { key: "needs_repair", text: REPAIR_TEXT[reason] ?? (reason ? `Needs repair: ${reason}` : "Needs repair") };
  }
  if (connection.disabled) return { key: "disabled", text: "Disconnected by the institution" };
  if (connection.expires_soon) {
    const when = new Date(connection.reauth_required_at * 1000).toLocaleString();
    return { key: "expires_soon", text: `Sign-in expires ${when}: reconnect to keep it updating.` };
  }
  if (connection.statement_pending) return { key: "ok", text: "Connected · IBKR is generating the statement" };
  if (connection.statement_date) return { key: "ok", text: `Connected · statement of ${connection.statement_date}` };
  return { key: "ok", text: "Connected" };
}

function capabilityBadges(connection) {
  try {
    const caps = capabilitiesFor(connection.provider, connection.institution_slug ?? connection.institution_name ?? undefined, connection.type);
    return [caps.trading && el("span", { class: "badge trading" }, "Trading"), caps.realtime && el("span", { class: "badge realtime" }, "Real-time")];
  } catch {
    return [];
  }
}

/** Renders the connection list; `reconnect(connection)` runs when a person asks to repair one. */
export function renderConnections({ connections, errors }, reconnect) {
  const items = connections.map((c) => {
    const status = statusOf(c);
    const name = c.institution_name ?? c.institution_slug ?? "Institution";
    return el(
      "li",
      { "data-provider": c.provider, "data-status": status.key, "data-connection": c.id },
      el("span", { class: "name" }, name, el("span", { class: `badge ${c.provider}` }, providerLabel(c.provider)), ...capabilityBadges(c)),
      el("span", { class: `status ${status.key}` }, status.text),
      status.key !== "ok" &&
        el("button", { type: "button", "aria-label": `Reconnect ${name}`, onclick: (e) => reconnect(c, e.currentTarget) }, "Reconnect"),
    );
  });
  const problems = errors.map((m) => el("li", { class: "error" }, `Some connections could not be listed: ${m}`));
  $("connections").replaceChildren(...items, ...problems);
  $("connections-empty").hidden = items.length > 0 || problems.length > 0;
}
