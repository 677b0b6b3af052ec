//! The bodies of the e-mail code endpoints (docs/api.md#e-mail-codes-and-magic-links).

use utoipa::{ToResponse, ToSchema};

use crate::http::drf::{CharField, Form, FormBody};

const OPTIONAL_NOT_BLANK: CharField = CharField { required: false, trim: true, allow_blank: false };

/// What `POST /api/auth/code/request/` answers, whatever the address.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"detail": "If the address is registered, a code has been sent.",
    "flow_id": "5f0c2a9e1b3d4c6e8a0b2d4f6e8c0a1b3d5f7e9c1a3b5d7f9e0c2a4b6d8f0e1a"}))]
pub struct CodeRequested {
    /// The same sentence for every address.
    pub detail: String,
    /// The sign-in this browser asked for: give it back with the code (64 hex characters).
    pub flow_id: String,
}

/// A flow and what proves it: the code from the e-mail, or the token of its link.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"flow_id": "5f0c2a9e1b3d4c6e8a0b2d4f6e8c0a1b3d5f7e9c1a3b5d7f9e0c2a4b6d8f0e1a",
    "code": "492731", "cookie": true}))]
pub struct CodeTokenRequest {
    /// From `POST /api/auth/code/request/`, or the link's `flow`.
    pub flow_id: String,
    /// The 6 digits from the e-mail (spaces and hyphens are ignored). Give this or `token`.
    #[schema(value_type = String, required = false, example = "492731")]
    pub code: Option<String>,
    /// The link's `token`. Give this or `code`.
    #[schema(value_type = String, required = false)]
    pub token: Option<String>,
    /// Cookie mode, as at `POST /api/token/`.
    #[schema(required = false, default = false)]
    pub cookie: bool,
    /// The slug of an organization the access tokens should speak for.
    #[schema(value_type = String, required = false)]
    pub org: Option<String>,
}

impl FormBody for CodeTokenRequest {
    fn read(form: &mut Form<'_>) -> Self {
        let flow_id = form.bounded("flow_id", CharField::REQUIRED, 64).unwrap_or_default();
        let code = form.bounded("code", OPTIONAL_NOT_BLANK, 16).and_then(|typed| {
            let code: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
            if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                Some(code)
            } else {
                form.error("code", "Enter the 6-digit code from the e-mail.");
                None
            }
        });
        let token = form.bounded("token", OPTIONAL_NOT_BLANK, 64);
        let given = (form.has("code"), form.has("token"));
        if given.0 == given.1 && !form.has_error("code") && !form.has_error("token") {
            form.error("non_field_errors", "Give the code from the e-mail, or the token of its link.");
        }
        Self {
            flow_id,
            code,
            token,
            cookie: form.boolean("cookie").unwrap_or(false),
            org: form.bounded("org", OPTIONAL_NOT_BLANK, 50),
        }
    }
}

/// The body of `401 code_invalid`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CodeInvalidBody {
    /// `The code is invalid or has expired.`
    pub detail: String,
    /// `code_invalid`.
    pub code: String,
    /// Tries the flow has left; 0 when it is dead (spent, expired, or 5 wrong tries): ask for a new code.
    pub attempts_left: i64,
}

/// 401: a wrong code or token, or a flow that is unknown, spent, dead or expired.
#[derive(Debug, ToResponse)]
#[response(
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`")),
    example = json!({"detail": "The code is invalid or has expired.", "code": "code_invalid", "attempts_left": 4})
)]
pub struct CodeInvalid(pub CodeInvalidBody);
