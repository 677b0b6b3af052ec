//! The bodies of the session endpoints: naming a session, and logging out everywhere else. The
//! session object itself is `store::sessions::OpenSession`.

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::drf::{CharField, Form, FormBody};
use crate::store::sessions::MAX_NAME_CHARS;

/// A session's new name.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Work laptop"}))]
pub struct SessionUpdate {
    /// Trimmed; blank removes the name. Absent: unchanged.
    #[schema(value_type = String, required = false, max_length = 64)]
    pub name: Option<String>,
}

impl FormBody for SessionUpdate {
    fn read(form: &mut Form<'_>) -> Self {
        Self { name: form.bounded("name", CharField::OPTIONAL, MAX_NAME_CHARS) }
    }
}

/// Which sessions logout-all revokes.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"keep_current": true}))]
pub struct LogoutAllRequest {
    /// Keep the caller's own session open and revoke every other one. Default false: all of them.
    #[schema(required = false)]
    pub keep_current: bool,
}

impl FormBody for LogoutAllRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { keep_current: form.boolean("keep_current").unwrap_or(false) }
    }
}

/// The answer of logout-all: `{}`, or with `keep_current` how many other sessions were revoked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"revoked": 2}))]
pub struct LogoutAllRevoked {
    /// How many of the caller's other open sessions were revoked (with `keep_current` only).
    #[schema(required = false)]
    pub revoked: u64,
}
