//! The domain: what an Organization is made of, in the platform's words.

mod desired;
pub mod email;
mod org;
mod roles;

pub use desired::{Desired, DesiredResource, ResourceRef, metadata_type};
pub use org::*;
pub use roles::*;

/// A user's type when the manifest does not say: internal when the email's domain is
/// one of the organization's email domains, external otherwise (SPEC §2).
pub fn default_user_type<'a>(email: &str, domains: impl IntoIterator<Item = &'a str>) -> UserType {
    let d = email::domain(email);
    if domains.into_iter().any(|x| x.eq_ignore_ascii_case(&d)) {
        UserType::Internal
    } else {
        UserType::External
    }
}
