//! A point in time, UTC, as plans carry it: AWS's CreationTimestamp of a copy, the plan's "now",
//! when a soaking placement becomes eligible. Serialized as RFC 3339 (`2026-11-24T09:30:00Z`).

use std::borrow::Cow;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant, to the second or finer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The system clock's now. Only the CLI's edges call this; planning takes "now" as input.
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// From epoch seconds and nanoseconds (how the SDK's `DateTime` holds it).
    pub fn from_epoch(seconds: i64, nanos: u32) -> Option<Self> {
        let at = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
        Some(Timestamp(
            at + time::Duration::nanoseconds(i64::from(nanos)),
        ))
    }

    /// From epoch milliseconds.
    pub fn from_epoch_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .map(Timestamp)
    }

    /// Parses RFC 3339 (`2026-11-24T09:30:00Z`), any offset, kept as UTC.
    pub fn parse_rfc3339(text: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(text, &Rfc3339).map(|t| Timestamp(t.to_offset(time::UtcOffset::UTC)))
    }

    /// This instant plus `d`, saturating at the largest representable time.
    pub fn plus(self, d: Duration) -> Self {
        let d = time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
        Timestamp(self.0.checked_add(d).unwrap_or(self.0))
    }

    /// RFC 3339, UTC; the fraction of a second only when there is one (never rounded: an
    /// "eligible after" time shown must not be earlier than the real one).
    pub fn rfc3339(self) -> String {
        self.0.format(&Rfc3339).unwrap_or_default()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.format(&Rfc3339).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An instant in RFC 3339, UTC (e.g. 2026-11-24T09:30:00Z)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_adds() {
        let t = Timestamp::parse_rfc3339("2026-11-23T09:30:00Z").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-23T09:30:00Z");
        let later = t.plus(Duration::from_secs(24 * 3600));
        assert_eq!(later.to_string(), "2026-11-24T09:30:00Z");
        assert!(later > t);
        let json = serde_json::to_string(&later).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), later);
        assert_eq!(
            Timestamp::from_epoch_millis(1_000).unwrap(),
            Timestamp::from_epoch(1, 0).unwrap()
        );
        let precise = Timestamp::from_epoch_millis(1_764_000_000_500).unwrap();
        assert_eq!(precise.to_string(), "2025-11-24T16:00:00.5Z");
        assert_eq!(
            Timestamp::parse_rfc3339(&precise.to_string()).unwrap(),
            precise
        );
    }
}
