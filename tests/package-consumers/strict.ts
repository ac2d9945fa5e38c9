// A TypeScript app under `--strict` using @tributary/client as an app developer would: every
// exported function and method called with its documented argument and result types. It is only
// compiled (`tsc --noEmit`), never run: it proves the shipped `.d.ts` is complete and consistent.
// The bundler entry initialises its WebAssembly on import: there is no `init()` to call. The web
// entry ("@tributary/client/web") exports exactly the same, with the same types, both ways.
import {
  TributaryClient,
  PendingUpdatesPoller,
  formatMoney,
  formatMoneyRounded,
  mergePortfolios,
  chooseProvider,
  capabilitiesFor,
  resolveInstitution,
  handleConnectRedirect,
  version,
} from "@tributary/client";
import * as bundler from "@tributary/client";
import * as web from "@tributary/client/web";
import type {
  ConnectResult,
  MergedPortfolio,
  Position,
  PositionDetail,
  Provider,
  RefreshResult,
  TributaryError,
} from "@tributary/client";

export async function hostApp(getToken: () => Promise<string>): Promise<string[]> {
  if (handleConnectRedirect()) return [];
  const client = new TributaryClient("https://api.example", getToken);
  const merged: MergedPortfolio = await client.holdings("by_account");
  const providers: Provider[] = merged.providers.map((p) => p.provider);
  const detail: PositionDetail | undefined = ([] as Position[]).at(0)?.detail;
  const lots: number = detail?.lots?.length ?? 0;
  const connected: ConnectResult = await client.connect("interactive_brokers", { needTrading: true });
  try {
    const refreshed: RefreshResult = await client.refresh({ providers: ["ibkr_flex"] });
    void refreshed;
  } catch (e) {
    const error = e as TributaryError;
    const wait: number | undefined = error.retryAfter;
    void wait;
  }
  const poller = new PendingUpdatesPoller(client, { intervalMs: 300_000 });
  poller.stop();
  const shown: string = formatMoneyRounded("26790.22305", "USD") + formatMoney("1", "USD");
  const route = chooseProvider("Interactive Brokers", false);
  const caps = capabilitiesFor("ibkr_flex", resolveInstitution("IBKR") ?? null, "read");
  const again: MergedPortfolio = mergePortfolios([], "consolidated");
  return [version(), shown, String(lots), connected.status, JSON.stringify(route), String(caps.trading), ...providers, again.view];
}

export const webEntry: typeof bundler = web;
export const bundlerEntry: typeof web = bundler;
export const webClient: TributaryClient = new web.TributaryClient("https://api.example", () => "token");
