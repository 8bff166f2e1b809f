//! What the load tools read of a server process from Linux's `/proc`: its memory (`VmRSS`,
//! `VmHWM` of `/proc/PID/status`) and its CPU time (`/proc/PID/stat`). One reader for the
//! soak's memory samples, the bench's CPU per request and its peak memory.

use anyhow::{Context as _, Result};

/// A `kB` line of `/proc/PID/status`, such as `VmRSS` (resident now) or `VmHWM` (peak
/// resident since start), in KiB.
pub fn memory_kib(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status_kib(&status, field).with_context(|| format!("no {field} in {path}"))
}

/// The value of the `FIELD:   1234 kB` line of a `/proc/PID/status` text.
pub fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// User plus system CPU time of process `pid` so far, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let ticks = cpu_ticks(&stat).with_context(|| format!("parsing {path}"))?;
    // Linux reports in USER_HZ, 100 per second on every architecture it runs on.
    Ok(ticks as f64 / 100.0)
}

/// `utime + stime` of a `/proc/PID/stat` line, in clock ticks.
fn cpu_ticks(stat: &str) -> Result<u64> {
    // The command name may hold spaces and parentheses; the fields after its last `)` do not.
    let after_name = stat.rfind(')').context("no command name")?;
    let fields: Vec<&str> = stat[after_name + 1..].split_whitespace().collect();
    // Fields 14 and 15 of proc(5); the state (field 3) is the first after the name.
    let field = |n: usize| -> Result<u64> {
        let value = fields.get(n - 3).with_context(|| format!("no field {n}"))?;
        value
            .parse()
            .with_context(|| format!("field {n}: {value:?}"))
    };
    Ok(field(14)? + field(15)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_fields_are_read_by_name_in_kib() {
        let status = "Name:\tapi\nVmPeak:\t  9000 kB\nVmHWM:\t    4321 kB\nVmRSS:\t 4000 kB\n";

        assert_eq!(status_kib(status, "VmHWM"), Some(4321));
        assert_eq!(status_kib(status, "VmRSS"), Some(4000));
        assert_eq!(status_kib("Name:\tapi\n", "VmHWM"), None);
    }

    #[test]
    fn cpu_time_is_utime_plus_stime_after_the_command_name() {
        let stat = "4242 (api (worker) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 123 45 0 0 20 0 3 0 100 0 0";

        assert_eq!(cpu_ticks(stat).expect("parses"), 168);
        assert!(cpu_ticks("4242 (api) S 1").is_err());
    }
}
