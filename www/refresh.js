// Refreshing from the page: the "Updated data available" banner fed by the package's pending-updates
// poller, "Refresh now" (only the providers with news), "Refresh all", the cooldown countdown (a
// notice, not an error) and the confirmation before a refresh that costs a paid provider call.
// Every rule (what to refresh, whether it may run, what it costs) is the API's and the package's.
import { PendingUpdatesPoller } from "./pkg/tributary_client.js";
import { $, el, when, countdown, providerLabel, providerList } from "./ui.js";

const PROVIDERS = ["snaptrade", "plaid"];

/**
 * Wires the banner, the refresh buttons, the notice and the cost dialog; `onRefreshed` reloads what
 * the page shows; `connectedProviders()` names the providers to ask for a paid refresh; `onFlags`
 * hears every change of the pending flags (the Activity tab reads the transactions flags).
 * Returns the poller (started) so the page can stop it, poll, or sync announced activity.
 */
export function setupRefresh({ client, pollMs, onRefreshed, connectedProviders, onFlags }) {
  const buttons = [$("refresh-now"), $("refresh-all")];
  const notice = $("refresh-notice");
  let busy = false;
  let stopCountdown = null;

  const onChange = (flags) => {
    renderBanner(flags);
    onFlags?.(flags);
  };
  const poller = new PendingUpdatesPoller(client, { intervalMs: pollMs, onChange });

  function renderBanner(flags) {
    const pending = PROVIDERS.filter((p) => flags[p]);
    const banner = $("pending-banner");
    banner.hidden = !flags.any;
    banner.dataset.providers = pending.join(" ");
    $("pending-text").textContent = flags.any
      ? `Updated data available from your broker through ${providerList(pending)}.`
      : "";
  }

  function say(state, ...content) {
    notice.dataset.state = state;
    notice.hidden = false;
    notice.replaceChildren(...content);
  }

  // The notice's own "Ask them" button, when shown, follows the refresh buttons' state.
  const allButtons = () => [...buttons, $("refresh-force")].filter(Boolean);

  function setBusy(on, label) {
    busy = on;
    for (const b of allButtons()) {
      b.disabled = on || stopCountdown !== null;
      b.setAttribute("aria-busy", String(on));
    }
    $("refresh-now").textContent = on ? "Refreshing…" : "Refresh now";
    if (on) say("busy", `Refreshing ${label}…`);
  }

  // A 429 is a wait, not a failure: a live countdown, buttons back when it reaches zero.
  function startCountdown(seconds) {
    stopCountdown?.();
    const each = (left) =>
      say("wait", "Please wait ", el("span", { id: "countdown" }, String(left)), ` s: your data was refreshed moments ago.`);
    stopCountdown = countdown(seconds, each, () => {
      stopCountdown = null;
      notice.hidden = true;
      notice.dataset.state = "";
      notice.replaceChildren();
      for (const b of allButtons()) b.disabled = busy;
    });
    for (const b of allButtons()) b.disabled = true;
  }

  function report(result) {
    const failed = (result.results ?? []).filter((r) => r.status !== "ok");
    const done = (result.results ?? []).filter((r) => r.status === "ok").map((r) => r.provider);
    if (result.decision === "nothing_pending") {
      // Free refreshes re-read only what a broker announced; asking brokers for more is a choice.
      return say(
        "ok",
        "Nothing new announced by your brokers: your portfolio is up to date. ",
        el("button", { type: "button", id: "refresh-force", disabled: busy, onclick: askProviders }, "Ask them for the latest now"),
      );
    }
    const lines = failed.map((r) =>
      el("li", { "data-provider": r.provider }, `${providerLabel(r.provider)}: ${r.error?.message ?? "the refresh failed"}`),
    );
    if (failed.length) {
      return say("error", done.length ? `Refreshed ${providerList(done)}; ` : "", "some providers could not refresh:", el("ul", {}, lines));
    }
    say("ok", `Refreshed ${providerList(done)}.`);
  }

  // The cost dialog: what the charge is, when the next free refresh is, and an explicit choice.
  function confirmCost(error, providers) {
    const dialog = $("cost-dialog");
    const reason = /[.!?]$/.test(error.reason ?? "") ? error.reason : `${error.reason ?? "it is billed per refresh"}.`;
    $("cost-text").textContent =
      `Refreshing ${providerLabel(error.provider)} again now makes a paid ${providerLabel(error.provider)} call: ${reason} ` +
      `Your next free refresh is ${when(error.nextAllowedAt)}.`;
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue === "confirm") {
        run(`${providerList(providers ?? [error.provider])} (paid)`, () => client.refresh({ providers, confirmCost: true }), providers);
      } else {
        say("ok", `Not refreshed. Your next free refresh is ${when(error.nextAllowedAt)}.`);
      }
    };
    dialog.showModal();
  }

  async function run(label, action, providers) {
    if (busy || stopCountdown !== null) return;
    setBusy(true, label);
    try {
      report(await action());
      await onRefreshed();
      await poller.poll();
    } catch (e) {
      if (e.status === 429) startCountdown(e.retryAfter);
      else if (e.status === 402 && e.code === "refresh_cost_capped") confirmCost(e, providers);
      else say("error", `The refresh failed: ${e.message}`);
    } finally {
      setBusy(false);
    }
  }

  $("refresh-now").addEventListener("click", () => {
    const pending = PROVIDERS.filter((p) => poller.flags[p]);
    run(providerList(pending), () => poller.refresh(), pending);
  });
  // Asking providers to refresh (a billed call each) names them; the API asks for confirmation
  // (402) when that would repeat a paid refresh within the cap.
  function askProviders() {
    const providers = connectedProviders();
    if (!providers.length) return say("ok", "Nothing to refresh yet: connect an institution first.");
    run(providerList(providers), () => client.refresh({ providers }), providers);
  }

  // "Refresh all" costs nothing: it re-reads whatever any broker announced.
  $("refresh-all").addEventListener("click", () => run("your portfolio", () => client.refresh({}), undefined));
  poller.start();
  return poller;
}
