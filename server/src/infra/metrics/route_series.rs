//! The series of one route, kept by the layer that wraps it (`http::every_request`): counting a
//! request of its route compares the template, finds its method and status among at most [`KEPT`]
//! kept series, and updates a counter and a histogram, with no lock and no shared map (see
//! `super::requests` for why). Anything else goes through [`Metrics::request`], to the same series.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::requests::{MethodLabel, Series, UNMATCHED};
use super::Metrics;

/// Series a [`RouteSeries`] keeps for itself.
const KEPT: usize = 8;

/// The series of one route's requests, kept by the layer that wraps the route.
#[derive(Debug)]
pub struct RouteSeries {
    metrics: Arc<Metrics>,
    /// The first template this layer saw: the one it wraps.
    route: OnceLock<Box<str>>,
    kept: [OnceLock<Series>; KEPT],
    adding: Mutex<()>,
}

impl RouteSeries {
    /// Series counted in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_route_keeps_its_series_and_counts_the_rest_in_the_map() {
        let metrics = Arc::new(Metrics::new());
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
