//! Timestamps: millisecond precision everywhere (MongoDB stores milliseconds, so the embedded adapter
//! does too) and ISO-8601 `2026-01-31T12:00:00.000Z` strings on the wire, like JavaScript's `Date`.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// The current time, cut to milliseconds so both storage adapters round-trip it exactly.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A span of whole seconds, for lifetimes computed from constants.
pub fn seconds(count: i64) -> chrono::Duration {
    chrono::Duration::try_seconds(count).unwrap_or(chrono::Duration::zero())
}

/// A configured lifetime as a span to add to a time (one too long for chrono: the longest it has).
pub fn span(length: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX)
}

/// `2026-01-31T12:00:00.000Z`: sorts lexically in time order, which the SQLite adapter relies on.
pub fn to_iso(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn from_iso(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// serde adapter for `DateTime<Utc>` fields that travel as ISO-8601 strings.
pub mod iso {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::to_iso(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::from_iso(&text).ok_or_else(|| serde::de::Error::custom("expected an ISO-8601 date"))
    }
}

/// serde adapter for optional `DateTime<Utc>` fields (absent or `null` when unset).
pub mod iso_option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_str(&super::to_iso(at)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => super::from_iso(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected an ISO-8601 date")),
            None => Ok(None),
        }
    }
}

/// Parses a lifetime written like the seed's `.env` (`15m`, `7d`, `12h`, `30s`, or plain seconds).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds_per_unit = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    let seconds = number.checked_mul(seconds_per_unit)?;
    (seconds > 0).then(|| std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_in_the_seed_format_parse() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3_600)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7_200)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5 weeks"), None);
        assert_eq!(parse_duration("m"), None);
    }

    #[test]
    fn iso_strings_round_trip_at_millisecond_precision() {
        let at = now();
        let text = to_iso(&at);
        assert!(text.ends_with('Z') && text.len() == 24, "{text}");
        assert_eq!(from_iso(&text), Some(at));
    }
}
