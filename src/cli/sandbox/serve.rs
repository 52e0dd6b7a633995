//! `orgform sandbox serve`: the sandbox org over Encord's HTTP API.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};

use super::super::{Exit, Globals};
use crate::sandbox::server::{self, App, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on: loopback only (127.0.0.0/8 or [::1]); port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Requests per second before answering 429 with Retry-After (e.g. `20/s` or `20`).
    #[arg(long, value_name = "N/s")]
    rate_limit: Option<RateArg>,
    /// Milliseconds added to every response.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
    /// Share of requests (0 to 1) that get an injected fault: 500, 502, 503, a dropped
    /// connection, a slow answer, or a write performed whose answer is lost.
    #[arg(long, value_name = "RATE")]
    faults: Option<f64>,
    /// Seed of the faults: the same seed injects the same faults into the same
    /// sequence of requests.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "faults")]
    seed: u64,
    /// The largest page a list returns (pageSize is capped by it); without it, a list
    /// without pageSize returns everything at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    page_size_max: Option<u64>,
}

/// `N/s` or `N`: requests per second.
#[derive(Debug, Clone, Copy)]
struct RateArg(f64);

impl FromStr for RateArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.strip_suffix("/s").unwrap_or(s);
        match n.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => Ok(RateArg(v)),
            _ => Err(format!(
                "`{s}` is not a rate: give requests per second, e.g. `20/s`"
            )),
        }
    }
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    if !server::is_loopback(&args.listen) {
        bail!(
            "--listen {}: the sandbox server listens on loopback only (127.0.0.1, [::1]); it has no TLS and must not be reachable from other machines",
            args.listen
        );
    }
    if let Some(rate) = args.faults
        && !(0.0..=1.0).contains(&rate)
    {
        bail!("--faults {rate}: give the share of requests that fail, from 0 to 1");
    }
    let (store, shown) = super::open_store(globals)?;
    let settings = Settings {
        rate_limit: args.rate_limit.map(|r| r.0),
        latency: Duration::from_millis(args.latency),
        faults: args.faults.map(|rate| (rate, args.seed)),
        page_size_max: args.page_size_max.map(|n| n as usize),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // The first stdout line is the contract: scripts read the port from it.
        println!("listening on http://{addr}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        eprintln!("Serving the sandbox org {shown} (Ctrl-C to stop).");
        server::serve(listener, App::new(store, settings), stop_signal()).await;
        eprintln!("Stopped.");
        Ok(Exit::Ok)
    })
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
