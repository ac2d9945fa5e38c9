//! What every provider's data becomes: accounts, positions and cash balances in one shape,
//! each carrying its provider, institution and account so nothing loses its origin.

use super::{Currency, InstitutionSlug, Provider, Quantity, Ticker};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What kind of instrument a position holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityKind {
    Equity,
    Etf,
    MutualFund,
    Option,
    Crypto,
    FixedIncome,
    Derivative,
    Loan,
    Cash,
    Other,
}

impl SecurityKind {
    /// The storage/wire name (`mutual_fund`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equity => "equity",
            Self::Etf => "etf",
            Self::MutualFund => "mutual_fund",
            Self::Option => "option",
            Self::Crypto => "crypto",
            Self::FixedIncome => "fixed_income",
            Self::Derivative => "derivative",
            Self::Loan => "loan",
            Self::Cash => "cash",
            Self::Other => "other",
        }
    }

    /// Parses a storage name; unknown names are `Other`, never an error.
    pub fn from_name(name: &str) -> Self {
        [
            Self::Equity,
            Self::Etf,
            Self::MutualFund,
            Self::Option,
            Self::Crypto,
            Self::FixedIncome,
            Self::Derivative,
            Self::Loan,
            Self::Cash,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
        .unwrap_or(Self::Other)
    }
}

/// An account at an institution, as one provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub provider: Provider,
    /// The provider's id of the account.
    pub account_id: String,
    /// The provider's id of the connection it came through (SnapTrade authorization, Plaid Item).
    pub connection_id: Option<String>,
    pub institution: Option<InstitutionSlug>,
    pub institution_name: Option<String>,
    pub name: Option<String>,
    pub number_mask: Option<String>,
    pub account_type: Option<String>,
    pub currency: Option<Currency>,
}

/// A holding of one security in one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub provider: Provider,
    pub account_id: String,
    pub institution: Option<InstitutionSlug>,
    /// Stable identity of the security across providers: the ticker when known, otherwise a
    /// provider-scoped identifier (e.g. `cusip:…`, `plaid:<security_id>`).
    pub security_key: String,
    pub ticker: Option<Ticker>,
    pub name: Option<String>,
    pub kind: SecurityKind,
    pub quantity: Quantity,
    /// Price per unit, when the provider knows it.
    pub price: Option<Decimal>,
    /// Market value of the whole position, when known (or derivable from price × quantity).
    pub market_value: Option<Decimal>,
    /// Total cost basis of the whole position, when known.
    pub cost_basis: Option<Decimal>,
    pub currency: Currency,
    /// Unix seconds of the data's freshness (the fetch time).
    pub as_of: i64,
    /// Identifiers, contract terms and lots the provider sent beside the position, kept as they
    /// came (IBKR Flex sends all of them; the aggregators none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<PositionDetail>>,
}

/// What a provider says about a position beyond its quantity and value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionDetail {
    /// IBKR's contract id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cusip: Option<String>,
    /// Units of the underlying per contract (100 for a US equity option); market value and cost
    /// basis already include it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<Decimal>,
    /// The provider's rate from the position's currency to the account's base currency, as of the
    /// statement (kept, never applied to the position's own figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fx_rate_to_base: Option<Decimal>,
    /// The tax lots that make up the position; their quantities sum to the position's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<Lot>,
}

/// One tax lot of a position, in the position's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub quantity: Quantity,
    /// Total cost of the lot, signed like its quantity; null when unknown.
    pub cost_basis: Option<Decimal>,
    /// When the lot was opened, as an ISO date or date-time (`2026-01-15T10:31:07`), when known.
    pub opened_at: Option<String>,
}

/// Cash held in one account in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashBalance {
    pub provider: Provider,
    pub account_id: String,
    pub institution: Option<InstitutionSlug>,
    pub currency: Currency,
    pub amount: Decimal,
    pub buying_power: Option<Decimal>,
    pub as_of: i64,
}

/// One provider's complete view of a user's holdings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holdings {
    pub accounts: Vec<Account>,
    pub positions: Vec<Position>,
    pub balances: Vec<CashBalance>,
}

impl Holdings {
    /// Only the accounts that came through one of `connections`, with their positions and cash.
    pub fn of_connections(self, connections: &[&str]) -> Holdings {
        let kept: Vec<String> = self
            .accounts
            .iter()
            .filter(|a| a.connection_id.as_deref().is_some_and(|c| connections.contains(&c)))
            .map(|a| a.account_id.clone())
            .collect();
        self.only_accounts(&kept)
    }

    /// Adds `other`'s accounts that are not here yet, with their positions and cash: an account
    /// two sources both report is counted once, from the first.
    pub fn add_new_accounts(&mut self, other: Holdings) {
        let new: Vec<String> = other
            .accounts
            .iter()
            .map(|a| a.account_id.clone())
            .filter(|id| !self.accounts.iter().any(|a| &a.account_id == id))
            .collect();
        let other = other.only_accounts(&new);
        self.accounts.extend(other.accounts);
        self.positions.extend(other.positions);
        self.balances.extend(other.balances);
    }

    fn only_accounts(self, ids: &[String]) -> Holdings {
        Holdings {
            accounts: self.accounts.into_iter().filter(|a| ids.contains(&a.account_id)).collect(),
            positions: self.positions.into_iter().filter(|p| ids.contains(&p.account_id)).collect(),
            balances: self.balances.into_iter().filter(|b| ids.contains(&b.account_id)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{account, cash, position};

    fn holdings(ids: &[&str]) -> Holdings {
        let p = Provider::IbkrFlex;
        Holdings {
            accounts: ids.iter().map(|id| account(p, id, None)).collect(),
            positions: ids.iter().map(|id| position(p, id, None, "SYNT", "1")).collect(),
            balances: ids.iter().map(|id| cash(p, id, None, "USD", "10")).collect(),
        }
    }

    #[test]
    fn an_account_two_sources_report_is_counted_once_with_all_its_rows() {
        let mut all = holdings(&["U1", "U2"]);
        all.add_new_accounts(holdings(&["U2", "U3"]));
        let ids: Vec<&str> = all.accounts.iter().map(|a| a.account_id.as_str()).collect();
        assert_eq!(ids, ["U1", "U2", "U3"]);
        assert_eq!((all.positions.len(), all.balances.len()), (3, 3), "U2's rows once");
    }

    #[test]
    fn holdings_of_connections_keep_their_accounts_rows_only() {
        let kept = holdings(&["U1", "U2", "U3"]).of_connections(&["conn-U2"]);
        assert_eq!(kept, holdings(&["U2"]));
        assert_eq!(holdings(&["U1"]).of_connections(&[]), Holdings::default());
    }
}
