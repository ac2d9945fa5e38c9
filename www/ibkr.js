// Connecting IBKR Flex: there is no provider window — the person pastes the Flex token and the
// Activity query id they made in IBKR's Client Portal, and Tributary checks them with IBKR at once
// (`POST /api/ibkr/connect`), naming what is wrong instead of saving a broken connection.
import { $ } from "./ui.js";

/**
 * Opens the paste form and resolves with the outcome once the person connected or cancelled:
 * `{ status: "connected", statementDate, accounts }`, `{ status: "statement_pending", retryAfterS }`
 * or `{ status: "cancelled" }`. Errors from IBKR stay in the form for the person to fix.
 */
export function connectIbkrFlex(apiJson) {
  const dialog = $("ibkr-dialog");
  const form = $("ibkr-form");
  const status = $("ibkr-status");
  status.textContent = "";
  status.dataset.state = "";
  $("ibkr-token").value = "";
  return new Promise((resolve) => {
    const done = (outcome) => {
      form.onsubmit = null;
      $("ibkr-cancel").onclick = null;
      dialog.close();
      resolve(outcome);
    };
    $("ibkr-cancel").onclick = () => done({ status: "cancelled" });
    dialog.oncancel = () => done({ status: "cancelled" });
    form.onsubmit = async (e) => {
      e.preventDefault();
      const submit = $("ibkr-submit");
      submit.disabled = true;
      status.dataset.state = "busy";
      status.textContent = "Asking IBKR for a statement with them… this can take a few seconds.";
      try {
        const body = { token: $("ibkr-token").value.trim(), query_id: $("ibkr-query").value.trim() };
        const answer = await apiJson("/api/ibkr/connect", { method: "POST", body });
        done(
          answer.status === "connected"
            ? { status: "connected", statementDate: answer.statement_date, accounts: answer.accounts }
            : { status: "statement_pending", retryAfterS: answer.retry_after_s },
        );
      } catch (error) {
        status.dataset.state = "error";
        status.textContent = error.message;
        status.dataset.code = error.code ?? "";
      } finally {
        submit.disabled = false;
      }
    };
    dialog.showModal();
  });
}
