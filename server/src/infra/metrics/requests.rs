//! Requests by route template, method and status: a count and a latency histogram per series.
//!
//! The labels are bounded whatever clients request: the route is the template the router matched
//! (`/api/auth/passkeys/{id}/`, never the path itself), `other` when none matched; the method is
//! one of the eight below; the status is the answer's code.
//!
//! The handles of each series are kept once made. The layer that wraps each route
//! (`http::every_request`) holds a [`RouteSeries`]: counting a request of its route compares the
//! template, finds its method and status among at most eight kept series, and updates a counter and
//! a histogram; no lock, no lookup in a shared map (measured: that map's read lock alone cost more,
//! on two busy cores, than the counter), no allocation. A request that lands elsewhere (a layer
//! shared by several templates, more than eight method and status pairs) goes through the map of
//! [`Requests`] instead, to the same series.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use ::metrics::{Counter, Histogram, Key, Label, Recorder};
use metrics_exporter_prometheus::PrometheusRecorder;

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
struct Series {
    method: MethodLabel,
    status: u16,
    count: Counter,
    seconds: Histogram,
}

/// Series a [`RouteSeries`] keeps for itself.
const KEPT: usize = 8;

/// The series of one route's requests, kept by the layer that wraps the route.
#[derive(Debug)]
pub struct RouteSeries {
    metrics: Arc<super::Metrics>,
    /// The first template this layer saw: the one it wraps.
    route: OnceLock<Box<str>>,
    kept: [OnceLock<Series>; KEPT],
    adding: Mutex<()>,
}

impl RouteSeries {
    /// Series counted in `metrics`.
    pub fn new(metrics: Arc<super::Metrics>) -> Self {
        Self { metrics, route: OnceLock::new(), kept: Default::default(), adding: Mutex::new(()) }
    }

    /// Whether a request matched to `route` (`None`: no route) is this one's, counted by
    /// [`Self::observe`]; otherwise [`Self::observe_elsewhere`] counts it.
    pub fn owns(&self, route: Option<&str>) -> bool {
        let route = route.unwrap_or(UNMATCHED);
        **self.route.get_or_init(|| route.into()) == *route
    }

    /// Counts one request of this route.
    pub fn observe(&self, method: MethodLabel, status: u16, elapsed: Duration) {
        let matches = |s: &Series| s.method == method && s.status == status;
        for slot in &self.kept {
            match slot.get() {
                Some(series) if matches(series) => return series.record(elapsed),
                Some(_) => {}
                None => break,
            }
        }
        let route = self.route.get().map_or(UNMATCHED, |route| route);
        let _adding = self.adding.lock().unwrap_or_else(PoisonError::into_inner);
        for slot in &self.kept {
            let series = slot.get_or_init(|| Series::new(&self.metrics.recorder, route, method, status));
            if matches(series) {
                return series.record(elapsed);
            }
        }
        let route = (route != UNMATCHED).then_some(route);
        self.metrics.request(route, method, status, elapsed);
    }

    /// Counts one request of another route (`route`: its template, `None` when none matched).
    pub fn observe_elsewhere(&self, route: Option<&str>, method: MethodLabel, status: u16, elapsed: Duration) {
        self.metrics.request(route, method, status, elapsed);
    }
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
    fn new(recorder: &PrometheusRecorder, route: &str, method: MethodLabel, status: u16) -> Self {
        let labels = || {
            vec![
                Label::new("route", route.to_owned()),
                Label::from_static_parts("method", method.as_str()),
                Label::new("status", status.to_string()),
            ]
        };
        let metadata = &super::METADATA;
        Self {
            method,
            status,
            count: recorder.register_counter(&Key::from_parts(COUNT, labels()), metadata),
            seconds: recorder.register_histogram(&Key::from_parts(SECONDS, labels()), metadata),
        }
    }

    fn record(&self, elapsed: Duration) {
        self.count.increment(1);
        self.seconds.record(elapsed);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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

    #[test]
    fn a_route_keeps_its_series_and_counts_the_rest_in_the_map() {
        let metrics = Arc::new(super::super::Metrics::new());
        let route = RouteSeries::new(metrics.clone());
        let ms = Duration::from_millis(1);
        assert!(route.owns(Some("/api/a/")));
        assert!(!route.owns(Some("/api/b/")) && !route.owns(None), "the first template seen is its own");
        // More method and status pairs than it keeps: the rest are counted all the same.
        for status in 200..200 + KEPT as u16 + 2 {
            route.observe(MethodLabel::Get, status, ms);
            route.observe(MethodLabel::Get, status, ms);
        }
        route.observe_elsewhere(Some("/api/b/"), MethodLabel::Post, 201, ms);
        route.observe_elsewhere(Some("/api/a/"), MethodLabel::Get, 200, ms);
        let text = metrics.handle.render();
        let line = |route: &str, method: &str, status: u16| {
            format!(r#"latchkey_http_requests_total{{route="{route}",method="{method}",status="{status}"}}"#)
        };
        assert!(text.contains(&format!("{} 3", line("/api/a/", "GET", 200))), "{text}");
        assert!(text.contains(&format!("{} 2", line("/api/a/", "GET", 209))), "{text}");
        assert!(text.contains(&format!("{} 1", line("/api/b/", "POST", 201))), "{text}");
        assert_eq!(route.kept.iter().filter(|slot| slot.get().is_some()).count(), KEPT);
    }
}
