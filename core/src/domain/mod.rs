//! Domain newtypes: a value of one of these types has been validated, so code that holds one
//! never checks it again. Money and quantities are decimals, never floating point.

mod ids;
mod money;
mod portfolio;

pub use ids::{InstitutionSlug, Provider, Ticker, UserId};
pub use money::{Currency, Money, Quantity};
pub use portfolio::{Account, CashBalance, Holdings, Lot, Position, PositionDetail, SecurityKind};
