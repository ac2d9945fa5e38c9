//! `tributary-sim --port <port>`: runs the provider simulator on 127.0.0.1 until Ctrl-C. It accepts
//! the app credentials in `SNAPTRADE_CLIENT_ID` + `SNAPTRADE_CONSUMER_KEY` and `PLAID_CLIENT_ID` +
//! `PLAID_SECRET`; a provider whose pair is missing rejects every call.

use std::process::ExitCode;
use tributary_sim::{PlaidCredentials, SimConfig, SnapTradeCredentials};

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
    SimConfig { snaptrade, plaid }
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
