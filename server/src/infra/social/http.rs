//! The providers' HTTP client is the server's outbound one (`crate::infra::outbound`: no
//! redirects, 3 s to connect, 5 s in all, at most 512 KiB of answer, only public addresses unless
//! the provider allows private ones); this module lends it to oauth2 for the token endpoint.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use crate::infra::outbound::HttpError;
pub(crate) use crate::infra::outbound::{Answer, Http, Reach};

/// How long a call to a provider may take in all.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// The client for providers: `allow_private` lifts the address filter.
pub(crate) fn client(allow_private: bool) -> Result<Http, String> {
    Http::new(Reach::any_if(allow_private, Reach::PublicOrLoopback), TIMEOUT)
}

/// oauth2's HTTP client is this one. A named type with a boxed `Send` future, rather than a
/// closure: the future of a closure over `&Http` is `Send` only for one lifetime, which axum's
/// handlers (`Send` for every lifetime) cannot use.
impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let Answer { status, headers, body } = self.send(request).await?;
            let mut response = oauth2::HttpResponse::new(body);
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            Ok(response)
        })
    }
}
