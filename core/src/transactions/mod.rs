//! Transactions: every provider's activity as one normalised ledger row, with one sign convention,
//! one id that a re-read or a relink never changes, and the rules the ledger is kept by (which
//! provider's copy of an institution counts, what a complete read of a window removes, how a
//! sync window is chosen). Pure: dates and rows come in as arguments.
//!
//! **Sign convention** (stated once, here and in `openapi.yaml`): `amount` is the transaction's
//! effect on the account's cash — **positive = money into the account** (a sale, a dividend, a
//! deposit), negative = money out (a purchase, a fee, a withdrawal). `quantity` is the effect on
//! the position — positive = units into the account (a buy, a transfer in, a split's new shares),
//! negative = units out. `fees` are what the transaction cost, as a positive number. SnapTrade
//! writes cash the same way; Plaid the opposite way (its amounts are negated on the way in).

pub mod query;
pub mod reconcile;
#[cfg(feature = "server")]
pub mod render;
pub mod sync;
pub mod totals;

use crate::dedup::{DataType, DedupRouting, SkipDecision};
use crate::domain::{Currency, InstitutionSlug, Provider};
use crate::time::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a transaction did, in one small vocabulary for every provider (the provider's own type
/// is kept beside it in [`Transaction::provider_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Buy,
    Sell,
    Dividend,
    Interest,
    Fee,
    Tax,
    Deposit,
    Withdrawal,
    TransferIn,
    TransferOut,
    Split,
    Other,
}

impl TransactionType {
    /// Every type, in the order the API documents them.
    pub const ALL: [TransactionType; 12] = [
        Self::Buy,
        Self::Sell,
        Self::Dividend,
        Self::Interest,
        Self::Fee,
        Self::Tax,
        Self::Deposit,
        Self::Withdrawal,
        Self::TransferIn,
        Self::TransferOut,
        Self::Split,
        Self::Other,
    ];

    /// The wire name (`transfer_in`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
            Self::Dividend => "dividend",
            Self::Interest => "interest",
            Self::Fee => "fee",
            Self::Tax => "tax",
            Self::Deposit => "deposit",
            Self::Withdrawal => "withdrawal",
            Self::TransferIn => "transfer_in",
            Self::TransferOut => "transfer_out",
            Self::Split => "split",
            Self::Other => "other",
        }
    }

    /// The type a wire name names, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Whether a row of this type only moves cash (its quantity, if a provider sends one, is not a
    /// change of any position).
    pub fn is_cash_only(&self) -> bool {
        matches!(self, Self::Dividend | Self::Interest | Self::Fee | Self::Tax | Self::Deposit | Self::Withdrawal)
    }
}

/// The security a transaction concerns, with the same identity positions use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionSecurity {
    /// The key positions of the same security carry (`AAPL`, `cusip:…`, `plaid:<id>`).
    pub security_key: String,
    pub ticker: Option<String>,
    pub name: Option<String>,
}

/// One transaction, normalised (see the module's sign convention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Stable: derived from the provider and its own transaction id ([`transaction_id`]).
    pub id: String,
    pub provider: Provider,
    /// The provider's own id of the transaction.
    pub provider_transaction_id: String,
    pub account_id: String,
    pub institution: Option<InstitutionSlug>,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    /// The provider's own type, as it sent it (`BUY`, `cash/dividend`).
    pub provider_type: String,
    pub trade_date: Date,
    pub settlement_date: Option<Date>,
    pub security: Option<TransactionSecurity>,
    /// Units into (+) or out of (−) the position; `None` for a row that moves only cash.
    pub quantity: Option<Decimal>,
    /// Price per unit, when the provider sent one.
    pub price: Option<Decimal>,
    /// Cash into (+) or out of (−) the account, in `currency`; `None` when the provider sent none.
    pub amount: Option<Decimal>,
    /// What the transaction cost (≥ 0), when known.
    pub fees: Option<Decimal>,
    /// The currency of `price`, `amount` and `fees`; `None` when the provider named none.
    pub currency: Option<Currency>,
    pub description: Option<String>,
}

/// The id a transaction has for life: `tx_` and 32 hex digits of SHA-256 over the provider and
/// its own transaction id — the same row read again, or read after a relink, gets the same id.
#[cfg(feature = "server")]
pub fn transaction_id(provider: Provider, provider_transaction_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(provider.as_str().as_bytes())
        .chain_update([0u8])
        .chain_update(provider_transaction_id.as_bytes())
        .finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("tx_{hex}")
}

/// Whether each provider's copy of each institution's transactions counts: the transactions
/// routing map (separate from positions') with the same fail-open rule holdings follow — a copy
/// is skipped only when a provider ahead of it in the institution's chain is in `available`.
pub fn transaction_routing(
    pairs: &[(Provider, InstitutionSlug)],
    available: &[Provider],
) -> Vec<((Provider, InstitutionSlug), SkipDecision)> {
    let routing = DedupRouting::embedded();
    pairs
        .iter()
        .map(|(provider, slug)| {
            let decision = routing.should_skip_for_provider(slug, *provider, DataType::Transactions, available);
            ((*provider, slug.clone()), decision)
        })
        .collect()
}

/// What a complete read of one account's window `[from, to]` removes from what was stored for it:
/// every stored id dated in the window that the read no longer has (a cancelled transaction, or
/// one the provider re-issued under a new id). Rows outside the window are never touched.
pub fn removed_by_read<'a>(stored: &'a [(String, Date)], read: &[Transaction], from: Date, to: Date) -> Vec<&'a str> {
    let kept: std::collections::BTreeSet<&str> = read.iter().map(|t| t.id.as_str()).collect();
    stored
        .iter()
        .filter(|(id, date)| *date >= from && *date <= to && !kept.contains(id.as_str()))
        .map(|(id, _)| id.as_str())
        .collect()
}

#[cfg(test)]
mod tests;
