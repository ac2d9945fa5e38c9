// Tributary's reference web app: loads the browser module and talks to the worker's API.
import init, { version, formatMoney } from "./pkg/tributary_client.js";

const show = (id, state, text) => {
  const el = document.getElementById(id);
  el.dataset.state = state;
  el.textContent = text;
};

async function apiJson(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error ?? { code: "http_" + response.status, message: response.statusText };
    throw Object.assign(new Error(`${error.message} (${error.code})`), { status: response.status, code: error.code });
  }
  return body;
}

async function loadModule() {
  try {
    await init();
    show("wasm-status", "ok", `tributary-client ${version()} · ${formatMoney("1234.5", "usd")}`);
  } catch (e) {
    show("wasm-status", "error", `The browser module failed to load: ${e.message}`);
  }
}

async function checkApi() {
  try {
    const health = await apiJson("/api/health");
    show("api-status", "ok", `${health.status} · v${health.version} · D1 ${health.d1.schema} · KV ok`);
  } catch (e) {
    show("api-status", "error", `Unhealthy: ${e.message}`);
  }
}

// In development the worker issues sessions itself; a host app would supply its own token.
async function signIn() {
  try {
    const { token } = await apiJson("/api/dev/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: "demo-user" }),
    });
    const me = await apiJson("/api/me", { headers: { authorization: `Bearer ${token}` } });
    show("session-status", "ok", `Signed in as ${me.user_id}`);
  } catch (e) {
    show("session-status", "error", e.status === 404 ? "No development session here: sign in through your app." : e.message);
  }
}

await Promise.all([loadModule(), checkApi(), signIn()]);
document.body.dataset.ready = "true";
