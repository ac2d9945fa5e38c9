//! The account data every simulated Schwab customer starts with, as `Account` JSON exactly as
//! `GET /trader/v1/accounts?fields=positions` serves it: a MARGIN account (a long equity, a short
//! call, an ETF and a money-market fund) and a CASH account (one mutual fund). Numbers are JSON
//! floats (`10.0`), `isInCall` a boolean, as the live API sends them. Account hashes derive from
//! (customer, account number), so two customers never share one.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The seeded MARGIN account's number.
pub const MARGIN_ACCOUNT_NUMBER: &str = "12345678";
/// The seeded CASH account's number.
pub const CASH_ACCOUNT_NUMBER: &str = "87654321";

/// The `hashValue` of `account_number` for `customer`: uppercase hex SHA-256 of `customer:number`.
pub fn account_hash(customer: &str, account_number: &str) -> String {
    Sha256::digest(format!("{customer}:{account_number}").as_bytes()).iter().map(|b| format!("{b:02X}")).collect()
}

/// The account number of an `Account` object (`securitiesAccount.accountNumber`), if it is a string.
pub fn account_number(account: &Value) -> Option<&str> {
    account.get("securitiesAccount")?.get("accountNumber")?.as_str()
}

/// The seeded accounts: MARGIN `12345678`, then CASH `87654321`.
pub fn default_accounts() -> Vec<Value> {
    serde_json::from_str(SEED_JSON).expect("the Schwab seed is valid JSON")
}

/// The seed, as JSON text (numbers exactly as Schwab writes them).
const SEED_JSON: &str = r#"[
    {
        "securitiesAccount": {
            "type": "MARGIN",
            "accountNumber": "12345678",
            "roundTrips": 0,
            "isDayTrader": false,
            "isClosingOnlyRestricted": false,
            "pfcbFlag": false,
            "positions": [
                {
                    "shortQuantity": 0.0, "averagePrice": 150.25, "currentDayProfitLoss": 12.5,
                    "currentDayProfitLossPercentage": 0.81, "longQuantity": 10.0, "settledLongQuantity": 10.0,
                    "settledShortQuantity": 0.0,
                    "instrument": {"assetType": "EQUITY", "cusip": "000000AA1", "symbol": "SYNT", "netChange": 1.1},
                    "marketValue": 1550.0, "maintenanceRequirement": 465.0, "averageLongPrice": 150.25,
                    "taxLotAverageLongPrice": 150.25, "longOpenProfitLoss": 47.5, "previousSessionLongQuantity": 10.0,
                    "currentDayCost": 0.0
                },
                {
                    "shortQuantity": 1.0, "averagePrice": 0.9434, "currentDayProfitLoss": 6.03,
                    "currentDayProfitLossPercentage": 63.27, "longQuantity": 0.0, "settledLongQuantity": 0.0,
                    "settledShortQuantity": -1.0,
                    "instrument": {
                        "assetType": "OPTION", "cusip": "0SYNT.F560121000", "symbol": "SYNT  260605C00121000",
                        "description": "SYNTH CORP 06/05/2026 $121 Call", "netChange": -0.0553, "type": "VANILLA",
                        "putCall": "CALL", "underlyingSymbol": "SYNT", "optionMultiplier": 100,
                        "optionDeliverables": [
                            {"symbol": "SYNT", "deliverableUnits": 100.0, "apiCurrencyType": "USD", "assetType": "EQUITY"}
                        ]
                    },
                    "marketValue": -3.5, "maintenanceRequirement": 0.0, "averageShortPrice": 0.95,
                    "taxLotAverageShortPrice": 0.9434, "shortOpenProfitLoss": 90.84,
                    "previousSessionShortQuantity": 1.0, "currentDayCost": 0.0
                },
                {
                    "shortQuantity": 0.0, "averagePrice": 72.1, "longQuantity": 25.0, "settledLongQuantity": 25.0,
                    "settledShortQuantity": 0.0,
                    "instrument": {
                        "assetType": "COLLECTIVE_INVESTMENT", "cusip": "000000BB2", "symbol": "SETF",
                        "description": "SYNTH TOTAL MARKET ETF", "type": "EXCHANGE_TRADED_FUND"
                    },
                    "marketValue": 1802.5, "maintenanceRequirement": 540.75, "averageLongPrice": 72.1,
                    "taxLotAverageLongPrice": 72.1, "longOpenProfitLoss": 0.0, "previousSessionLongQuantity": 25.0,
                    "currentDayCost": 0.0
                },
                {
                    "shortQuantity": 0.0, "averagePrice": 1.0, "longQuantity": 2500.0, "settledLongQuantity": 2500.0,
                    "settledShortQuantity": 0.0,
                    "instrument": {
                        "assetType": "CASH_EQUIVALENT", "cusip": "000000CC3", "symbol": "SWVXX",
                        "description": "SYNTH PRIME MONEY MARKET FUND", "type": "MONEY_MARKET_FUND"
                    },
                    "marketValue": 2500.0, "maintenanceRequirement": 0.0, "averageLongPrice": 1.0,
                    "taxLotAverageLongPrice": 1.0, "longOpenProfitLoss": 0.0, "previousSessionLongQuantity": 2500.0,
                    "currentDayCost": 0.0
                }
            ],
            "initialBalances": {
                "accruedInterest": 0.0, "availableFundsNonMarginableTrade": 2500.25, "bondValue": 0.0,
                "buyingPower": 5000.5, "cashBalance": 1000.5, "cashAvailableForTrading": 0.0, "cashReceipts": 0.0,
                "dayTradingBuyingPower": 0.0, "dayTradingBuyingPowerCall": 0.0, "dayTradingEquityCall": 0.0,
                "equity": 6849.5, "equityPercentage": 100.0, "liquidationValue": 6849.5, "longMarginValue": 3352.5,
                "longOptionMarketValue": 0.0, "longStockValue": 3352.5, "maintenanceCall": 0.0,
                "maintenanceRequirement": 1005.75, "margin": 1000.5, "marginEquity": 6849.5,
                "moneyMarketFund": 2500.0, "mutualFundValue": 0.0, "regTCall": 0.0, "shortMarginValue": 0.0,
                "shortOptionMarketValue": -3.5, "shortStockValue": 0.0, "totalCash": 0.0, "isInCall": false,
                "unsettledCash": 0.0, "pendingDeposits": 0.0, "marginBalance": 0.0, "shortBalance": 0.0,
                "accountValue": 6849.5
            },
            "currentBalances": {
                "accruedInterest": 0.0, "cashBalance": 1000.5, "cashReceipts": 0.0, "longOptionMarketValue": 0.0,
                "liquidationValue": 6849.5, "longMarketValue": 3352.5, "moneyMarketFund": 2500.0, "savings": 0.0,
                "shortMarketValue": 0.0, "pendingDeposits": 0.0, "mutualFundValue": 0.0, "bondValue": 0.0,
                "shortOptionMarketValue": -3.5, "availableFunds": 2500.25, "availableFundsNonMarginableTrade": 2500.25,
                "buyingPower": 5000.5, "buyingPowerNonMarginableTrade": 2500.25, "dayTradingBuyingPower": 0.0,
                "equity": 6849.5, "equityPercentage": 100.0, "longMarginValue": 3352.5, "maintenanceCall": 0.0,
                "maintenanceRequirement": 1005.75, "marginBalance": 0.0, "regTCall": 0.0, "shortBalance": 0.0,
                "shortMarginValue": 0.0, "sma": 2500.25, "isInCall": false, "stockBuyingPower": 5000.5,
                "optionBuyingPower": 2500.25
            },
            "projectedBalances": {
                "availableFunds": 2500.25, "availableFundsNonMarginableTrade": 2500.25, "buyingPower": 5000.5,
                "dayTradingBuyingPower": 0.0, "dayTradingBuyingPowerCall": 0.0, "maintenanceCall": 0.0,
                "regTCall": 0.0, "isInCall": false, "stockBuyingPower": 5000.5, "optionBuyingPower": 2500.25
            }
        },
        "aggregatedBalance": {"currentLiquidationValue": 6849.5, "liquidationValue": 6849.5}
    },
    {
        "securitiesAccount": {
            "type": "CASH",
            "accountNumber": "87654321",
            "roundTrips": 0,
            "isDayTrader": false,
            "isClosingOnlyRestricted": false,
            "pfcbFlag": false,
            "positions": [
                {
                    "shortQuantity": 0.0, "averagePrice": 15.5, "currentDayProfitLoss": 2.4,
                    "currentDayProfitLossPercentage": 0.39, "longQuantity": 40.0, "settledLongQuantity": 40.0,
                    "settledShortQuantity": 0.0,
                    "instrument": {
                        "assetType": "MUTUAL_FUND", "cusip": "000000DD4", "symbol": "SWTSX",
                        "description": "SYNTH TOTAL STOCK MARKET INDEX FUND"
                    },
                    "marketValue": 620.0, "maintenanceRequirement": 0.0, "averageLongPrice": 15.5,
                    "taxLotAverageLongPrice": 15.5, "longOpenProfitLoss": 0.0, "previousSessionLongQuantity": 40.0,
                    "currentDayCost": 0.0
                }
            ],
            "initialBalances": {
                "accruedInterest": 0.0, "cashAvailableForTrading": 1500.25, "cashAvailableForWithdrawal": 1500.25,
                "cashBalance": 1500.25, "bondValue": 0.0, "cashReceipts": 0.0, "liquidationValue": 2120.25,
                "longOptionMarketValue": 0.0, "longStockValue": 0.0, "moneyMarketFund": 0.0, "mutualFundValue": 620.0,
                "shortOptionMarketValue": 0.0, "shortStockValue": 0.0, "isInCall": false, "unsettledCash": 0.0,
                "cashDebitCallValue": 0.0, "pendingDeposits": 0.0, "accountValue": 2120.25
            },
            "currentBalances": {
                "accruedInterest": 0.0, "cashBalance": 1500.25, "cashReceipts": 0.0, "longOptionMarketValue": 0.0,
                "liquidationValue": 2120.25, "longMarketValue": 0.0, "moneyMarketFund": 0.0, "savings": 0.0,
                "shortMarketValue": 0.0, "pendingDeposits": 0.0, "mutualFundValue": 620.0, "bondValue": 0.0,
                "shortOptionMarketValue": 0.0, "cashAvailableForTrading": 1500.25,
                "cashAvailableForWithdrawal": 1500.25, "cashCall": 0.0, "longNonMarginableMarketValue": 620.0,
                "totalCash": 1500.25, "cashDebitCallValue": 0.0, "unsettledCash": 0.0
            },
            "projectedBalances": {"cashAvailableForTrading": 1500.25, "cashAvailableForWithdrawal": 1500.25}
        },
        "aggregatedBalance": {"currentLiquidationValue": 2120.25, "liquidationValue": 2120.25}
    }
]"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_has_a_margin_and_a_cash_account_with_float_numbers() {
        let accounts = default_accounts();
        let numbers: Vec<&str> = accounts.iter().filter_map(account_number).collect();
        assert_eq!(numbers, [MARGIN_ACCOUNT_NUMBER, CASH_ACCOUNT_NUMBER]);
        let text = serde_json::to_string(&accounts).unwrap();
        for needle in [
            r#""longQuantity":10.0"#,
            r#""marketValue":1550.0"#,
            r#""settledShortQuantity":-1.0"#,
            r#""symbol":"SYNT  260605C00121000""#,
            r#""optionMultiplier":100"#,
            r#""isInCall":false"#,
            r#""moneyMarketFund":0.0"#,
        ] {
            assert!(text.contains(needle), "{needle} missing");
        }
        let margin = &accounts[0]["securitiesAccount"];
        assert_eq!((margin["type"].as_str(), margin["positions"].as_array().map(Vec::len)), (Some("MARGIN"), Some(4)));
        assert_eq!(margin["currentBalances"]["buyingPower"], 5000.5);
        let cash = &accounts[1]["securitiesAccount"];
        assert_eq!(cash["currentBalances"]["cashAvailableForTrading"], 1500.25);
        assert_eq!(cash["positions"][0]["instrument"]["assetType"], "MUTUAL_FUND");
    }

    #[test]
    fn hashes_are_64_uppercase_hex_and_differ_per_customer() {
        let hash = account_hash("ann", MARGIN_ACCOUNT_NUMBER);
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{hash}");
        assert_eq!(hash, account_hash("ann", MARGIN_ACCOUNT_NUMBER));
        assert_ne!(hash, account_hash("bob", MARGIN_ACCOUNT_NUMBER));
        assert_ne!(hash, account_hash("ann", CASH_ACCOUNT_NUMBER));
    }
}
