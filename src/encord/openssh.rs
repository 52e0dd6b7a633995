//! Ed25519 keys in OpenSSH's formats, as Encord's SDK reads them: the private key as
//! `-----BEGIN OPENSSH PRIVATE KEY-----` (unencrypted `openssh-key-v1`), the public key as
//! an `ssh-ed25519 AAAA… comment` line. Encord names a key by the hex of its raw 32-byte
//! public key (the `keyid`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};

const KEY_TYPE: &str = "ssh-ed25519";
const MAGIC: &[u8] = b"openssh-key-v1\0";
const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END: &str = "-----END OPENSSH PRIVATE KEY-----";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "not an OpenSSH private key (expected `{BEGIN}`; convert a PEM key with `ssh-keygen -p -f KEY`)"
    )]
    NotOpenSsh,
    #[error("not an Ed25519 key (it is `{0}`): Encord accepts only Ed25519 keys")]
    NotEd25519(String),
    #[error("the private key is protected by a passphrase (cipher `{0}`); use an unencrypted key")]
    Encrypted(String),
    #[error("the key is damaged: {0}")]
    Malformed(&'static str),
    #[error("not an OpenSSH public key line (expected `ssh-ed25519 AAAA… [comment]`)")]
    NotPublicKeyLine,
}

/// The `keyid` Encord uses: the raw public key in lower-case hex.
pub fn key_id(key: &VerifyingKey) -> String {
    hex(key.as_bytes())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new key from the operating system's randomness.
pub fn generate() -> Result<SigningKey, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn public_blob(key: &VerifyingKey) -> Vec<u8> {
    let mut blob = Vec::new();
    put_string(&mut blob, KEY_TYPE.as_bytes());
    put_string(&mut blob, key.as_bytes());
    blob
}

/// `ssh-ed25519 AAAA… comment`, one line.
pub fn public_key_line(key: &VerifyingKey, comment: &str) -> String {
    format!("{KEY_TYPE} {} {comment}", STANDARD.encode(public_blob(key)))
}

/// The private key file, unencrypted, as `ssh-keygen -t ed25519` writes it.
pub fn private_key_pem(key: &SigningKey, comment: &str, check: u32) -> String {
    let public = key.verifying_key();
    let mut private = Vec::new();
    private.extend_from_slice(&check.to_be_bytes());
    private.extend_from_slice(&check.to_be_bytes());
    put_string(&mut private, KEY_TYPE.as_bytes());
    put_string(&mut private, public.as_bytes());
    let mut secret = key.to_bytes().to_vec();
    secret.extend_from_slice(public.as_bytes());
    put_string(&mut private, &secret);
    put_string(&mut private, comment.as_bytes());
    // Padded to the cipher's block size (8 for `none`) with 1, 2, 3, …
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut body = MAGIC.to_vec();
    put_string(&mut body, b"none");
    put_string(&mut body, b"none");
    put_string(&mut body, b"");
    body.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut body, &public_blob(&public));
    put_string(&mut body, &private);
    let encoded = STANDARD.encode(body);
    let mut pem = format!("{BEGIN}\n");
    for chunk in encoded.as_bytes().chunks(70) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(END);
    pem.push('\n');
    pem
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Result<u32, KeyError> {
        let (head, rest) = self
            .0
            .split_at_checked(4)
            .ok_or(KeyError::Malformed("it ends early"))?;
        self.0 = rest;
        let mut b = [0u8; 4];
        b.copy_from_slice(head);
        Ok(u32::from_be_bytes(b))
    }

    fn string(&mut self) -> Result<&'a [u8], KeyError> {
        let n = self.u32()? as usize;
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(KeyError::Malformed("it ends early"))?;
        self.0 = rest;
        Ok(head)
    }
}

/// Reads an unencrypted OpenSSH Ed25519 private key.
pub fn parse_private_key(text: &str) -> Result<SigningKey, KeyError> {
    let text = text.trim();
    let inner = text
        .strip_prefix(BEGIN)
        .and_then(|t| t.strip_suffix(END))
        .ok_or(KeyError::NotOpenSsh)?;
    let b64: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    let body = STANDARD
        .decode(b64)
        .map_err(|_| KeyError::Malformed("its base64 is invalid"))?;
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or(KeyError::Malformed("it lacks the openssh-key-v1 header"))?;
    let mut r = Reader(rest);
    let cipher = String::from_utf8_lossy(r.string()?).into_owned();
    let _kdf = r.string()?;
    let _kdf_options = r.string()?;
    if cipher != "none" {
        return Err(KeyError::Encrypted(cipher));
    }
    if r.u32()? != 1 {
        return Err(KeyError::Malformed("it holds more than one key"));
    }
    let _public = r.string()?;
    let mut p = Reader(r.string()?);
    if p.u32()? != p.u32()? {
        return Err(KeyError::Malformed("its check numbers differ"));
    }
    let key_type = String::from_utf8_lossy(p.string()?).into_owned();
    if key_type != KEY_TYPE {
        return Err(KeyError::NotEd25519(key_type));
    }
    let public = p.string()?;
    let secret = p.string()?;
    let seed: [u8; 32] = secret
        .get(..32)
        .and_then(|s| s.try_into().ok())
        .ok_or(KeyError::Malformed("its secret part is too short"))?;
    let key = SigningKey::from_bytes(&seed);
    if key.verifying_key().as_bytes() != public {
        return Err(KeyError::Malformed("its public and private parts differ"));
    }
    Ok(key)
}

/// Reads an `ssh-ed25519 AAAA… [comment]` line (an `authorized_keys` or `.pub` line).
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let mut fields = text.split_whitespace();
    let key_type = fields.next().ok_or(KeyError::NotPublicKeyLine)?;
    let b64 = fields.next().ok_or(KeyError::NotPublicKeyLine)?;
    if key_type != KEY_TYPE {
        if key_type.starts_with("ssh-") || key_type.starts_with("ecdsa-") {
            return Err(KeyError::NotEd25519(key_type.to_string()));
        }
        return Err(KeyError::NotPublicKeyLine);
    }
    let blob = STANDARD
        .decode(b64)
        .map_err(|_| KeyError::Malformed("its base64 is invalid"))?;
    let mut r = Reader(&blob);
    if r.string()? != KEY_TYPE.as_bytes() {
        return Err(KeyError::Malformed(
            "its type field differs from the line's",
        ));
    }
    let raw: [u8; 32] = r
        .string()?
        .try_into()
        .map_err(|_| KeyError::Malformed("an Ed25519 public key has 32 bytes"))?;
    VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::Malformed("not a valid Ed25519 point"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_key_reads_back() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let pem = private_key_pem(&key, "ada@acme.com", 0x1234_5678);
        assert!(pem.starts_with(BEGIN) && pem.ends_with(&format!("{END}\n")));
        let back = parse_private_key(&pem).expect("parses");
        assert_eq!(back.to_bytes(), key.to_bytes());
        let line = public_key_line(&key.verifying_key(), "ada@acme.com");
        assert_eq!(
            parse_public_key(&line).expect("parses"),
            key.verifying_key()
        );
    }

    #[test]
    fn other_formats_are_named() {
        assert!(matches!(
            parse_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            Err(KeyError::NotOpenSsh)
        ));
        assert_eq!(
            parse_public_key("ssh-rsa AAAAB3NzaC1yc2E x"),
            Err(KeyError::NotEd25519("ssh-rsa".into()))
        );
        assert_eq!(parse_public_key("hello"), Err(KeyError::NotPublicKeyLine));
    }

    #[test]
    fn the_key_id_is_the_raw_public_key_in_hex() {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
        let key = SigningKey::from_bytes(&seed);
        assert_eq!(
            key_id(&key.verifying_key()),
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
        );
    }
}
