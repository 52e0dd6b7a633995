//! Encord's request signatures (encord-api.md §1): the v2 scheme (an RFC 9421-style
//! `Signature` over four lines, with a `Content-Digest` of the body) and the legacy v1
//! scheme (`Authorization: <keyid>:<signature of sha256(body)>`). Signing is here too, so
//! tests and clients sign exactly what the server verifies.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::openssh::{hex, key_id};

/// The label of Encord's signature in `Signature-Input` and `Signature`.
const LABEL: &str = "encord-sig";
const COMPONENTS: &str = r#"("@method" "@request-target" "content-digest")"#;

/// `sha-256=:<base64(sha256(body))>:`
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// The headers a v2 request carries, as Encord's SDK makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
}

fn params(created: i64, keyid: &str) -> String {
    format!(r#"{COMPONENTS};created={created};keyid="{keyid}";alg="ed25519""#)
}

fn base(method: &str, target: &str, digest: &str, params: &str) -> String {
    format!(
        "\"@method\": {}\n\"@request-target\": {target}\n\"content-digest\": {digest}\n\"@signature-params\": {params}",
        method.to_ascii_uppercase()
    )
}

/// Signs a v2 request: `target` is the path and query exactly as sent.
pub fn sign_v2(
    key: &SigningKey,
    method: &str,
    target: &str,
    body: &[u8],
    created: i64,
) -> SignedHeaders {
    let digest = content_digest(body);
    let params = params(created, &key_id(&key.verifying_key()));
    let signature = key.sign(base(method, target, &digest, &params).as_bytes());
    SignedHeaders {
        content_digest: digest,
        signature_input: format!("{LABEL}={params}"),
        signature: format!("{LABEL}=:{}:", STANDARD.encode(signature.to_bytes())),
    }
}

/// The v1 `Authorization` header for a body.
pub fn sign_v1(key: &SigningKey, body: &[u8]) -> String {
    let signature = key.sign(&Sha256::digest(body));
    format!(
        "{}:{}",
        key_id(&key.verifying_key()),
        hex(&signature.to_bytes())
    )
}

/// Why a signature is not accepted (each becomes a 401 with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error(
        "the request is not signed: send Signature-Input, Signature and Content-Digest headers, or Authorization: Bearer"
    )]
    Unsigned,
    #[error("the {0} header is malformed: {1}")]
    Malformed(&'static str, &'static str),
    #[error("Content-Digest does not match the request body")]
    DigestMismatch,
    #[error(
        "the signature was created at {created}, {skew} s away from the server's clock (now {now}); allowed: {} s before to {} s after",
        MAX_AGE,
        MAX_AHEAD
    )]
    Stale { created: i64, now: i64, skew: i64 },
    #[error("the signature does not verify with the key it names")]
    BadSignature,
}

/// How old `created` may be. SDK 0.1.190 backdates `created` by 30 s, 0.1.211 sends
/// now: 30 s of clock skew on top of the older SDK's offset.
pub const MAX_AGE: i64 = 60;
/// How far ahead `created` may be: 30 s of clock skew.
pub const MAX_AHEAD: i64 = 30;

/// A parsed `Signature-Input`: the signed parameters and the key they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInput {
    /// The value after `encord-sig=`, signed as `@signature-params`.
    pub params: String,
    pub created: i64,
    pub keyid: String,
}

pub fn parse_signature_input(value: &str) -> Result<SignatureInput, Rejection> {
    const H: &str = "Signature-Input";
    let params = value
        .strip_prefix(LABEL)
        .and_then(|v| v.strip_prefix('='))
        .ok_or(Rejection::Malformed(H, "it must start with encord-sig="))?;
    let rest = params.strip_prefix(COMPONENTS).ok_or(Rejection::Malformed(
        H,
        r#"it must cover ("@method" "@request-target" "content-digest")"#,
    ))?;
    let (mut created, mut keyid, mut alg) = (None, None, None);
    for param in rest.split(';').filter(|p| !p.is_empty()) {
        let (name, value) = param
            .split_once('=')
            .ok_or(Rejection::Malformed(H, "a parameter has no value"))?;
        let unquoted = || value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        match name {
            "created" => created = value.parse::<i64>().ok(),
            "keyid" => keyid = unquoted().map(str::to_string),
            "alg" => alg = unquoted().map(str::to_string),
            _ => {}
        }
    }
    let created = created.ok_or(Rejection::Malformed(H, "created must be a Unix time"))?;
    let keyid = keyid.ok_or(Rejection::Malformed(H, "keyid is missing"))?;
    if alg.as_deref() != Some("ed25519") {
        return Err(Rejection::Malformed(H, r#"alg must be "ed25519""#));
    }
    Ok(SignatureInput {
        params: params.to_string(),
        created,
        keyid,
    })
}

/// A 32-byte public key from Encord's hex keyid.
pub fn verifying_key(keyid: &str) -> Option<VerifyingKey> {
    let bytes = unhex(keyid)?;
    let raw: [u8; 32] = bytes.try_into().ok()?;
    VerifyingKey::from_bytes(&raw).ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A received v2 request, as far as its signature covers it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    /// The path and query exactly as received.
    pub target: &'a str,
    pub body: &'a [u8],
    pub signature: &'a str,
    pub content_digest: &'a str,
}

/// Checks a v2 request signed by `key` against its headers, raw body and target.
pub fn verify_v2(
    key: &VerifyingKey,
    input: &SignatureInput,
    req: &Received<'_>,
    now: i64,
) -> Result<(), Rejection> {
    let Received {
        method,
        target,
        body,
        signature: signature_header,
        content_digest: digest_header,
    } = *req;
    if digest_header != content_digest(body) {
        return Err(Rejection::DigestMismatch);
    }
    let skew = input.created - now;
    if !(-MAX_AGE..=MAX_AHEAD).contains(&skew) {
        return Err(Rejection::Stale {
            created: input.created,
            now,
            skew,
        });
    }
    let b64 = signature_header
        .strip_prefix(LABEL)
        .and_then(|v| v.strip_prefix("=:"))
        .and_then(|v| v.strip_suffix(':'))
        .ok_or(Rejection::Malformed(
            "Signature",
            "expected encord-sig=:BASE64:",
        ))?;
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| Rejection::Malformed("Signature", "invalid base64"))?;
    let signature = Signature::from_slice(&bytes)
        .map_err(|_| Rejection::Malformed("Signature", "not an Ed25519 signature"))?;
    key.verify_strict(
        base(method, target, digest_header, &input.params).as_bytes(),
        &signature,
    )
    .map_err(|_| Rejection::BadSignature)
}

/// Splits a v1 `Authorization: <keyid>:<hex signature>` header.
pub fn parse_v1(header: &str) -> Result<(String, Signature), Rejection> {
    const H: &str = "Authorization";
    let (keyid, sig) = header.split_once(':').ok_or(Rejection::Malformed(
        H,
        "expected <public key hex>:<signature hex>",
    ))?;
    let bytes = unhex(sig).ok_or(Rejection::Malformed(H, "the signature is not hex"))?;
    let signature = Signature::from_slice(&bytes)
        .map_err(|_| Rejection::Malformed(H, "not an Ed25519 signature"))?;
    Ok((keyid.to_ascii_lowercase(), signature))
}

/// Checks a v1 signature: Ed25519 over the SHA-256 digest of the raw body.
pub fn verify_v1(key: &VerifyingKey, signature: &Signature, body: &[u8]) -> Result<(), Rejection> {
    key.verify_strict(&Sha256::digest(body), signature)
        .map_err(|_| Rejection::BadSignature)
}

#[cfg(test)]
mod tests {
    //! encord-api.md §1.1's test vector, signed and verified.
    use super::*;

    fn vector_key() -> SigningKey {
        SigningKey::from_bytes(&std::array::from_fn(|i| i as u8))
    }

    const CREATED: i64 = 1_700_000_000;

    #[test]
    fn signs_the_test_vector_exactly() {
        let key = vector_key();
        let get = sign_v2(&key, "GET", "/v2/public/organisation/users", b"", CREATED);
        assert_eq!(
            get.content_digest,
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        );
        assert_eq!(
            get.signature,
            "encord-sig=:nrjVAvy1gru2BTT1fkx47YtKaRCMci5c8GWgRp+YVo+pX2r02TbXlFQ6gyQNtupJYHm1LRF8nc3q9TAKXrjRAw==:"
        );
        assert_eq!(
            get.signature_input,
            r#"encord-sig=("@method" "@request-target" "content-digest");created=1700000000;keyid="03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";alg="ed25519""#
        );
        let body = br#"{"name": "g", "description": "d"}"#;
        let post = sign_v2(
            &key,
            "POST",
            "/v2/public/organisation/groups",
            body,
            CREATED,
        );
        assert_eq!(
            post.content_digest,
            "sha-256=:qLipnf4T611Wb9934xSpdYDlhy14JOhf3J6IYyb69MA=:"
        );
        assert_eq!(
            post.signature,
            "encord-sig=:hv3nQB992sSfn6PLuupFsqYY179z4rxCg2Y+ox0VlAfuCHzjL1L4d0jQ3gtFO4RWZsSJiNodyq1PaBTi60FZBw==:"
        );
    }

    fn verify(
        h: &SignedHeaders,
        method: &str,
        target: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), Rejection> {
        let input = parse_signature_input(&h.signature_input)?;
        let key = verifying_key(&input.keyid).expect("keyid is a key");
        let req = Received {
            method,
            target,
            body,
            signature: &h.signature,
            content_digest: &h.content_digest,
        };
        verify_v2(&key, &input, &req, now)
    }

    #[test]
    fn verifies_the_test_vector_and_rejects_any_change() {
        let body = br#"{"name": "g", "description": "d"}"#;
        let target = "/v2/public/organisation/groups";
        // The vector's own header values, not re-signed ones.
        let h = SignedHeaders {
            content_digest: "sha-256=:qLipnf4T611Wb9934xSpdYDlhy14JOhf3J6IYyb69MA=:".into(),
            signature_input: r#"encord-sig=("@method" "@request-target" "content-digest");created=1700000000;keyid="03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";alg="ed25519""#.into(),
            signature: "encord-sig=:hv3nQB992sSfn6PLuupFsqYY179z4rxCg2Y+ox0VlAfuCHzjL1L4d0jQ3gtFO4RWZsSJiNodyq1PaBTi60FZBw==:".into(),
        };
        assert_eq!(verify(&h, "POST", target, body, CREATED), Ok(()));
        // Clock skew the SDKs need, and no more.
        assert_eq!(verify(&h, "POST", target, body, CREATED + 60), Ok(()));
        assert_eq!(verify(&h, "POST", target, body, CREATED - 30), Ok(()));
        assert!(matches!(
            verify(&h, "POST", target, body, CREATED + 61),
            Err(Rejection::Stale { .. })
        ));
        assert!(matches!(
            verify(&h, "POST", target, body, CREATED - 31),
            Err(Rejection::Stale { .. })
        ));
        assert_eq!(
            verify(
                &h,
                "POST",
                target,
                br#"{"name": "h", "description": "d"}"#,
                CREATED
            ),
            Err(Rejection::DigestMismatch)
        );
        assert_eq!(
            verify(&h, "PUT", target, body, CREATED),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(
                &h,
                "POST",
                "/v2/public/organisation/groups?x=1",
                body,
                CREATED
            ),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn v1_signs_the_body_digest() {
        let key = vector_key();
        let body = br#"{"query_type": "projectusers"}"#;
        let (keyid, sig) = parse_v1(&sign_v1(&key, body)).expect("parses");
        let public = verifying_key(&keyid).expect("key");
        assert_eq!(verify_v1(&public, &sig, body), Ok(()));
        assert_eq!(
            verify_v1(&public, &sig, b"{}"),
            Err(Rejection::BadSignature)
        );
    }
}
