//! `tributary-sim --port <port>`: runs the provider simulator on 127.0.0.1 until Ctrl-C. It accepts
//! the app credentials in `SNAPTRADE_CLIENT_ID` + `SNAPTRADE_CONSUMER_KEY`, `PLAID_CLIENT_ID` +
//! `PLAID_SECRET`, and `SCHWAB_CLIENT_ID` + `SCHWAB_CLIENT_SECRET` + `SCHWAB_REDIRECT_URL` (a
//! comma-separated list of registered callback URLs, matched exactly); a provider whose settings
//! are missing rejects every call. IBKR's Flex Web Service has no app credentials: its users and
//! tokens are made through `POST /__sim/ibkr/users` (see `tributary_sim::ibkr::control`).

use std::process::ExitCode;
use tributary_sim::{PlaidCredentials, SchwabCredentials, SimConfig, SnapTradeCredentials};

/// A non-empty environment variable.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn config_from_env() -> SimConfig {
    let snaptrade = var("SNAPTRADE_CLIENT_ID")
        .zip(var("SNAPTRADE_CONSUMER_KEY"))
        .map(|(client_id, consumer_key)| SnapTradeCredentials { client_id, consumer_key });
    let plaid = var("PLAID_CLIENT_ID")
        .zip(var("PLAID_SECRET"))
        .map(|(client_id, secret)| PlaidCredentials { client_id, secret });
    let schwab = var("SCHWAB_CLIENT_ID").zip(var("SCHWAB_CLIENT_SECRET")).zip(var("SCHWAB_REDIRECT_URL")).and_then(
        |((client_id, client_secret), urls)| {
            let redirect_uris = redirect_uris(&urls);
            (!redirect_uris.is_empty()).then_some(SchwabCredentials { client_id, client_secret, redirect_uris })
        },
    );
    SimConfig { snaptrade, plaid, schwab }
}

/// The registered callback URLs of a comma-separated list (each trimmed; empty entries dropped).
fn redirect_uris(list: &str) -> Vec<String> {
    list.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect()
}

fn parse_port(args: &[String]) -> Result<u16, String> {
    let mut port = 8790;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--port" => {
                let value = iter.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("--port: {value:?} is not a port number"))?;
            }
            "--help" | "-h" => {
                return Err("usage: tributary-sim [--port <port>]   (default 8790, 0 = any free port)".into())
            }
            other => return Err(format!("unknown argument {other:?}; usage: tributary-sim [--port <port>]")),
        }
    }
    Ok(port)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match parse_port(&args) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let config = config_from_env();
    if config.snaptrade.is_none() {
        eprintln!(
            "tributary-sim: SNAPTRADE_CLIENT_ID/SNAPTRADE_CONSUMER_KEY not set: every SnapTrade call will be refused"
        );
    }
    if config.plaid.is_none() {
        eprintln!("tributary-sim: PLAID_CLIENT_ID/PLAID_SECRET not set: every Plaid call will be refused");
    }
    if config.schwab.is_none() {
        eprintln!(
            "tributary-sim: SCHWAB_CLIENT_ID/SCHWAB_CLIENT_SECRET/SCHWAB_REDIRECT_URL not set: every Schwab call \
             will be refused"
        );
    }
    let sim = match tributary_sim::Simulator::start(port, config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("tributary-sim: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    println!("tributary-sim listening on {}", sim.base_url());
    let _ = tokio::signal::ctrl_c().await;
    println!("tributary-sim stopping");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_lists_split_on_commas_and_keep_each_url_exact() {
        let urls = redirect_uris(" https://127.0.0.1:8182 ,https://127.0.0.1:8182/,, http://127.0.0.1:9000/cb");
        assert_eq!(urls, ["https://127.0.0.1:8182", "https://127.0.0.1:8182/", "http://127.0.0.1:9000/cb"]);
        assert!(redirect_uris(" , ").is_empty());
    }
}
