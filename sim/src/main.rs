//! `tributary-sim --port <port>`: runs the provider simulator on 127.0.0.1 until Ctrl-C.

use std::process::ExitCode;

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
    let sim = match tributary_sim::Simulator::start(port).await {
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
