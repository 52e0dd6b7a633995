//! Who a request acts as (encord-api.md §1): a v2 signature (Ed25519 over the method,
//! the raw path and query, and the `Content-Digest` of the raw body), a v1 signature
//! (`Authorization: <keyid>:<hex signature of sha256(body)>`), or a bearer token issued
//! to a key by `GET user/bearer-token`. The key must be registered in the sandbox org
//! (`orgform sandbox key add`); the request then acts as the key's user. Read-only keys
//! are refused every write here (v2) and in the v1 handler (which writes depend on
//! `query_method`, not on the HTTP method).

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::signature::{self, Rejection};
use super::{Shared, routes};

/// The largest request body read (the SDK's bodies are small JSON documents).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The authenticated caller, for the handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub email: String,
    pub read_only: bool,
    /// The keyid the request was made with (a bearer token is issued to it).
    pub keyid: String,
    /// Whether the request came with a signature (bearer tokens are issued only then).
    pub signed: bool,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn rejected(e: Rejection) -> ApiError {
    ApiError::unauthorized(e.to_string())
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Verifies the request and records its caller; refuses with 401 (who are you?) or
/// 403 (a read-only key writing).
pub async fn authenticate(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let v1 = routes::is_v1(req.uri().path());
    let (mut parts, body) = req.into_parts();
    let body = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body exceeds {BODY_LIMIT} bytes"),
            );
            return if v1 { e.v1() } else { e.into_response() };
        }
    };
    let target = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    match identify(&app, &parts.headers, &parts.method, &target, &body, v1) {
        Ok(caller) => {
            if !v1 && caller.read_only && parts.method != Method::GET {
                return read_only_refusal().into_response();
            }
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(e) if v1 => e.v1(),
        Err(e) => e.into_response(),
    }
}

pub fn read_only_refusal() -> ApiError {
    ApiError::forbidden(
        "this key is read-only: it may read the org but not change it (register a key without --read-only to write)",
    )
}

fn identify(
    app: &Shared,
    headers: &HeaderMap,
    method: &Method,
    target: &str,
    body: &Bytes,
    v1: bool,
) -> Result<Caller, ApiError> {
    let authorization = header(headers, "authorization");
    if let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
        let keyid = app.tokens().get(token.trim()).cloned().ok_or_else(|| {
            ApiError::unauthorized(
                "the bearer token is unknown or expired: get a new one from GET /v2/public/user/bearer-token",
            )
        })?;
        return caller(app, &keyid, false);
    }
    if v1 {
        let authorization = authorization.ok_or_else(|| rejected(Rejection::Unsigned))?;
        let (keyid, sig) = signature::parse_v1(authorization).map_err(rejected)?;
        let key = signature::verifying_key(&keyid).ok_or_else(unknown_key)?;
        let found = caller(app, &keyid, true)?;
        signature::verify_v1(&key, &sig, body).map_err(rejected)?;
        return Ok(found);
    }
    let input = header(headers, "signature-input").ok_or_else(|| rejected(Rejection::Unsigned))?;
    let input = signature::parse_signature_input(input).map_err(rejected)?;
    let sig = header(headers, "signature")
        .ok_or_else(|| rejected(Rejection::Malformed("Signature", "it is missing")))?;
    let digest = header(headers, "content-digest")
        .ok_or_else(|| rejected(Rejection::Malformed("Content-Digest", "it is missing")))?;
    let key = signature::verifying_key(&input.keyid).ok_or_else(unknown_key)?;
    let found = caller(app, &input.keyid.to_ascii_lowercase(), true)?;
    let received = signature::Received {
        method: method.as_str(),
        target,
        body,
        signature: sig,
        content_digest: digest,
    };
    signature::verify_v2(&key, &input, &received, now()).map_err(rejected)?;
    Ok(found)
}

fn unknown_key() -> ApiError {
    ApiError::unauthorized(
        "the request is signed with a key this org does not know: register its public key with `orgform sandbox key add EMAIL --public-key FILE`",
    )
}

fn caller(app: &Shared, keyid: &str, signed: bool) -> Result<Caller, ApiError> {
    let key = app.store().api_key(keyid)?.ok_or_else(unknown_key)?;
    Ok(Caller {
        email: key.email,
        read_only: key.read_only,
        keyid: key.public_key,
        signed,
    })
}

/// `GET user/bearer-token`: a token that acts as the signing key (and its user).
pub async fn bearer_token(
    State(app): State<Shared>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if !caller.signed {
        return Err(ApiError::forbidden(
            "a bearer token is issued only to a signed request, not to another token",
        ));
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("no randomness for a token: {e}"),
        )
    })?;
    let token = crate::sandbox::openssh::hex(&raw);
    app.tokens().insert(token.clone(), caller.keyid);
    Ok(axum::Json(serde_json::json!({ "token": token })))
}
