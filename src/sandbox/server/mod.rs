//! `orgform sandbox serve`: the sandbox store behind Encord's public HTTP API (the subset
//! in encord-api.md §5 that orgform uses), so Encord's own SDK and orgform's `encord`
//! provider can be run against a local org.
//!
//! Layers, outermost first: a log line per request on stderr (method, path, status,
//! milliseconds; never a key or token), the rate limit, the latency, the injected
//! faults, authentication (signatures and bearer tokens, acting as the key's user), then
//! the routes. The store's platform rules decide every write.
//!
//! Assumptions where the real service cannot be observed from here (recorded so clients
//! do not depend on them): timestamps are one fixed instant (the sandbox keeps none);
//! a folder's owner and a project's creator are the org's first admin; a project's
//! editor ontology is a synthetic empty one whose hash derives from the project's.

pub mod auth;
pub mod error;
pub mod faults;
mod org;
pub mod pages;
mod permissions;
mod resources;
pub mod routes;
pub use crate::encord::signature;
mod storage;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::sandbox::store::Store;
use error::ApiError;
use faults::{Fault, Faults, RateLimit};

/// The one instant the sandbox gives as every `createdAt` / `lastEditedAt`.
pub const SANDBOX_TIME: &str = "2026-01-01T00:00:00+00:00";

/// How the server behaves, from `sandbox serve`'s flags.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Requests per second before 429s.
    pub rate_limit: Option<f64>,
    /// Added to every response.
    pub latency: Duration,
    /// Share of requests (0..=1) that get a fault, and the seed that picks them.
    pub faults: Option<(f64, u64)>,
    /// The largest page a list returns (`pageSize` is capped by it).
    pub page_size_max: Option<usize>,
}

/// Everything a request handler may use.
pub struct App {
    store: Mutex<Store>,
    pub settings: Settings,
    /// Bearer token → the keyid it was issued to (lives as long as the server).
    tokens: Mutex<HashMap<String, String>>,
    faults: Option<Faults>,
    limit: Option<RateLimit>,
}

pub type Shared = Arc<App>;

impl App {
    pub fn new(store: Store, settings: Settings) -> Shared {
        Arc::new(App {
            store: Mutex::new(store),
            faults: settings.faults.map(|(rate, seed)| Faults::new(rate, seed)),
            limit: settings.rate_limit.map(RateLimit::new),
            settings,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The store, held for one request's reads and writes (never across an await).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tokens(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Lets a request close its own connection without an answer (an injected fault).
#[derive(Clone)]
struct Hangup(Arc<Notify>);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets
/// requests in flight finish (up to 5 s) and returns.
pub async fn serve(listener: TcpListener, app: Shared, shutdown: impl Future<Output = ()>) {
    let router = routes::router(app);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let hangup = Hangup(Arc::new(Notify::new()));
        let router = router.clone();
        let tag = hangup.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(tag.clone());
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                () = hangup.0.notified() => {}
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

/// Whether `addr` is on this machine: the server never listens beyond it.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// One line per request on stderr: method, path (no query, no headers: keys and tokens
/// travel in headers and never reach the log), status, milliseconds.
pub async fn log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let fault = response
        .extensions()
        .get::<Fault>()
        .map(|f| format!(" ({})", f.name()))
        .unwrap_or_default();
    eprintln!(
        "{method} {path} {} {}ms{fault}",
        response.status().as_u16(),
        start.elapsed().as_millis()
    );
    response
}

/// 429 with `Retry-After` beyond the rate limit.
pub async fn rate_limit(State(app): State<Shared>, req: Request, next: Next) -> Response {
    if let Some(limit) = &app.limit
        && let Err(after) = limit.take()
    {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit exceeded: retry after {after} s"),
        )
        .into_response();
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(after));
        return response;
    }
    next.run(req).await
}

/// The configured latency, then an injected fault if one is drawn for this request.
pub async fn latency_and_faults(State(app): State<Shared>, req: Request, next: Next) -> Response {
    if !app.settings.latency.is_zero() {
        tokio::time::sleep(app.settings.latency).await;
    }
    let write = req.method() != Method::GET;
    let Some(fault) = app.faults.as_ref().and_then(|f| f.draw(write)) else {
        return next.run(req).await;
    };
    let hangup = req.extensions().get::<Hangup>().cloned();
    let mut response = match fault {
        Fault::Status(status) => ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            format!("injected fault: {status}"),
        )
        .into_response(),
        Fault::Slow => {
            tokio::time::sleep(faults::SLOW).await;
            next.run(req).await
        }
        Fault::Drop | Fault::LostWrite => {
            let (method, path) = (req.method().clone(), req.uri().path().to_string());
            let start = Instant::now();
            let performed = if fault == Fault::LostWrite {
                let done = next.run(req).await;
                format!(", performed with {}", done.status().as_u16())
            } else {
                String::new()
            };
            if let Some(hangup) = hangup {
                // The log layer never sees this request finish: say here what happened.
                eprintln!(
                    "{method} {path} dropped {}ms ({}{performed})",
                    start.elapsed().as_millis(),
                    fault.name()
                );
                hangup.0.notify_one();
                // The connection is closed under this future: nothing is answered.
                std::future::pending::<()>().await;
            }
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    response.extensions_mut().insert(fault);
    response
}
