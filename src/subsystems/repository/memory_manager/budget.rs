//! The memory budget: `--memory-limit SIZE` / `ELIXIRSCOPE_MEMORY_LIMIT`, and the pressure
//! levels measured against it.

use serde::Serialize;

/// Where the Monitor places the run's memory against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Level {
    Normal,
    /// At least [`ELEVATED`] of the limit: the caches are evicted.
    Elevated,
    /// At least [`CRITICAL`] of the limit: the batch narrows and records are spilled.
    Critical,
}

/// The share of the limit, in percent, at which each level starts.
pub(crate) const ELEVATED: u64 = 80;
pub(crate) const CRITICAL: u64 = 95;

impl Level {
    pub(crate) fn of(used: u64, limit: u64) -> Level {
        let percent = used.saturating_mul(100) / limit.max(1);
        if percent >= CRITICAL {
            Level::Critical
        } else if percent >= ELEVATED {
            Level::Elevated
        } else {
            Level::Normal
        }
    }

    pub(crate) fn as_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(value: u8) -> Level {
        match value {
            0 => Level::Normal,
            1 => Level::Elevated,
            _ => Level::Critical,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Level::Normal => "normal",
            Level::Elevated => "elevated",
            Level::Critical => "critical",
        }
    }
}

/// Reads a size: a whole number of bytes, or a number (decimals allowed) with a unit: `KiB`,
/// `MiB`, `GiB` or their short forms `K`, `M`, `G` (powers of 1024; a trailing `B` is
/// allowed, `512MB` is 512 MiB), case-insensitive.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let scale: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
            "cannot read the memory limit {text:?}: the unit must be KiB, MiB or GiB (or K, M, G)"
        ))
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("cannot read the memory limit {text:?}: expected a size such as 512MiB or 2G")
    })?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!(
            "cannot read the memory limit {text:?}: it must be more than zero"
        ));
    }
    Ok(bytes as u64)
}

/// A size for people: `1.5 GiB`, `48 MiB`, `900 KiB`.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if value >= 100.0 || (value.fract() * 10.0).round() == 0.0 {
                format!("{value:.0} {unit}")
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{bytes} B")
}

/// A size rounded up to whole MiB, as a limit one can pass back: `57MiB`.
pub(crate) fn as_limit(bytes: u64) -> String {
    format!("{}MiB", bytes.div_ceil(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_every_unit() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("512 M"), Ok(512 << 20));
        assert_eq!(parse_size("512mb"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        for bad in ["", "0", "-1M", "12 parsecs", "M", "1..2M"] {
            assert!(parse_size(bad).is_err(), "{bad:?} was read");
        }
    }

    #[test]
    fn levels_start_at_80_and_95_percent() {
        assert_eq!(Level::of(79, 100), Level::Normal);
        assert_eq!(Level::of(80, 100), Level::Elevated);
        assert_eq!(Level::of(94, 100), Level::Elevated);
        assert_eq!(Level::of(95, 100), Level::Critical);
        assert_eq!(Level::of(300, 100), Level::Critical);
        for level in [Level::Normal, Level::Elevated, Level::Critical] {
            assert_eq!(Level::from_u8(level.as_u8()), level);
        }
    }

    #[test]
    fn sizes_print_for_people_and_for_the_flag() {
        assert_eq!(human(48 << 20), "48 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(900), "900 B");
        assert_eq!(as_limit((56 << 20) + 1), "57MiB");
        assert_eq!(parse_size(&as_limit(12345678)), Ok(12 << 20));
    }
}
