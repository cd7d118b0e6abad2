//! Duration flags: one parser for every flag that takes a time span, each with an upper bound.
//!
//! Unbounded spans overflow where they are added to an instant (`500000000000years` made `apply`
//! panic), and no real wait needs more than days. [`at_most`] and [`millis_at_most`] build
//! clap value parsers; a value above the bound is a usage error (exit 2) that clap shows with
//! the flag's name, and the message names the bound. What a flag's span means is its command's
//! business.

use std::time::Duration;

/// The bound of `apply --timeout`: a week is far beyond any copy.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// The bound of the sandbox's injected latencies: beyond it every SDK call would time out.
pub const MAX_LATENCY: Duration = Duration::from_secs(10 * 60);
/// The bound of the sandbox's (and demo's) simulated copy time.
pub const MAX_COPY_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Parses `text` as a span (`30m`, `1h 30m`, `2days`; with `bare` set, a bare number counts in
/// that unit), refusing one longer than `max`.
fn parse(text: &str, max: Duration, bare: Option<fn(u64) -> Duration>) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match (bare, text.parse::<u64>()) {
        (Some(unit), Ok(n)) => unit(n),
        _ => humantime::parse_duration(text).map_err(|e| match bare {
            Some(_) => format!("{e} (a number of milliseconds, or a span such as 500ms or 2s)"),
            None => format!("{e} (a span such as 90s, 30m, 2h or 1day)"),
        })?,
    };
    if duration > max {
        return Err(format!(
            "{} is longer than the maximum of {}",
            humantime::format_duration(duration),
            humantime::format_duration(max)
        ));
    }
    Ok(duration)
}

/// A clap value parser for a span (`30m`) of at most `max`.
pub fn at_most(max: Duration) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync {
    move |text| parse(text, max, None)
}

/// A clap value parser for a flag counted in milliseconds (a bare number, or a span such as
/// `2s`) of at most `max`, as the flag's integer type.
pub fn millis_at_most(max: Duration) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync {
    move |text| {
        parse(text, max, Some(Duration::from_millis))
            .map(|d| u64::try_from(d.as_millis()).expect("bounded by max"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_up_to_the_bound_parse_and_longer_ones_are_refused_with_the_bound() {
        let timeout = at_most(MAX_TIMEOUT);
        assert_eq!(timeout("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(timeout("7days"), Ok(MAX_TIMEOUT));
        let error = timeout("500000000000years").unwrap_err();
        assert!(error.contains("maximum of 7days"), "{error}");
        assert!(timeout("8days").unwrap_err().contains("7days"));
        assert!(timeout("soon").unwrap_err().contains("30m"));
        assert!(timeout("30").is_err(), "a timeout needs a unit");

        let latency = millis_at_most(MAX_LATENCY);
        assert_eq!(latency("250"), Ok(250));
        assert_eq!(latency("2s"), Ok(2000));
        assert!(latency("18446744073709551615").unwrap_err().contains("10m"));
    }
}
