// A tiny app an app developer would write with Vite or webpack 5 and no bundler configuration:
// it imports the package (build.mjs builds it as written and with "@tributary/client/web"),
// creates a client for the API named by the page's `#api=` (on another origin), and shows the
// institutions matching "schwab" and the session's consolidated holdings as the package answers
// them. `#token=` is the session token (a host app hands over its own); a fragment is never sent.
import { TributaryClient, version } from "@tributary/client";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));

function row(tag, attrs, text) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) element.dataset[key] = String(value);
  element.textContent = text;
  return element;
}

async function start() {
  const token = params.get("token");
  const client = new TributaryClient(params.get("api"), () => token);
  $("version").textContent = version();
  const [institutions, portfolio] = await Promise.all([client.institutions("schwab"), client.holdings("consolidated")]);
  $("institutions").replaceChildren(
    ...institutions.map((e) => row("li", { slug: e.slug ?? "", provider: e.trade.provider ?? "" }, e.display_name)),
  );
  $("providers").replaceChildren(
    ...portfolio.providers.map((p) => row("li", { provider: p.provider, status: p.status }, `${p.provider}: ${p.status}`)),
  );
  $("positions").replaceChildren(
    ...portfolio.consolidated.map((line) =>
      row("tr", { security: line.security_key, quantity: line.quantity }, `${line.ticker ?? line.security_key} ${line.quantity}`),
    ),
  );
  window.app = { institutions, portfolio };
  document.body.dataset.ready = "true";
}

start().catch((e) => {
  document.body.dataset.ready = "error";
  document.body.dataset.error = `${e.name} ${e.code ?? ""}: ${e.message}`;
  document.body.append(`Failed: ${e.message}`);
});
