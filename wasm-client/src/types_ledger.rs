//! The TypeScript declarations of the ledger: what `TributaryClient.transactions`,
//! `transactionsCsv`, `syncTransactions`, `reconciliation` and `transactionTotals` take and
//! return, appended to the generated `.d.ts`. They mirror the worker's answers (`openapi.yaml`'s
//! `Transaction`, `TransactionsProvider`, the sync and reconciliation bodies) field for field;
//! decimals are strings, exactly as the API wrote them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const LEDGER_TYPES: &'static str = r#"
/** What a transaction did, in one vocabulary for every provider. */
export type TransactionType =
  | "buy" | "sell" | "dividend" | "interest" | "fee" | "tax" | "deposit" | "withdrawal"
  | "transfer_in" | "transfer_out" | "split" | "other";

/** A date written `YYYY-MM-DD`. */
export type IsoDate = string;

/** The security a transaction concerns, with the key positions of it carry. */
export interface TransactionSecurity {
  security_key: string;
  ticker: string | null;
  name: string | null;
}

/**
 * One normalised transaction. **`amount` > 0 = money into the account** (a sale, a dividend, a
 * deposit), < 0 = money out; `quantity` > 0 = units into the position; `fees` ≥ 0.
 */
export interface Transaction {
  /** Stable for life: derived from the provider and its own id. */
  id: string;
  provider: Provider;
  provider_transaction_id: string;
  account_id: string;
  institution: InstitutionSlug | null;
  type: TransactionType;
  /** The provider's own type (`BUY`, `cash/dividend`). */
  provider_type: string;
  trade_date: IsoDate;
  settlement_date: IsoDate | null;
  security: TransactionSecurity | null;
  quantity: Decimal | null;
  price: Decimal | null;
  amount: Decimal | null;
  fees: Decimal | null;
  currency: Currency | null;
  description: string | null;
}

/** `transactions` and `transactionsCsv` filters; an empty string counts as left out. */
export interface TransactionFilters {
  /** First trade date (default: 90 days before `to`). */
  from?: IsoDate;
  /** Last trade date (default: today). At most five years after `from`. */
  to?: IsoDate;
  /** One account's `account_id`. */
  account?: string;
  /** One type, or several. */
  type?: TransactionType | TransactionType[];
}

/** Why a provider's copy of an institution's transactions is left out, or kept. */
export type TransactionRoutingDecision =
  | { decision: "skip"; canonical: Provider }
  | { decision: "keep_canonical_unavailable"; canonical: Provider }
  | { decision: "keep_stands_in"; preferred: Provider }
  | { decision: "keep_unknown_institution" | "keep_no_routing_rule" | "keep_is_canonical" };

/** A sync scope (an account, an Item) whose last read did not complete. */
export interface TransactionSyncProblem {
  scope: string;
  status: "failed" | "not_ready";
  code: string | null;
  message: string | null;
  /** Unix seconds of the attempt. */
  at: number | null;
}

/** One provider's ledger state: how its sync went, and how its rows were routed. */
export interface TransactionsProvider {
  provider: Provider;
  status: "ok" | "incomplete" | "never_synced" | "not_connected";
  /** Unix seconds of the last complete sync of any of its scopes. */
  last_synced_at: number | null;
  scopes: number;
  problems: TransactionSyncProblem[];
  /** Institutions whose rows are listed through another provider instead. */
  routed_away: { institution: InstitutionSlug; decision: TransactionRoutingDecision; transactions: number }[];
  /** Institutions kept here because their preferred provider could not supply them. */
  fail_open: { institution: InstitutionSlug; preferred: Provider }[];
}

/** The rows of one currency, summed exactly. */
export interface TransactionTotal {
  /** `null` for rows the provider named no currency for (never added to another currency). */
  currency: Currency | null;
  /** The sum of the rows' `amount`s: their net effect on cash (+ = into the accounts). */
  amount: Decimal;
  /** The sum of the rows' `fees`. */
  fees: Decimal;
  /** How many rows are in this currency (rows without an amount count, adding nothing). */
  count: number;
}

/** Every transaction matching the filters, with the totals per currency. */
export interface TransactionList {
  /** The window the API read. */
  from: IsoDate;
  to: IsoDate;
  /** Newest first, every page. */
  transactions: Transaction[];
  /** Each provider's state as of the first page. */
  providers: TransactionsProvider[];
  /** Exact totals per currency, in currency order (no currency last). */
  totals: TransactionTotal[];
}

/** The ledger as CSV, for a download. */
export interface TransactionsCsv {
  /** The API's file name (`transactions-<from>-to-<to>.csv`), or `transactions.csv`. */
  filename: string;
  /** RFC 4180: `id,trade_date,settlement_date,provider,…` then one line per row. */
  csv: string;
}

/** `syncTransactions` options. */
export interface SyncOptions {
  /** The providers to sync; left out: every connected one. */
  providers?: Provider[];
}

/** How one provider's sync went. */
export interface ProviderSync {
  provider: Provider;
  /** `partial`: something was stored or read despite a failure; `not_ready`: the provider is still preparing the data. */
  status: "ok" | "partial" | "failed" | "not_ready" | "not_supported" | "not_connected";
  /** Rows stored (new or updated). */
  stored: number;
  /** Rows a complete read no longer had (cancelled, re-issued under a new id). */
  removed: number;
  error: ProviderFailure | null;
}

/** What a sync did, one result per provider. */
export interface SyncResult {
  results: ProviderSync[];
}

/** A security whose quantity changed otherwise than its transactions say. */
export interface ReconciliationMismatch {
  provider: Provider;
  account_id: string;
  security_key: string;
  /** What the transactions between the two holdings reads add up to. */
  implied_change: Decimal;
  /** What the holdings reads show (later minus earlier). */
  observed_change: Decimal;
  /** `observed_change − implied_change`: what no transaction explains. */
  difference: Decimal;
  /** Transactions counted after this day, up to `until`. */
  since: IsoDate;
  until: IsoDate;
}

/** Where holdings and activity disagree (empty when they agree). */
export interface Reconciliation {
  mismatches: ReconciliationMismatch[];
}
"#;
