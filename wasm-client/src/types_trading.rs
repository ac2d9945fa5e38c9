//! The TypeScript declarations of trading: what `TributaryClient.searchSymbols`, `previewOrder`,
//! `placeOrder`, `orders`, `order` and `cancelOrder` take and return, appended to the generated
//! `.d.ts`. They mirror the worker's bodies (the trading contract, `openapi.yaml`'s orders) field
//! for field; decimals are strings exactly as the API wrote them, a figure nobody knows is `null`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TRADING_TYPES: &'static str = r#"
/** The side of an order. */
export type OrderAction = "BUY" | "SELL";
/** How an order is priced: `Limit` needs `limit_price`, `Stop` `stop_price`, `StopLimit` both. */
export type OrderType = "Market" | "Limit" | "Stop" | "StopLimit";
/** How long an order stays working. */
export type TimeInForce = "Day" | "GTC" | "FOK" | "IOC";
/** Where an order stands. `sending`/`unknown`: placed but not yet confirmed by the broker (never re-sent). */
export type OrderState = "sending" | "unknown" | "open" | "executed" | "cancelled" | "rejected" | "failed";
/** Where a preview figure comes from: the broker's own preview, Tributary's cached prices and cash, or nowhere (the figure is `null`). */
export type FigureSource = "brokerage" | "estimate" | "unavailable";

/** An instrument an account can trade. */
export interface TradableSymbol {
  /** The broker's instrument id: pass it as `symbol_id` to `previewOrder`. */
  symbol_id: string;
  /** The ticker (`"MSFT"`). */
  symbol: string;
  raw_symbol: string | null;
  description: string | null;
  currency: Currency | null;
  exchange: string | null;
  /** The broker's instrument type (`"cs"`, `"etf"`, …). */
  type: string | null;
}

/** `searchSymbols`' answer: at most 20 instruments. */
export interface SymbolSearch {
  account_id: string;
  provider: Provider;
  symbols: TradableSymbol[];
}

/**
 * An order to preview, in the API's field names. Exactly one of `symbol_id`/`symbol` and one of
 * `units`/`notional` (notional only with Market + Day). Decimals as strings (numbers are taken too).
 */
export interface OrderInput {
  /** The `account_id` of a portfolio account. */
  account_id: string;
  symbol_id?: string;
  /** A ticker, resolved by the account's own search (422 `symbol_not_found` when it has none). */
  symbol?: string;
  action: OrderAction;
  order_type: OrderType;
  time_in_force: TimeInForce;
  units?: Decimal | number;
  notional?: Decimal | number;
  limit_price?: Decimal | number;
  stop_price?: Decimal | number;
}

/** The order a preview or a placement names, as the worker read it. */
export interface PreviewedOrder {
  symbol_id: string;
  symbol: string;
  action: OrderAction;
  order_type: OrderType;
  time_in_force: TimeInForce;
  units: Decimal | null;
  notional: Decimal | null;
  limit_price: Decimal | null;
  stop_price: Decimal | null;
}

/** What the order would cost and leave; each figure `null` exactly when its source is `unavailable` (never 0). */
export interface OrderEstimate {
  price: Decimal | null;
  commission: Decimal | null;
  fees: Decimal | null;
  remaining_cash: Decimal | null;
  currency: Currency | null;
  source: { price: FigureSource; commission: FigureSource; fees: FigureSource; remaining_cash: FigureSource };
}

/** `previewOrder`'s answer: place `preview_id` before `expires_at`. */
export interface OrderPreview {
  preview_id: string;
  account_id: string;
  provider: Provider;
  /** The institution's name (`"Robinhood"`). */
  brokerage: string;
  /** Unix seconds; 5 minutes after the preview. */
  expires_at: number;
  order: PreviewedOrder;
  estimate: OrderEstimate;
  /** E.g. that the broker gave no preview, so the figures are estimates. */
  warnings: string[];
}

/** `placeOrder` options. */
export interface PlaceOrderOptions {
  /** A UUID to send as `Idempotency-Key` instead of the one the client makes and keeps for this order. */
  idempotencyKey?: string;
}

/** An order placed through Tributary. */
export interface Order extends PreviewedOrder {
  id: string;
  account_id: string;
  provider: Provider;
  brokerage_order_id: string | null;
  client_order_id: string;
  state: OrderState;
  /** The provider's own status, when it gave one. */
  status: string | null;
  filled_units: Decimal | null;
  execution_price: Decimal | null;
  /** Unix seconds. */
  placed_at: number | null;
  sent_at: number;
  updated_at: number;
  /** The broker's or Tributary's words about it (a rejection's reason, a cancel left pending). */
  message: string | null;
  error: { code: string; message: string | null } | null;
}

/** `placeOrder`'s answer. */
export interface PlacedOrder {
  order: Order;
  /** The key was seen before: this is its first outcome again (nothing was sent). */
  replayed: boolean;
  /** The `Idempotency-Key` sent (kept by the client until the outcome is definitive). */
  idempotency_key: string;
}

/** `orders` filters. */
export interface OrderFilters {
  accountId?: string;
  /** `open` includes `sending` and `unknown` (default `all`). */
  state?: "open" | "executed" | "all";
}

/** `orders`' answer, newest first. */
export interface OrderList {
  orders: Order[];
  /** What could not be refreshed from the broker. */
  warnings: string[];
}

/** One entry of an order's audit trail. */
export interface OrderEvent {
  /** Unix seconds. */
  at: number;
  kind: string;
  /** The order's state after this event. */
  state: string | null;
  detail: unknown;
  request_id: string | null;
}

/** `order`'s answer: the order and its audit trail. */
export interface OrderDetail {
  order: Order;
  events: OrderEvent[];
  warnings: string[];
}

/** `cancelOrder`'s answer: `order.state` is `cancelled`, or unchanged with the broker's `message`. */
export interface CancelledOrder {
  order: Order;
}
"#;
