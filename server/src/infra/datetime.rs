//! Datetimes on the wire: Unix seconds rendered as RFC 3339 in UTC, as DRF renders them, and read
//! back with the leniency of DRF's `DateTimeField`.

use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339 as Rfc3339Format;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Unix seconds that serialize as an RFC 3339 UTC timestamp ([`iso8601`]): the type of every
/// datetime field of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rfc3339(pub i64);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&iso8601(self.0))
    }
}

/// Unix seconds as an RFC 3339 UTC timestamp (`2026-11-22T01:02:03Z`), as DRF renders datetimes.
/// RFC 3339 has four-digit years: an instant outside years 0000 to 9999 is rendered as the nearest
/// one inside.
pub fn iso8601(seconds: i64) -> String {
    const FIRST: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    OffsetDateTime::from_unix_timestamp(seconds.clamp(FIRST, LAST))
        .ok()
        .and_then(|at| at.format(&Rfc3339Format).ok())
        .unwrap_or_default()
}

/// Unix seconds of an RFC 3339 date-time as DRF's `DateTimeField` accepts it
/// (`2026-01-02T03:04:05Z`, fractional seconds and a `±HH:MM` offset allowed), or `None`.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let at = match text.strip_suffix(['Z', 'z']) {
        Some(utc) => PrimitiveDateTime::parse(
            utc,
            format_description!(
                "[year]-[month padding:none]-[day padding:none][first [T][ ]]\
                 [hour padding:none]:[minute padding:none]:[second padding:none][optional [.[subsecond]]]"
            ),
        )
        .ok()?
        .assume_utc(),
        None => OffsetDateTime::parse(
            text,
            format_description!(
                "[year]-[month padding:none]-[day padding:none][first [T][ ]]\
                 [hour padding:none]:[minute padding:none]:[second padding:none][optional [.[subsecond]]]\
                 [offset_hour sign:mandatory padding:none]:[offset_minute padding:none]"
            ),
        )
        .ok()?,
    };
    // Django's dates start at year 1 and its offsets stop short of a day; the instant must also be
    // one that `iso8601` can render.
    let in_range = at.year() >= 1 && at.offset().whole_hours().abs() <= 23;
    Some(at.checked_to_offset(UtcOffset::UTC).filter(|_| in_range)?.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_as_drf_reads_them() {
        for seconds in [0, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(parse_iso8601(&iso8601(seconds)), Some(seconds));
        }
        assert_eq!(parse_iso8601("2023-11-14T22:13:20.123Z"), Some(1_700_000_000));
        assert_eq!(parse_iso8601("2023-11-15T00:13:20+02:00"), Some(1_700_000_000));
        assert_eq!(parse_iso8601("2023-11-14T20:13:20-02:00"), Some(1_700_000_000));
        for bad in ["", "2023-11-14", "2023-11-14T22:13:20", "2023-02-30T00:00:00Z", "2023-11-14T24:00:00Z", "soon"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(iso8601(i64::MAX), "9999-12-31T23:59:59Z", "past four-digit years: the last one");
        assert_eq!(iso8601(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn datetimes_parse_with_django_leniency() {
        for text in ["2023-11-14 22:13:20z", "2023-11-14T22:13:20.123456789123Z", " 2023-11-14T22:13:20Z "] {
            assert_eq!(parse_iso8601(text), Some(1_700_000_000), "{text}");
        }
        assert_eq!(parse_iso8601("2023-1-2T3:4:5+2:0"), parse_iso8601("2023-01-02T01:04:05Z"));
        for bad in
            ["+2023-11-14T22:13:20Z", "0000-01-01T00:00:00Z", "2023-11-14T22:13:20+24:00", "9999-12-31T23:00:00-02:00"]
        {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetime_fields_serialize_as_rfc3339() {
        assert_eq!(serde_json::to_value(Rfc3339(1_700_000_000)).unwrap(), "2023-11-14T22:13:20Z");
    }
}
