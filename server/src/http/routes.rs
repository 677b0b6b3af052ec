//! Every endpoint, each registered once together with its OpenAPI operation (utoipa-axum's
//! `routes!` reads the method and path from the handler's `#[utoipa::path]`): the router serves
//! exactly the operations the document describes, and a route cannot be added without them.

use utoipa_axum::router::OpenApiRouter;

use crate::http::{
    accounts, admin, audit, keys, lifecycle, login, login_codes, mfa, ops, orgs, passkey_login, passkeys, sessions,
    social, sudo, tokens, webhooks,
};
use crate::infra::state::AppState;

/// The API's routes with their operations.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(ops::router())
        .merge(accounts::router())
        .merge(sudo::router())
        .merge(tokens::router())
        .merge(sessions::router())
        .merge(login::router())
        .merge(login_codes::router())
        .merge(mfa::login::router())
        .merge(mfa::router())
        .merge(mfa::status::router())
        .merge(mfa::sms::router())
        .merge(passkeys::router())
        .merge(passkey_login::router())
        .merge(social::router())
        .merge(lifecycle::router())
        .merge(audit::router())
        .merge(keys::router())
        .merge(orgs::router())
        .merge(admin::router())
        .merge(webhooks::router())
}
