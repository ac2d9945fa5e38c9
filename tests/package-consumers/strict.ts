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
  transactionTotals,
  version,
} from "@tributary/client";
import * as bundler from "@tributary/client";
import * as web from "@tributary/client/web";
import type {
  CancelledOrder,
  ConnectResult,
  FigureSource,
  Order,
  OrderDetail,
  OrderInput,
  OrderList,
  OrderPreview,
  OrderState,
  PlacedOrder,
  SymbolSearch,
  MergedPortfolio,
  Position,
  PositionDetail,
  Provider,
  PendingFlags,
  Reconciliation,
  RefreshResult,
  SyncResult,
  Transaction,
  TransactionFilters,
  TransactionList,
  TransactionTotal,
  TransactionType,
  TransactionsCsv,
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

// The ledger: every page of a filtered read, its exact totals, the CSV, a sync and reconciliation.
export async function activity(client: TributaryClient): Promise<string[]> {
  const types: TransactionType[] = ["buy", "sell"];
  const filters: TransactionFilters = { from: "2025-01-01", to: "2025-12-31", account: "acc-1", type: types };
  const list: TransactionList = await client.transactions(filters);
  const first: Transaction | undefined = list.transactions.at(0);
  const amount: string | null = first?.amount ?? null;
  const ticker: string | null = first?.security?.ticker ?? null;
  const totals: TransactionTotal[] = transactionTotals(list.transactions);
  const usd: string | undefined = list.totals.find((t) => t.currency === "USD")?.amount;
  const neverSynced: boolean = list.providers.some((p) => p.status === "never_synced");
  const csv: TransactionsCsv = await client.transactionsCsv({ type: "dividend" });
  const blob: Blob = new Blob([csv.csv], { type: "text/csv" });
  try {
    const synced: SyncResult = await client.syncTransactions({ providers: ["snaptrade", "plaid"] });
    void synced.results.map((r) => `${r.provider}:${r.status}:${r.stored}:${r.error?.code ?? ""}`);
  } catch (e) {
    const wait: number | undefined = (e as TributaryError).retryAfter;
    void wait;
  }
  const report: Reconciliation = await client.reconciliation();
  const differences: string[] = report.mismatches.map((m) => `${m.account_id} ${m.security_key} ${m.difference}`);
  const poller = new PendingUpdatesPoller(client, {
    onChange: (flags: PendingFlags) => void flags.any_transactions,
    onTransactions: (providers: Provider[], flags: PendingFlags) => void [providers.length, flags.transactions.plaid === true],
  });
  const pending: boolean | undefined = poller.flags.transactions.snaptrade;
  const announced: SyncResult = await poller.syncTransactions();
  return [list.from, list.to, amount ?? "", ticker ?? "", String(totals.length), usd ?? "", String(neverSynced), csv.filename,
    String(blob.size), ...differences, String(pending), String(announced.results.length)];
}

// Trading: a symbol search, a preview with each figure's source, a place under the client's kept
// key (or the app's own), the orders, one order's audit trail, a cancel.
export async function trading(client: TributaryClient, accountId: string): Promise<string[]> {
  const found: SymbolSearch = await client.searchSymbols(accountId, "MSFT");
  const symbolId: string | undefined = found.symbols.find((s) => s.symbol === "MSFT")?.symbol_id;
  const input: OrderInput = { account_id: accountId, symbol_id: symbolId ?? "", action: "BUY", order_type: "Limit", time_in_force: "Day", units: "1", limit_price: "401.25" };
  const preview: OrderPreview = await client.previewOrder(input);
  const source: FigureSource = preview.estimate.source.fees;
  const fees: string | null = preview.estimate.fees;
  const expiresAt: number = preview.expires_at;
  let placed: PlacedOrder | null = null;
  try {
    placed = await client.placeOrder(preview.preview_id);
  } catch (e) {
    const error = e as TributaryError;
    if (error.code === "order_in_progress") placed = await client.placeOrder(preview.preview_id, {});
  }
  const again: PlacedOrder = await client.placeOrder(preview.preview_id, { idempotencyKey: placed?.idempotency_key ?? "0b7f8e9c-1d2e-4f30-8a41-5b6c7d8e9f00" });
  const order: Order = again.order;
  const state: OrderState = order.state;
  const open: OrderList = await client.orders({ accountId, state: "open" });
  const all: OrderList = await client.orders();
  const detail: OrderDetail = await client.order(order.id);
  const cancelled: CancelledOrder = await client.cancelOrder(order.id);
  return [source, fees ?? "—", String(expiresAt), String(again.replayed), state, String(open.orders.length), String(all.warnings.length),
    String(detail.events.map((e) => e.at).length), cancelled.order.state, order.limit_price ?? "", order.filled_units ?? ""];
}

export const webEntry: typeof bundler = web;
export const bundlerEntry: typeof web = bundler;
export const webClient: TributaryClient = new web.TributaryClient("https://api.example", () => "token");
