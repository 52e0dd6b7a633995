//! The HTTP client: every request signed (encord-api.md §1.1), bounded in flight
//! (`--concurrency`), timed out, retried when transient (429, 500, 502, 503, timeouts,
//! dropped connections) with jittered exponential backoff honouring `Retry-After`,
//! pages followed to their end (§3), and every call counted (`--stats`).
//!
//! Reads are retried freely. A write whose outcome is unknown (no answer, or a 5xx
//! that may come after the change) is never simply sent again: the caller's read-back
//! first says whether it was done ([`Client::write`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::limit::Limit;
use super::progress::Progress;
use super::stats::{Counts, Stats};
use crate::diagnostic::Rule;
use crate::encord::signature::{sign_v1, sign_v2};
use crate::provider::{ErrorClass, ProviderError};
use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Tries per call, the first included (the SDK makes 4 too).
pub const ATTEMPTS: u32 = 5;
/// Further tries when the server said when to come back (`Retry-After`, as with 429):
/// being told to wait is not failing, so these do not use up [`ATTEMPTS`].
const TOLD_TO_WAIT: u32 = 10;
/// The first backoff; it doubles per retry, with jitter, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One API call. `endpoint` names it in `--stats` (`projects/{project}/users`);
/// `path` is what follows `/v2/public/`, query included, already percent-encoded.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub endpoint: &'static str,
    pub path: String,
    pub body: Option<Vec<u8>>,
    /// A legacy v1 RPC (`POST /public`) on this resource (`ResourceType`, `ResourceID`).
    pub v1: Option<(&'static str, String)>,
}

impl Request {
    pub fn get(endpoint: &'static str, path: String) -> Request {
        Request {
            method: Method::GET,
            endpoint,
            path,
            body: None,
            v1: None,
        }
    }

    /// A call with a JSON body, serialised as Encord's SDK does (`", "` and `": "`).
    pub fn json(method: Method, endpoint: &'static str, path: String, body: &Value) -> Request {
        Request {
            method,
            endpoint,
            path,
            body: Some(python_json(body).into_bytes()),
            v1: None,
        }
    }

    pub fn bare(method: Method, endpoint: &'static str, path: String) -> Request {
        Request {
            method,
            endpoint,
            path,
            body: None,
            v1: None,
        }
    }

    fn is_read(&self) -> bool {
        self.method == Method::GET
    }
}

/// A page of a listing (encord-api.md §3): `results` required, `nextPageToken` optional.
#[derive(Deserialize)]
struct Page<T> {
    results: Vec<T>,
    #[serde(rename = "nextPageToken", default)]
    next_page_token: Option<String>,
}

/// A failed call: its class and message, and whether the change may have been made.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: ProviderError,
    pub maybe_done: bool,
}

impl From<Failure> for ProviderError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

pub struct Client {
    http: reqwest::Client,
    /// `scheme://host[:port]`: v2 paths drop any path of the domain (encord-api.md §2).
    origin: String,
    /// The domain as configured, for the v1 RPC (`domain + "/public"`).
    domain: String,
    key: SigningKey,
    limit: Limit,
    /// No call is sent before this: the last `Retry-After` applies to every call, not
    /// only to the one that got it, or the others would keep the org rate-limited.
    paused_until: std::sync::Mutex<Option<tokio::time::Instant>>,
    stats: Stats,
    /// What a long read is doing, on a terminal.
    pub progress: Progress,
}

impl Client {
    pub fn new(
        domain: &str,
        key: SigningKey,
        concurrency: usize,
        timeout: Duration,
    ) -> Result<Client, ProviderError> {
        let domain = domain.trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&domain).map_err(|e| {
            ProviderError::new(
                ErrorClass::Other,
                format!(
                    "provider.domain `{domain}` is not a URL ({e}): write it like https://api.encord.com"
                ),
            )
        })?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(ProviderError::new(
                ErrorClass::Other,
                format!(
                    "provider.domain `{domain}` must be an https:// URL with a host, like https://api.encord.com"
                ),
            ));
        }
        let origin = url.origin().ascii_serialization();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("orgform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::new(ErrorClass::Other, format!("cannot start HTTP: {e}"))
            })?;
        Ok(Client {
            http,
            origin,
            domain,
            key,
            limit: Limit::new(concurrency),
            paused_until: std::sync::Mutex::new(None),
            stats: Stats::default(),
            progress: Progress::default(),
        })
    }

    /// The calls made so far, and how low 429s pushed the concurrency.
    pub fn counts(&self) -> Counts {
        let mut counts = self.stats.snapshot();
        counts.lowest_concurrency = Some(self.limit.levels().1);
        counts
    }

    /// One attempt: signed, bounded, timed out, counted.
    async fn send_once(&self, req: &Request, attempt: u32) -> Result<Vec<u8>, Failure> {
        let _slot = self.limit.acquire().await;
        let pause = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = pause {
            tokio::time::sleep_until(until).await;
        }
        let body = req.body.clone().unwrap_or_default();
        let (url, shown) = match &req.v1 {
            None => (
                format!("{}/v2/public/{}", self.origin, req.path),
                format!("{} {}", req.method, req.endpoint),
            ),
            Some((kind, _)) => (
                format!("{}/public", self.domain),
                format!("{} /public ({kind} users)", req.method),
            ),
        };
        let url = reqwest::Url::parse(&url).map_err(|e| Failure {
            error: ProviderError::new(ErrorClass::Other, format!("{shown}: bad URL: {e}")),
            maybe_done: false,
        })?;
        let mut builder = self.http.request(req.method.clone(), url.clone());
        match &req.v1 {
            None => {
                let target = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_string(),
                };
                let created = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let signed = sign_v2(&self.key, req.method.as_str(), &target, &body, created);
                builder = builder
                    .header("Content-Digest", signed.content_digest)
                    .header("Signature-Input", signed.signature_input)
                    .header("Signature", signed.signature);
            }
            Some((kind, hash)) => {
                builder = builder
                    .header("Authorization", sign_v1(&self.key, &body))
                    .header("ResourceType", *kind)
                    .header("ResourceID", hash.as_str())
                    .header("Accept", "application/json");
            }
        }
        if req.body.is_some() {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.clone());
        } else if req.method != Method::GET && req.method != Method::DELETE {
            builder = builder.header("Content-Length", "0");
        }
        let endpoint = match &req.v1 {
            None => format!("{} {}", req.method, req.endpoint),
            Some((kind, _)) => format!("POST /public ({kind} users)"),
        };
        self.stats.record(|s| {
            *s.calls.entry(endpoint).or_default() += 1;
            s.bytes_sent += body.len() as u64;
            if attempt > 1 {
                s.retries += 1;
            }
        });
        let response = builder.send().await.map_err(|e| {
            // Sent or not, nobody can tell: a write may have been made.
            let why = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "the connection broke"
            };
            Failure {
                error: ProviderError::new(
                    ErrorClass::Transient { retry_after: None },
                    format!("{shown}: {why} ({})", root_cause(&e)),
                ),
                maybe_done: !req.is_read() && !e.is_connect(),
            }
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let bytes = response.bytes().await.map_err(|e| Failure {
            error: ProviderError::new(
                ErrorClass::Transient { retry_after: None },
                format!("{shown}: the answer broke off ({})", root_cause(&e)),
            ),
            maybe_done: !req.is_read(),
        })?;
        self.stats.record(|s| {
            s.bytes_received += bytes.len() as u64;
            if status == 429 {
                s.rate_limited += 1;
            }
        });
        if status == 429 {
            self.limit.rate_limited();
        } else {
            self.limit.succeeded();
        }
        if let Some(after) = retry_after.filter(|_| matches!(status, 429 | 503)) {
            let until = tokio::time::Instant::now() + after;
            let mut pause = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            *pause = Some(pause.map_or(until, |p| p.max(until)));
        }
        // Only 200 and 204 are success (encord-api.md §2); v1 says it in the body too.
        let v1_status = req.v1.as_ref().and_then(|_| {
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("status").and_then(Value::as_u64))
        });
        let effective = match v1_status {
            Some(s) if status == 200 => s as u16,
            _ => status,
        };
        if matches!(effective, 200 | 204) {
            return Ok(bytes.to_vec());
        }
        let message = error_message(&bytes);
        let class = match effective {
            429 => ErrorClass::Transient { retry_after },
            500 | 502 | 503 => ErrorClass::Transient { retry_after },
            401 | 403 => ErrorClass::Denied,
            404 => ErrorClass::NotFound,
            409 => ErrorClass::AlreadyExists,
            400 | 405 | 413 | 422 => ErrorClass::Refused(Rule::InvalidValue),
            _ => ErrorClass::Other,
        };
        let hint = match effective {
            401 => {
                ": the key is not accepted (is it registered in the Encord web app, and is provider.domain the right region, e.g. https://api.us.encord.com?)"
            }
            403 => {
                ": the key's user lacks the permission (an org admin's key can do everything orgform does; a read-only key can only plan)"
            }
            _ => "",
        };
        Err(Failure {
            error: ProviderError::new(
                class,
                format!("{shown} answered {effective}: {message}{hint}"),
            ),
            // A 5xx may come after the change was made.
            maybe_done: !req.is_read() && matches!(effective, 500 | 502 | 503),
        })
    }

    /// A read, retried while transient.
    pub async fn read(&self, req: &Request) -> Result<Vec<u8>, ProviderError> {
        let mut tries = Tries::default();
        loop {
            match self.send_once(req, tries.sent()).await {
                Ok(body) => return Ok(body),
                Err(f) if tries.again(&f.error) => tries.wait(&f.error).await,
                Err(f) => return Err(gave_up(f.error, tries.sent())),
            }
        }
    }

    /// A read answered with JSON.
    pub async fn read_json(&self, req: &Request) -> Result<Value, ProviderError> {
        let body = self.read(req).await?;
        parse(&body, req)
    }

    /// Every item of a paged listing, following `nextPageToken` to the end (§3).
    pub async fn pages(
        &self,
        endpoint: &'static str,
        path: String,
    ) -> Result<Vec<Value>, ProviderError> {
        self.pages_of(endpoint, path).await
    }

    /// [`Client::pages`], each item read as `T`: fields `T` does not name are skipped
    /// unread, so the large listings (users, projects) never exist as JSON trees.
    pub async fn pages_of<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
    ) -> Result<Vec<T>, ProviderError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        self.progress.listing_started(endpoint);
        loop {
            let page_path = match &token {
                None => path.clone(),
                Some(t) => {
                    let sep = if path.contains('?') { '&' } else { '?' };
                    format!("{path}{sep}pageToken={}", encode(t))
                }
            };
            let req = Request::get(endpoint, page_path);
            let body = self.read(&req).await?;
            let page: Page<T> = serde_json::from_slice(&body)
                .map_err(|e| unexpected(&req, &format!("a page orgform cannot read ({e})")))?;
            items.extend(page.results);
            match page.next_page_token {
                Some(t) if !t.is_empty() => {
                    self.progress.page_read(endpoint, false);
                    token = Some(t);
                }
                _ => {
                    self.progress.page_read(endpoint, true);
                    return Ok(items);
                }
            }
        }
    }

    /// A write. When an attempt may have made the change (`maybe_done`, also from an
    /// earlier call the caller knows about), `done` reads the org back first: if the
    /// change is there, nothing is sent again. A 409 or 404 after such an attempt is
    /// judged by `done` too. Returns the answer, or `None` when the read-back found the
    /// change made.
    pub async fn write(
        &self,
        req: &Request,
        mut maybe_done: bool,
        done: impl AsyncFn() -> Result<bool, ProviderError>,
    ) -> Result<Option<Vec<u8>>, Failure> {
        let mut tries = Tries::default();
        loop {
            if maybe_done
                && done().await.map_err(|e| Failure {
                    error: e,
                    maybe_done: true,
                })?
            {
                return Ok(None);
            }
            match self.send_once(req, tries.sent()).await {
                Ok(body) => return Ok(Some(body)),
                Err(f) if tries.again(&f.error) => {
                    maybe_done |= f.maybe_done;
                    tries.wait(&f.error).await;
                }
                Err(f)
                    if maybe_done
                        && matches!(
                            f.error.class,
                            ErrorClass::AlreadyExists | ErrorClass::NotFound
                        ) =>
                {
                    // Our own earlier try made it: the read-back says so.
                    return match done().await {
                        Ok(true) => Ok(None),
                        _ => Err(f),
                    };
                }
                Err(f) => {
                    return Err(Failure {
                        maybe_done: maybe_done || f.maybe_done,
                        error: gave_up(f.error, tries.sent()),
                    });
                }
            }
        }
    }
}

/// The tries of one call: how many were sent, how many of the failures the server
/// timed (`Retry-After`).
#[derive(Default)]
struct Tries {
    failed: u32,
    told: u32,
}

impl Tries {
    /// The number of the next try (1 for the first).
    fn sent(&self) -> u32 {
        self.failed + self.told + 1
    }

    /// Whether to try again after `e`, counting it.
    fn again(&mut self, e: &ProviderError) -> bool {
        if !e.is_transient() {
            return false;
        }
        if retry_after(e).is_some() && self.told < TOLD_TO_WAIT {
            self.told += 1;
            return true;
        }
        if self.failed + 1 < ATTEMPTS {
            self.failed += 1;
            return true;
        }
        false
    }

    async fn wait(&self, e: &ProviderError) {
        tokio::time::sleep(backoff(self.failed.max(1), retry_after(e))).await;
    }
}

fn retry_after(e: &ProviderError) -> Option<Duration> {
    match e.class {
        ErrorClass::Transient { retry_after } => retry_after,
        _ => None,
    }
}

fn gave_up(e: ProviderError, attempts: u32) -> ProviderError {
    if attempts > 1 && e.is_transient() {
        ProviderError::new(
            e.class,
            format!("{} (after {attempts} attempts)", e.message),
        )
    } else {
        e
    }
}

/// The wait before retry `attempt` (1 for the first retry): `Retry-After` when the
/// server said, else exponential with ±50 % jitter, so concurrent calls spread out.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(after) = retry_after {
        return after;
    }
    let exp = FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => 0.5 + f64::from(byte[0]) / 255.0,
        Err(_) => 1.0,
    };
    exp.mul_f64(jitter)
}

/// The innermost cause of a reqwest error (its Display hides it).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The error's `message` (or `detail`, or v1's `payload`), else the body's start.
fn error_message(body: &[u8]) -> String {
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    field("message")
        .or_else(|| field("detail"))
        .or_else(|| field("payload"))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text: String = text.chars().take(200).collect();
            if text.trim().is_empty() {
                "no message".to_string()
            } else {
                text
            }
        })
}

pub fn parse(body: &[u8], req: &Request) -> Result<Value, ProviderError> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| unexpected(req, &format!("not JSON ({e})")))
}

/// An answer orgform cannot read: the API changed, or this is not Encord.
pub fn unexpected(req: &Request, what: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Other,
        format!(
            "{} {} answered {what}: is provider.domain Encord's API?",
            req.method, req.endpoint
        ),
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters (the SDK's
/// `quote(s, safe="")`), for path segments and query values.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// JSON as Python's `json.dumps` writes it by default: `", "` and `": "` separators,
/// non-ASCII escaped. Servers hash the raw bytes, so any form works; this one matches
/// what Encord sees from its own SDK.
pub fn python_json(v: &Value) -> String {
    let mut out = String::new();
    write_python(v, &mut out);
    out
}

fn write_python(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write_python(item, out);
            }
            out.push('}');
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_written_as_encords_sdk_writes_them() {
        assert_eq!(python_json(&json!({"name": "g"})), r#"{"name": "g"}"#);
        assert_eq!(
            python_json(&json!({"userEmails": ["a@b.c", "é", 1, null]})),
            r#"{"userEmails": ["a@b.c", "\u00e9", 1, null]}"#
        );
    }

    #[test]
    fn a_call_that_gets_no_answer_times_out_as_transient() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            // Accepts connections and never answers.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let silent = tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((stream, _)) = listener.accept().await {
                    held.push(stream);
                }
            });
            let key = SigningKey::from_bytes(&[1; 32]);
            let client = Client::new(
                &format!("http://{addr}"),
                key,
                2,
                Duration::from_millis(300),
            )
            .expect("client");
            let req = Request::bare(
                Method::POST,
                "organisation/users",
                "organisation/users".into(),
            );
            let started = std::time::Instant::now();
            let failure = client.send_once(&req, 1).await.expect_err("no answer");
            assert!(started.elapsed() < Duration::from_secs(5));
            assert!(failure.error.is_transient(), "{:?}", failure.error);
            assert!(
                failure.error.message.contains("timed out"),
                "{}",
                failure.error
            );
            assert!(
                failure.maybe_done,
                "a write without an answer may have been made"
            );
            assert_eq!(
                client.counts().calls.get("POST organisation/users"),
                Some(&1)
            );
            silent.abort();
        });
    }

    #[test]
    fn path_segments_are_encoded_without_safe_characters() {
        assert_eq!(encode("x+y@ex.com"), "x%2By%40ex.com");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        for attempt in 1..6 {
            let base = FIRST_BACKOFF
                .saturating_mul(1 << (attempt - 1))
                .min(MAX_BACKOFF);
            let wait = backoff(attempt, None);
            assert!(
                wait >= base.mul_f64(0.5) && wait <= base.mul_f64(1.5),
                "{attempt}: {wait:?}"
            );
        }
        assert_eq!(
            backoff(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }
}
