//! Errors of the per-cluster Kubernetes API, answered as `meta/v1` `Status`
//! bodies with the apiserver's reasons, codes and message wording, so that
//! clients (kube's `Error::Api`, kubectl) see what a real cluster says.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Status, StatusDetails};

use crate::http::json;

/// A failed request. `resource` is the group-qualified plural the apiserver
/// names in messages (`pods`, `deployments.apps`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("Unauthorized")]
    Unauthorized,
    #[error("{resource} \"{name}\" not found")]
    NotFound { resource: String, name: String },
    /// No such path: an unknown resource, group or cluster.
    #[error("the server could not find the requested resource")]
    NoRoute,
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists { resource: String, name: String },
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again")]
    Conflict { resource: String, name: String },
    #[error("{resource} \"{name}\" is invalid: {message}")]
    Invalid {
        resource: String,
        name: String,
        message: String,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error(
        "the body of the request was in an unknown format - accepted media types include: {0}"
    )]
    UnsupportedMediaType(&'static str),
    /// A watch from a resourceVersion the history no longer holds.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    /// A bug of the sandbox's, not the client's.
    #[error("Internal error occurred: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound { .. } | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Expired { .. } => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "Unauthorized",
            ApiError::NotFound { .. } | ApiError::NoRoute => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Expired { .. } => "Expired",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// The `Status` body, as the apiserver writes it.
    pub fn status(&self) -> Status {
        let details = match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name }
            | ApiError::Invalid { resource, name, .. } => {
                let (kind, group) = resource.split_once('.').unwrap_or((resource, ""));
                Some(StatusDetails {
                    name: Some(name.clone()),
                    kind: Some(kind.to_string()),
                    group: (!group.is_empty()).then(|| group.to_string()),
                    ..Default::default()
                })
            }
            _ => None,
        };
        Status {
            code: Some(i32::from(self.code().as_u16())),
            details,
            message: Some(self.to_string()),
            reason: Some(self.reason().to_string()),
            status: Some("Failure".to_string()),
            ..Default::default()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json(self.code(), &self.status())
    }
}

/// `Status` with `status: Success`, the reply to a delete that completed.
pub(crate) fn success(resource: &str, name: &str, uid: Option<String>) -> Status {
    let (kind, group) = resource.split_once('.').unwrap_or((resource, ""));
    Status {
        status: Some("Success".to_string()),
        details: Some(StatusDetails {
            name: Some(name.to_string()),
            kind: Some(kind.to_string()),
            group: (!group.is_empty()).then(|| group.to_string()),
            uid,
            ..Default::default()
        }),
        ..Default::default()
    }
}
