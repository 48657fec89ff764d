//! The memory guard: how much memory a run may take, and the refusal, before anything
//! starts, of a run whose outcomes would not fit.

use super::error::{Error, Message, Result, Setting, message};

/// Parses a memory size: bytes, or a number with K, M, G or T (powers of 1024; "KiB",
/// "MB" and the like are read the same way).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size such as 512M or 4G"))?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("\"{text}\": unknown unit; use K, M, G or T")),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("\"{text}\" is not a positive size"));
    }
    Ok(bytes.min(u64::MAX as f64) as u64)
}

/// Refuses a run of `trials` trials at `per_trial` bytes each if it needs more than
/// `max_memory` (or half this machine's memory); `advice` says how to ask for less.
pub(super) fn check(
    max_memory: Option<u64>,
    trials: u64,
    per_trial: u64,
    advice: Message,
) -> Result<()> {
    let needed = trials.saturating_mul(per_trial);
    let (limit, whose) = allowed(max_memory);
    if needed > limit {
        return Err(Error::request(message![
            format!(
                "{trials} trials of this scenario need about {} MiB, more than the {} MiB \
                 allowed (",
                needed.div_ceil(1 << 20),
                limit >> 20
            ),
            whose,
            "); ",
            advice,
            ", or raise ",
            Setting::MaxMemory,
        ]));
    }
    Ok(())
}

/// The memory a run may take, and who set that limit.
pub(super) fn allowed(max_memory: Option<u64>) -> (u64, Message) {
    match max_memory {
        Some(bytes) => (bytes, message!["set by ", Setting::MaxMemory]),
        None => (memory_limit(), "half this machine's memory".into()),
    }
}

/// Half of this machine's memory (from /proc/meminfo), or 8 GiB where that cannot be read.
fn memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    total.map_or(8 << 30, |bytes| bytes / 2)
}
