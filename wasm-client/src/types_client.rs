//! The TypeScript declarations of what `TributaryClient`, `PendingUpdatesPoller` and
//! `handleConnectRedirect` take and return, appended to the generated `.d.ts`. They mirror the
//! worker's answers and the core's serde shapes (the wasm tests read them back field by field).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CLIENT_TYPES: &'static str = r#"
/** `TributaryClient` options. */
export interface ClientOptions {
  /** Requests per call, the first included (1–10, default 3). Only network failures and 5xx answers (except 501) are retried. */
  maxAttempts?: number;
  /** Wait before the first retry in ms (default 250); it doubles with each retry, with jitter. */
  baseDelayMs?: number;
  /** The longest wait before one retry in ms (default 8000, at most 60000). */
  maxDelayMs?: number;
  /** The `fetch` to send requests with (default: the global `fetch`), e.g. one that adds tracing. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** A route the picker offers, or why none can be made now. */
export type Route = RoutingDecision | { error: { code: string; message: string } };

/** An institution's coverage rule: its preferred provider, fallback and whether trading is allowed. */
export interface CoverageRule {
  display_name: string;
  preferred: Provider;
  fallback: Provider | null;
  trading_allowed: boolean;
  popular: boolean;
}

/** One institution in the picker: where a read-only and a trading connection would go now, and why. */
export interface InstitutionEntry {
  /** `null` for a name Tributary has no entry for (routed by the unknown-institution rule). */
  slug: InstitutionSlug | null;
  display_name: string;
  popular: boolean;
  coverage: CoverageRule | null;
  /** Where a read-only connection goes. */
  read: Route;
  /** Where a connection that must trade goes. */
  trade: Route;
  read_capabilities: Capabilities | null;
  trade_capabilities: Capabilities | null;
}

/** `connect` options. */
export interface ConnectOptions {
  /** The connection must be able to trade (default false). */
  needTrading?: boolean;
  /** Where the provider sends the popup back (default `${location.origin}/?flow=return`); that page must call `handleConnectRedirect()`. */
  redirect?: string;
}

/** How a connection attempt ended. */
export type ConnectResult =
  | { status: "connected"; provider: Provider; institution: string }
  | {
      status: "cancelled";
      provider: Provider;
      institution: string;
      /** `popup_closed`, `timed_out`, `not_completed`, or the provider's returned status in lower case. */
      reason: string;
    };

/** Which providers have new data waiting. */
export interface PendingFlags {
  /** New holdings announced (the holdings flags below and `any` never count transactions). */
  snaptrade: boolean;
  plaid: boolean;
  /** Schwab direct has no webhooks: always false today. */
  schwab: boolean;
  /** Any provider has new holdings. */
  any: boolean;
  /** New transactions announced, per provider the API named; empty when it names none (an older worker). */
  transactions: Partial<Record<Provider, boolean>>;
  /** Any provider has new transactions announced. */
  any_transactions: boolean;
}

/** `refresh` options. */
export interface RefreshOptions {
  /** The providers to refresh; left out: whatever is pending. */
  providers?: Provider[];
  /** Accept a billed refresh within the cost cap (default false). */
  confirmCost?: boolean;
}

/** How one provider was refreshed. */
export interface ProviderRefresh {
  provider: Provider;
  status: "ok" | "failed";
  /** `fetch_only`: re-read for free; `provider_refresh`: the provider was asked to refresh. */
  mode: "fetch_only" | "provider_refresh";
  /** Whether the provider billed the refresh. */
  billed: boolean;
  /** Unix seconds of the new data (status ok). */
  last_updated?: number;
  accounts?: number;
  positions?: number;
  /** Why the provider failed (status failed). */
  error?: ProviderFailure;
}

/** What a refresh did: nothing (nothing pending) or each provider's refresh. */
export interface RefreshResult {
  decision: "allowed" | "nothing_pending";
  results: ProviderRefresh[];
}

/** `PendingUpdatesPoller` options. */
export interface PollerOptions {
  /** Milliseconds between polls (default 300000 = 5 minutes; 100 ms to 24 h). */
  intervalMs?: number;
  /** Called with the flags after the first poll and whenever they change (holdings or transactions flags). */
  onChange?: (flags: PendingFlags) => void;
  /** Called when providers' transactions flags are raised (also on the first poll): which ones, and the flags. */
  onTransactions?: (providers: Provider[], flags: PendingFlags) => void;
  /** Called when a poll nobody awaits (timer, focus) fails. */
  onError?: (error: TributaryError) => void;
}
"#;
