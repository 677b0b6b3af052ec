//! The web demo at `/` (and the pages e-mailed links open): the files of `web-demo/`, compiled into
//! release binaries so that `latchkey serve` anywhere serves it; debug builds read the checkout's
//! `web-demo/` at run time. `LATCHKEY_DEMO_DIR` serves a directory instead, `LATCHKEY_DEMO=off` nothing.

use std::borrow::Cow;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::infra::config::Config;
use crate::infra::error::ApiError;

/// `web-demo/`, with the npm package copied into `web-demo/pkg/` by `scripts/run.sh` and the test
/// command before a build.
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../web-demo/"]
struct Compiled;

/// The pages e-mailed links open (`crate::http::lifecycle`, `crate::http::login_codes`): the demo's
/// `index.html` answers them.
const LINK_PAGES: [&str; 3] = ["/password-reset", "/verify-email", "/login/code"];

/// Where the files at `/` come from.
#[derive(Debug, Clone)]
pub(crate) enum Demo {
    /// `LATCHKEY_DEMO=off`.
    Off,
    /// The files compiled in.
    Compiled,
    /// `LATCHKEY_DEMO_DIR`.
    Directory(ServeDir),
}

impl Demo {
    pub(crate) fn of(config: &Config) -> Self {
        if !config.demo {
            Self::Off
        } else if config.demo_dir.as_os_str().is_empty() {
            Self::Compiled
        } else {
            Self::Directory(ServeDir::new(&config.demo_dir))
        }
    }

    /// Answers a request no route took: DRF's 404 under `/api/`, the demo's files elsewhere.
    pub(crate) async fn answer(self, mut request: Request) -> Response {
        if request.uri().path().starts_with("/api/") {
            return ApiError::NotFound.into_response();
        }
        if LINK_PAGES.contains(&request.uri().path().trim_end_matches('/')) {
            // The page reads `uid` and `token` (or `flow` and `token`) from its own address; the file is
            // the demo's front page. Answering it spends nothing: the page's button does, by POST.
            let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
            if let Ok(uri) = format!("/index.html{query}").parse() {
                *request.uri_mut() = uri;
            }
        }
        match self {
            Self::Off => ApiError::NotFound.into_response(),
            Self::Compiled => compiled(&request),
            Self::Directory(files) => match files.oneshot(request).await {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            },
        }
    }
}

/// A compiled-in file, with its type and an `ETag` (its SHA-256) for conditional requests.
fn compiled(request: &Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return ApiError::MethodNotAllowed(request.method().to_string()).into_response();
    }
    let Some(path) = file_path(request.uri().path()) else { return ApiError::NotFound.into_response() };
    let Some(file) = Compiled::get(&path) else { return ApiError::NotFound.into_response() };
    let etag = format!("\"{}\"", latchkey_core::encoding::hex(&file.metadata.sha256_hash()));
    let unchanged = request.headers().get(header::IF_NONE_MATCH).is_some_and(|tags| {
        tags.to_str().is_ok_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"))
    });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match file.data {
            Cow::Borrowed(bytes) => Body::from(bytes),
            Cow::Owned(bytes) => Body::from(bytes),
        };
        let mut response = body.into_response();
        if let Ok(kind) = HeaderValue::from_str(file.metadata.mimetype()) {
            response.headers_mut().insert(header::CONTENT_TYPE, kind);
        }
        response
    };
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// The file a request path names (`/` and directories: their `index.html`), or `None` for paths
/// that could leave the folder.
fn file_path(path: &str) -> Option<String> {
    let relative = path.trim_start_matches('/');
    if relative.split('/').any(|segment| segment == ".." || segment == ".") || relative.contains(['\\', '\0']) {
        return None;
    }
    if relative.is_empty() || relative.ends_with('/') {
        return Some(format!("{relative}index.html"));
    }
    Some(relative.to_owned())
}

#[cfg(test)]
mod tests {
    use super::file_path;

    #[test]
    fn request_paths_name_files_inside_the_demo_only() {
        assert_eq!(file_path("/").as_deref(), Some("index.html"));
        assert_eq!(file_path("/app.js").as_deref(), Some("app.js"));
        assert_eq!(file_path("/pkg/").as_deref(), Some("pkg/index.html"));
        assert_eq!(file_path("/pkg/latchkey.js").as_deref(), Some("pkg/latchkey.js"));
        for escape in ["/../Cargo.toml", "/pkg/../../x", "/./app.js", "/a\\b", "/%2e%2e/x/.."] {
            assert_eq!(file_path(escape), None, "{escape}");
        }
    }
}
