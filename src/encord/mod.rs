//! Encord's public API as both sides speak it (encord-api.md): request signatures,
//! OpenSSH Ed25519 keys, and the wire forms of roles and metadata entries. The sandbox
//! server verifies with it and the `encord` provider signs with it, so both agree by
//! construction.

pub mod metadata;
pub mod openssh;
pub mod signature;
pub mod wire;
