//! Errors as Encord's API gives them: a status (400/401/403/404/409/…) and a JSON body
//! whose `message` the SDK shows; on the legacy v1 RPC, the `{status, response: [CODE],
//! payload}` envelope.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::diagnostic::Rule;
use crate::sandbox::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }

    /// The v1 envelope's error code for this status.
    fn v1_code(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "INVALID_ARGUMENTS_ERROR",
            401 => "AUTHENTICATION_ERROR",
            403 => "AUTHORISATION_ERROR",
            404 => "RESOURCE_NOT_FOUND_ERROR",
            409 => "RESOURCE_EXISTS_ERROR",
            _ => "OPERATION_NOT_ALLOWED",
        }
    }

    /// The legacy v1 form of this error.
    pub fn v1(self) -> Response {
        let body = json!({
            "status": self.status.as_u16(),
            "response": [self.v1_code()],
            "payload": self.message,
        });
        (self.status, Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

/// A refusal of the store is what the platform answers: duplicates are 409, what a
/// caller may never do to an admin is 403, an unknown object is 404, any other broken
/// rule is 400.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused { rule, message } => {
                let status = match rule {
                    Rule::UserDuplicate
                    | Rule::GroupNameDuplicate
                    | Rule::TagNameDuplicate
                    | Rule::FolderNameDuplicate => StatusCode::CONFLICT,
                    Rule::AdminUnremovable | Rule::AdminRoleLocked => StatusCode::FORBIDDEN,
                    Rule::ResourceUnknown => StatusCode::NOT_FOUND,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError::new(status, message)
            }
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} does not exist")),
            other => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the sandbox store failed: {other}"),
            ),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
