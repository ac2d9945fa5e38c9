//! The TypeScript declarations of every value the exports take or return, appended to the
//! generated `.d.ts`. They mirror the core's serde shapes field for field (the shared wasm tests
//! check the key ones); decimals are strings, so no amount ever passes through a float.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A provider Tributary connects through. */
export type Provider = "snaptrade" | "plaid" | "schwab" | "ibkr_flex";
/** A canonical institution key such as `"charles_schwab"`. */
export type InstitutionSlug = string;
/** An exact decimal as a string (e.g. `"1234.50"`); never a float. */
export type Decimal = string;
/** An upper-case currency code such as `"USD"` or `"BTC"`. */
export type Currency = string;

/**
 * Thrown by every export (`name` is `"TributaryError"`): `code` is stable and machine-readable,
 * `message` is for people. Errors from an API request also carry `status` and `attempts`.
 */
export interface TributaryError extends Error {
  name: "TributaryError";
  code: string;
  /** The HTTP status of the answer; 0 when nothing answered (network failure). */
  status?: number;
  /** How many requests were made (more than 1 only for retried network failures and 5xx). */
  attempts?: number;
  /** On a 429: seconds to wait before asking again (from `Retry-After`). */
  retryAfter?: number;
  /** On a 402 `refresh_cost_capped`: Unix seconds of the next refresh allowed without `confirmCost`. */
  nextAllowedAt?: number;
  /** On a 402 `refresh_cost_capped`: why, for people. */
  reason?: string;
  /** The provider the failure is about, when the answer names one. */
  provider?: Provider;
}

/** Why a provider was passed over for an institution. */
export type ProviderProblem =
  | { code: "not_configured" }
  | { code: "unavailable" }
  | { code: "maintenance" }
  | { code: "high_failure_rate"; attempts: number; failures: number };

/** A provider that was considered and skipped, and why. */
export interface PassedOver {
  provider: Provider;
  problem: ProviderProblem;
}

/** Why the chosen provider was chosen (the decision's `message` says the same for people). */
export type RoutingReason =
  | { code: "preferred" }
  | { code: "trading_needs_fallback" }
  | { code: "unknown_institution" }
  | { code: "unknown_institution_needs_trading" }
  | { code: "fell_back"; from: Provider; problem: ProviderProblem };

/** Where to send the user to connect an institution, and why. */
export interface RoutingDecision {
  /** The resolved slug; `null` when the name matched no alias. */
  institution: InstitutionSlug | null;
  /** The name to show, when the institution is known. */
  display_name: string | null;
  provider: Provider;
  reason: RoutingReason;
  /** One or two sentences for people. */
  message: string;
  /** Whether trading will be possible through the chosen provider (given a trade connection). */
  trading_available: boolean;
  /** Whether the chosen provider is not the institution's first choice. */
  used_fallback: boolean;
  /** Candidates skipped before the chosen one, in the order they were tried. */
  passed_over: PassedOver[];
}

/** Recent calls to one provider for one institution. */
export interface RecentFailures {
  attempts: number;
  failures: number;
}

/** One provider's state as the app sees it. */
export interface ProviderState {
  /** Credentials are present for this deployment. */
  configured: boolean;
  /** The provider as a whole answers; defaults to true. */
  available?: boolean;
  /** Institutions the provider reports as under maintenance. */
  maintenance?: InstitutionSlug[];
  /** Recent call outcomes per institution. */
  recent_failures?: Record<InstitutionSlug, RecentFailures>;
}

/** Every provider's state; a provider left out counts as not configured. */
export type ProviderHealth = Partial<Record<Provider, ProviderState>>;

/** How a connection was authorised. */
export type ConnectionType = "read" | "trade";
/** What a manual refresh costs the app. */
export type RefreshCost = "free" | "paid";

/** What an account can do, derived once at import. */
export interface Capabilities {
  trading: boolean;
  realtime: boolean;
  refresh_cost: RefreshCost;
}

/** What kind of instrument a position holds. */
export type SecurityKind =
  | "equity" | "etf" | "mutual_fund" | "option" | "crypto"
  | "fixed_income" | "derivative" | "loan" | "cash" | "other";

/** An account at an institution, as one provider reports it. */
export interface Account {
  provider: Provider;
  account_id: string;
  connection_id: string | null;
  institution: InstitutionSlug | null;
  institution_name: string | null;
  name: string | null;
  number_mask: string | null;
  account_type: string | null;
  currency: Currency | null;
}

/** A holding of one security in one account. */
export interface Position {
  provider: Provider;
  account_id: string;
  institution: InstitutionSlug | null;
  /** Stable identity of the security across providers (the ticker when known). */
  security_key: string;
  ticker: string | null;
  name: string | null;
  kind: SecurityKind;
  quantity: Decimal;
  price: Decimal | null;
  market_value: Decimal | null;
  cost_basis: Decimal | null;
  currency: Currency;
  /** Unix seconds of the data's freshness. */
  as_of: number;
  /** Identifiers, contract terms and lots the provider sent beside the position (IBKR Flex). */
  detail?: PositionDetail;
}

/** What a provider says about a position beyond its quantity and value. */
export interface PositionDetail {
  /** IBKR's contract id. */
  conid?: string;
  isin?: string;
  cusip?: string;
  /** Units of the underlying per contract; value and cost basis already include it. */
  multiplier?: Decimal;
  /** The provider's rate from the position's currency to the account's base currency. */
  fx_rate_to_base?: Decimal;
  /** The tax lots; their quantities sum to the position's. */
  lots?: Lot[];
}

/** One tax lot of a position, in the position's currency. */
export interface Lot {
  quantity: Decimal;
  cost_basis: Decimal | null;
  /** ISO date or date-time the lot was opened, when known. */
  opened_at: string | null;
}

/** Cash held in one account in one currency. */
export interface CashBalance {
  provider: Provider;
  account_id: string;
  institution: InstitutionSlug | null;
  currency: Currency;
  amount: Decimal;
  buying_power: Decimal | null;
  as_of: number;
}

/** One provider's complete view of a user's holdings. */
export interface Holdings {
  accounts: Account[];
  positions: Position[];
  balances: CashBalance[];
}

/** How old a provider's data is against its TTL; `age_hours` is `null` when just fetched. */
export interface CacheInfo {
  age_hours: Decimal | null;
  ttl_hours: number;
  from_cache: boolean;
}

/** A provider's failure: a stable code and a message for people. */
export interface ProviderFailure {
  code: string;
  message: string;
}

/** The body of the worker's `GET /api/<provider>/holdings`, passed on as it is. */
export interface HoldingsResponse extends Holdings {
  provider: Provider;
  /** Unix seconds of the real fetch time. */
  last_updated?: number | null;
  cache_info?: CacheInfo | null;
  /** The last refresh's failure when cached data is served; not used by the merge. */
  last_error?: { code: string | null; message: string | null; at: number | null } | null;
}

/** One provider's answer in the core's tagged form. */
export type ProviderResult =
  | { status: "ok"; provider: Provider; holdings: Holdings; last_updated?: number | null; cache_info?: CacheInfo | null }
  | { status: "failed"; provider: Provider; error: ProviderFailure }
  | { status: "not_connected"; provider: Provider };

/** What `mergePortfolios` accepts per provider: a worker holdings body or a tagged result. */
export type ProviderResultInput = ProviderResult | HoldingsResponse;

/** Which view `mergePortfolios` returns. */
export type MergeView = "by_account" | "consolidated";

/** An institution whose rows went to its canonical provider instead. */
export interface RoutedAway {
  institution: InstitutionSlug;
  /** The canonical provider the institution's data comes from instead. */
  to: Provider;
  accounts: number;
  positions: number;
  balances: number;
}

/** How a provider contributed to the merged portfolio. */
export type ProviderStatus =
  | { status: "ok" | "stale" | "empty" | "routed_away" | "not_connected" }
  | { status: "failed"; error: ProviderFailure };

/** Per-provider status, freshness and what it contributed (row counts). */
export type ProviderReport = ProviderStatus & {
  provider: Provider;
  last_updated: number | null;
  cache_info: CacheInfo | null;
  routed_away: RoutedAway[];
  /** Institutions kept here only because their preferred canonical provider could not supply them. */
  fail_open: { institution: InstitutionSlug; preferred: Provider }[];
  /** Whether this provider could supply data to the merge (configured, not failing or needing repair). */
  available: boolean;
  accounts: number;
  positions: number;
  balances: number;
};

/** An account with its positions and cash. */
export interface AccountHoldings {
  account: Account;
  positions: Position[];
  cash: CashBalance[];
}

/** One account's share of a consolidated line. */
export interface PositionSource {
  provider: Provider;
  account_id: string;
  institution: InstitutionSlug | null;
  quantity: Decimal;
  market_value: Decimal | null;
  cost_basis: Decimal | null;
}

/** One security in one currency, summed across accounts and providers. */
export interface ConsolidatedPosition {
  security_key: string;
  currency: Currency;
  ticker: string | null;
  name: string | null;
  kind: SecurityKind;
  quantity: Decimal;
  /** Sum of the known market values; `null` when none is known. */
  market_value: Decimal | null;
  /** True when every source had a market value. */
  market_value_complete: boolean;
  /** Sum of cost bases, only when every source reports one. */
  cost_basis: Decimal | null;
  sources: PositionSource[];
}

/** One account's cash in one currency, as a source of a cash line. */
export interface CashSource {
  provider: Provider;
  account_id: string;
  institution: InstitutionSlug | null;
  amount: Decimal;
}

/** All cash in one currency. */
export interface CashTotal {
  currency: Currency;
  amount: Decimal;
  sources: CashSource[];
}

/** Everything held in one currency; never converted to another. */
export interface CurrencyTotal {
  currency: Currency;
  positions_value: Decimal;
  cash: Decimal;
  /** `positions_value + cash`. */
  total: Decimal;
  /** Positions in this currency without a market value. */
  unvalued_positions: number;
}

/** What every merged view carries: cash and totals per currency, and each provider's report. */
export interface MergedPortfolioBase {
  cash: CashTotal[];
  totals: CurrencyTotal[];
  providers: ProviderReport[];
}

/** The merged portfolio, account by account. */
export interface MergedByAccount extends MergedPortfolioBase {
  view: "by_account";
  by_account: AccountHoldings[];
}

/** The merged portfolio, one line per security and currency. */
export interface MergedConsolidated extends MergedPortfolioBase {
  view: "consolidated";
  consolidated: ConsolidatedPosition[];
}

/** The answer of `mergePortfolios`, narrowed by its `view`. */
export type MergedPortfolio = MergedByAccount | MergedConsolidated;
"#;
