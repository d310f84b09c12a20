//! The memory budget: how much one mixplore process plans to use, worked out from the machine
//! (its available memory) rather than fixed, so that a request beyond it is refused with a
//! message at once instead of swapping the machine to a halt or being killed. Read by the
//! engine's limits ([`crate::em::limits`]), the CSV loader and the explorer's history.

/// Where the budget comes from when /proc/meminfo cannot be read (not Linux, or no /proc):
/// an amount any machine that runs mixplore can be expected to spare.
const FALLBACK_AVAILABLE_BYTES: u64 = 8 << 30;

/// The environment variable that, set to a number of bytes, replaces the budget worked out from
/// the machine (for tests, and for sharing a machine).
pub const BUDGET_VARIABLE: &str = "MIXPLORE_MEMORY_BUDGET";

/// The memory one mixplore process plans to use for its data, fit and history: half of the
/// machine's available memory when it starts (`MemAvailable` in /proc/meminfo, or 8 GiB when
/// that cannot be read), so that a request beyond it fails at once with a message instead of
/// swapping the machine to a halt or being killed. Read once per process.
pub fn memory_budget() -> u64 {
    budget().0
}

/// The budget and whether it was set by [`BUDGET_VARIABLE`] (else it is the machine's).
fn budget() -> (u64, bool) {
    static BUDGET: std::sync::OnceLock<(u64, bool)> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        if let Some(bytes) = std::env::var(BUDGET_VARIABLE)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
        {
            return (bytes.max(1), true);
        }
        let available = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| mem_available(&text))
            .unwrap_or(FALLBACK_AVAILABLE_BYTES);
        ((available / 2).max(1), false)
    })
}

/// `MemAvailable` in bytes from the text of /proc/meminfo (given there in KiB).
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// How the budget is named in refusals: "11.2 GiB, half of this machine's available memory".
pub fn describe_budget() -> String {
    let (bytes, from_variable) = budget();
    if from_variable {
        format!(
            "{} set by {BUDGET_VARIABLE}",
            human_bytes(u128::from(bytes))
        )
    } else {
        format!(
            "{}, half of this machine's available memory (set {BUDGET_VARIABLE} to change it)",
            human_bytes(u128::from(bytes))
        )
    }
}

/// A byte count in binary units with one decimal ("1.5 GiB").
pub fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS.get(unit).copied().unwrap_or("EiB"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_memory_is_read_from_meminfo() {
        let meminfo =
            "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(mem_available(meminfo), Some(22_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots kB\n"), None);
    }

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(4 << 30), "4.0 GiB");
    }
}
