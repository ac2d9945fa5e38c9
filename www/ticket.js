// One account's order ticket: the order form (symbol search, side, type, time in force, units, the
// limit/stop prices its type needs), the confirmation of the broker's preview (every field, each
// estimate with its source, the preview's expiry), the placement, then the order's status with
// Refresh and Cancel. Every call goes through the package (`previewOrder`, `placeOrder` — whose kept
// Idempotency-Key makes a retry safe — `order`, `cancelOrder`); every refusal's message is shown
// in the ticket's alert region. Focus moves to the confirmation's heading, then to the status.
import { el, countdown } from "./ui.js";
import { SIDES, TYPES, DURATIONS, needsLimit, needsStop, previewRows, estimateRows, orderLine, orderRows } from "./order-text.js";

const SEARCH_DELAY_MS = 300;
const MAX_QUERY = 32;
const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
const select = (id, pairs) => el("select", { id }, pairs.map(([value, text]) => el("option", { value }, text)));
const field = (text, control, attrs = {}) => el("div", { class: "field", ...attrs }, el("label", { for: control.id }, text), control);

/**
 * Builds the ticket of `account` (`mode` "trade" or "read_only"); `reconnect(connection, button,
 * say)` asks for a trade connection. Returns `{node, mode}`.
 */
export function createTicket({ client, account, connection, mode, name, n, reconnect }) {
  const id = (part) => `ticket-${n}-${part}`;
  const alert = el("div", { id: id("alert"), class: "alert", role: "alert" });
  const note = el("p", { class: "muted", role: "status", "aria-live": "polite" });
  const say = (text) => (note.textContent = text);
  const reconnectButton = () =>
    connection?.provider === "snaptrade" &&
    el("button", { type: "button", "data-action": "reconnect-trading", onclick: (e) => reconnect(connection, e.currentTarget, say) }, "Reconnect with trading");

  function refuse(e) {
    alert.dataset.code = e.code ?? "";
    alert.replaceChildren(el("p", {}, e.message), e.code === "trading_not_allowed" ? reconnectButton() : null);
  }
  const clearAlert = () => {
    delete alert.dataset.code;
    alert.replaceChildren();
  };

  const toggle = el("button", { type: "button", class: "ticket-toggle", "aria-expanded": "false", "aria-controls": id("body") }, "Open order ticket");
  const body = el("div", { id: id("body"), class: "ticket-body", hidden: true });
  const node = el(
    "li",
    { class: "ticket", "data-account": account.account_id, "data-mode": mode },
    el("div", { class: "row-between" }, el("h3", { id: id("title") }, name), toggle),
    body,
  );
  toggle.addEventListener("click", () => {
    const open = body.hidden;
    body.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Close order ticket" : "Open order ticket";
    if (open && mode === "trade") form.query.focus();
  });

  if (mode === "read_only") {
    body.append(el("p", {}, "This connection is read-only: reconnect it with trading to place orders from Tributary."), reconnectButton(), note);
    return { node, mode };
  }

  // ---- The order form ------------------------------------------------------------------------
  const form = {
    query: el("input", { id: id("query"), type: "search", autocomplete: "off", maxlength: MAX_QUERY, "aria-describedby": id("matches"), placeholder: "MSFT" }),
    instrument: el("select", { id: id("instrument") }, el("option", { value: "" }, "Search for a symbol first")),
    action: select(id("action"), SIDES),
    type: select(id("type"), TYPES),
    duration: select(id("duration"), DURATIONS),
    units: el("input", { id: id("units"), inputmode: "decimal", autocomplete: "off", value: "1" }),
    limit: el("input", { id: id("limit"), inputmode: "decimal", autocomplete: "off" }),
    stop: el("input", { id: id("stop"), inputmode: "decimal", autocomplete: "off" }),
  };
  const matches = el("p", { id: id("matches"), class: "muted", role: "status", "aria-live": "polite" });
  const limitField = field("Limit price", form.limit, { "data-field": "limit" });
  const stopField = field("Stop price", form.stop, { "data-field": "stop" });
  const previewButton = el("button", { type: "submit", class: "primary", "data-action": "preview" }, "Preview order");
  const formView = el(
    "form",
    { class: "ticket-form", "aria-labelledby": id("title"), "data-view": "form" },
    field("Find a symbol", form.query),
    matches,
    field("Instrument", form.instrument),
    field("Side", form.action),
    field("Order type", form.type),
    field("Time in force", form.duration),
    field("Quantity (units)", form.units),
    limitField,
    stopField,
    el("div", { class: "actions" }, previewButton),
  );
  const showPrices = () => {
    limitField.hidden = !needsLimit(form.type.value);
    stopField.hidden = !needsStop(form.type.value);
  };
  form.type.addEventListener("change", showPrices);
  showPrices();

  // Symbol search: debounced, one request at a time wins (a newer one replaces an older one).
  let searchTimer;
  let searchSeq = 0;
  async function search() {
    const mine = ++searchSeq;
    const q = form.query.value.trim().slice(0, MAX_QUERY);
    if (!q) return;
    matches.textContent = "Searching…";
    try {
      const found = (await client.searchSymbols(account.account_id, q)).symbols.slice(0, 20);
      if (mine !== searchSeq) return;
      form.instrument.replaceChildren(
        ...found.map((s) => el("option", { value: s.symbol_id, "data-symbol": s.symbol }, [s.symbol, s.description, s.exchange].filter(Boolean).join(" · "))),
      );
      const exact = found.find((s) => s.symbol.toUpperCase() === q.toUpperCase());
      if (exact) form.instrument.value = exact.symbol_id;
      matches.textContent = found.length ? `${found.length} match${found.length === 1 ? "" : "es"}: choose one under Instrument.` : `Nothing matches "${q}".`;
    } catch (e) {
      if (mine !== searchSeq) return;
      matches.textContent = "";
      refuse(e);
    }
  }
  form.query.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  });

  // The order as the API reads it; the worker checks it (a bad field is `invalid_order` naming it).
  function order() {
    const type = form.type.value;
    const chosen = form.instrument.value;
    return {
      account_id: account.account_id,
      ...(chosen ? { symbol_id: chosen } : { symbol: form.query.value.trim().toUpperCase() }),
      action: form.action.value,
      order_type: type,
      time_in_force: form.duration.value,
      units: form.units.value.trim(),
      ...(needsLimit(type) ? { limit_price: form.limit.value.trim() } : {}),
      ...(needsStop(type) ? { stop_price: form.stop.value.trim() } : {}),
    };
  }

  // ---- The confirmation ----------------------------------------------------------------------
  const confirmTitle = el("h4", { id: id("confirm-title"), tabindex: "-1" }, "Confirm your order");
  const details = el("dl", { class: "order-fields" });
  const estimate = el("dl", { class: "estimate", "aria-label": "Estimate" });
  const warnings = el("ul", { class: "warnings" });
  const expiry = el("p", { class: "expiry", "data-expired": "false" });
  const placeButton = el("button", { type: "button", class: "primary", "data-action": "place" }, "Place order");
  const editButton = el("button", { type: "button", "data-action": "edit" }, "Edit order");
  const confirmView = el(
    "div",
    { class: "ticket-confirm", role: "group", "aria-labelledby": id("confirm-title"), "data-view": "confirm", hidden: true },
    confirmTitle,
    details,
    el("h5", {}, "Estimate"),
    estimate,
    warnings,
    expiry,
    el("div", { class: "actions" }, placeButton, editButton),
  );

  // ---- The order's status --------------------------------------------------------------------
  const statusTitle = el("h4", { id: id("status-title"), tabindex: "-1" }, "Order status");
  const statusText = el("p", { class: "order-state", role: "status", "aria-live": "polite" });
  const statusFields = el("dl", { class: "order-fields" });
  const refreshButton = el("button", { type: "button", "data-action": "refresh-order" }, "Refresh status");
  const cancelButton = el("button", { type: "button", "data-action": "cancel-order" }, "Cancel order");
  const newButton = el("button", { type: "button", "data-action": "new-order" }, "New order");
  const statusView = el(
    "div",
    { class: "ticket-status", role: "group", "aria-labelledby": id("status-title"), "data-view": "status", hidden: true },
    statusTitle,
    statusText,
    statusFields,
    el("div", { class: "actions" }, refreshButton, cancelButton, newButton),
  );
  body.append(alert, formView, confirmView, statusView, note);

  const show = (view) => {
    for (const v of [formView, confirmView, statusView]) v.hidden = v !== view;
  };

  let preview = null;
  let current = null;
  let stopExpiry = null;
  let placing = false;

  function confirm(previewed) {
    preview = previewed;
    details.replaceChildren(...previewRows(previewed, name));
    estimate.replaceChildren(...estimateRows(previewed));
    warnings.replaceChildren(...previewed.warnings.map((w) => el("li", {}, w)));
    stopExpiry?.();
    placeButton.disabled = false;
    expiry.dataset.expired = "false";
    const seconds = previewed.expires_at - Math.floor(Date.now() / 1000);
    stopExpiry = countdown(
      seconds,
      (left) => expiry.replaceChildren("This preview can be placed for ", el("span", { class: "countdown" }, clock(left)), "."),
      () => {
        stopExpiry = null;
        expiry.dataset.expired = "true";
        expiry.textContent = "This preview has expired: edit the order and preview it again.";
        placeButton.disabled = true;
      },
    );
    show(confirmView);
    confirmTitle.focus();
  }

  function status(order, { focus = false } = {}) {
    current = order;
    const currency = preview?.estimate.currency;
    statusText.dataset.state = order.state;
    statusText.textContent = orderLine(order, currency);
    statusFields.replaceChildren(...orderRows(order, currency));
    cancelButton.hidden = order.state !== "open";
    show(statusView);
    if (focus) statusTitle.focus();
  }

  // A busy button: disabled while its call is in flight (a second click or Enter sends nothing).
  async function busy(button, text, work) {
    const idle = button.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = text;
    clearAlert();
    try {
      await work();
    } catch (e) {
      refuse(e);
    } finally {
      button.removeAttribute("aria-busy");
      button.textContent = idle;
      button.disabled = false;
    }
  }

  formView.addEventListener("submit", (e) => {
    e.preventDefault();
    if (previewButton.disabled) return;
    busy(previewButton, "Previewing…", async () => confirm(await client.previewOrder(order())));
  });
  placeButton.addEventListener("click", async () => {
    if (placing) return;
    placing = true;
    let placed = null;
    await busy(placeButton, "Placing…", async () => {
      placed = await client.placeOrder(preview.preview_id);
    });
    placing = false;
    if (placed) {
      stopExpiry?.();
      stopExpiry = null;
      status(placed.order, { focus: true });
    } else {
      placeButton.disabled = expiry.dataset.expired === "true";
      placeButton.focus();
    }
  });
  editButton.addEventListener("click", () => {
    stopExpiry?.();
    stopExpiry = null;
    show(formView);
    form.query.focus();
  });
  refreshButton.addEventListener("click", () =>
    busy(refreshButton, "Refreshing…", async () => status((await client.order(current.id)).order)),
  );
  cancelButton.addEventListener("click", () =>
    busy(cancelButton, "Cancelling…", async () => status((await client.cancelOrder(current.id)).order, { focus: true })),
  );
  newButton.addEventListener("click", () => {
    clearAlert();
    show(formView);
    form.query.focus();
  });

  return { node, mode };
}
