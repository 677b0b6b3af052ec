//! Requests by route template, method and status: a count and a latency histogram per series.
//!
//! The labels are bounded whatever clients request: the route is the template the router matched
//! (`/api/auth/passkeys/{id}/`, never the path itself), `other` when none matched; the method is
//! one of the eight below; the status is the answer's code.
//!
//! The handles of each series are kept once made. The layer that wraps each route
//! (`http::every_request`) holds a `RouteSeries` (`super::route_series`): counting a request of its route compares the
//! template, finds its method and status among at most eight kept series, and updates a counter and
//! a histogram; no lock, no lookup in a shared map (measured: that map's read lock alone cost more,
//! on two busy cores, than the counter), no allocation. A request that lands elsewhere (a layer
//! shared by several templates, more than eight method and status pairs) goes through the map of
//! [`Requests`] instead, to the same series.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use ::metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::PrometheusRecorder;

/// What every series of the server is registered with.
pub(super) static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Requests answered.
pub(super) const COUNT: &str = "latchkey_http_requests_total";
/// Their latency, in seconds.
pub(super) const SECONDS: &str = "latchkey_http_request_duration_seconds";
/// The route label of requests no route matched (the demo's files, 404s).
pub const UNMATCHED: &str = "other";

/// A request's method as a label: the methods HTTP defines for resources, and `OTHER` for any
/// other a client may invent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodLabel {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS` (CORS preflights).
    Options,
    /// Anything else.
    Other,
}

impl MethodLabel {
    /// The label of the method named `method`.
    pub fn of(method: &str) -> Self {
        match method {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            _ => Self::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Other => "other",
        }
    }
}

/// One series' handles.
#[derive(Debug)]
pub(super) struct Series {
    pub(super) method: MethodLabel,
    pub(super) status: u16,
    count: Counter,
    seconds: Histogram,
}

/// The series seen so far, by route template.
#[derive(Debug, Default)]
pub(super) struct Requests {
    by_route: RwLock<HashMap<Box<str>, Vec<Series>>>,
}

impl Requests {
    /// Counts one request in its series, registering the series the first time it is seen.
    pub(super) fn observe(
        &self,
        recorder: &PrometheusRecorder,
        route: Option<&str>,
        method: MethodLabel,
        status: u16,
        elapsed: Duration,
    ) {
        let route = route.unwrap_or(UNMATCHED);
        let find = |all: &[Series]| all.iter().position(|s| s.method == method && s.status == status);
        {
            let map = self.by_route.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(all) = map.get(route) {
                if let Some(i) = find(all) {
                    all[i].record(elapsed);
                    return;
                }
            }
        }
        let mut map = self.by_route.write().unwrap_or_else(PoisonError::into_inner);
        let all = map.entry(Box::from(route)).or_default();
        let i = match find(all) {
            Some(i) => i,
            None => {
                all.push(Series::new(recorder, route, method, status));
                all.len() - 1
            }
        };
        all[i].record(elapsed);
    }
}

impl Series {
    pub(super) fn new(recorder: &PrometheusRecorder, route: &str, method: MethodLabel, status: u16) -> Self {
        let labels = || {
            vec![
                Label::new("route", route.to_owned()),
                Label::from_static_parts("method", method.as_str()),
                Label::new("status", status.to_string()),
            ]
        };
        let metadata = &METADATA;
        Self {
            method,
            status,
            count: recorder.register_counter(&Key::from_parts(COUNT, labels()), metadata),
            seconds: recorder.register_histogram(&Key::from_parts(SECONDS, labels()), metadata),
        }
    }

    pub(super) fn record(&self, elapsed: Duration) {
        self.count.increment(1);
        self.seconds.record(elapsed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn methods_outside_the_list_are_other() {
        for (name, label) in
            [("GET", "GET"), ("PATCH", "PATCH"), ("OPTIONS", "OPTIONS"), ("get", "other"), ("BREW", "other")]
        {
            assert_eq!(MethodLabel::of(name).as_str(), label, "{name}");
        }
    }

    #[test]
    fn one_series_per_route_method_and_status() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let requests = Requests::default();
        let ms = Duration::from_millis(1);
        for _ in 0..3 {
            requests.observe(&recorder, Some("/api/x/{id}/"), MethodLabel::Get, 200, ms);
        }
        requests.observe(&recorder, Some("/api/x/{id}/"), MethodLabel::Get, 404, ms);
        requests.observe(&recorder, None, MethodLabel::Post, 404, ms);
        let text = recorder.handle().render();
        assert!(
            text.contains(r#"latchkey_http_requests_total{route="/api/x/{id}/",method="GET",status="200"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"latchkey_http_requests_total{route="/api/x/{id}/",method="GET",status="404"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"latchkey_http_requests_total{route="other",method="POST",status="404"} 1"#), "{text}");
        let map = requests.by_route.read().unwrap();
        assert_eq!(map.values().map(Vec::len).sum::<usize>(), 3);
    }
}
