//! The machine's CPU time while a run sends and drains, from `/proc/stat`: how busy the cores
//! were, how much the hypervisor kept for others (steal), and what every committed transfer cost
//! the whole machine (generator, switch and a local database server together; against a remote
//! target, the generator's machine alone). On a virtual machine whose speed drifts these say
//! whether two runs are comparable.

use serde_json::{json, Value};

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on x86-64 and ARM64.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// The machine's CPU time so far per kind, in ticks: `/proc/stat`'s `cpu` line. Guest time is
/// already counted in user time there, so it is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    user: u64,
    nice: u64,
    system: u64,
    idle: u64,
    iowait: u64,
    irq: u64,
    softirq: u64,
    steal: u64,
}

impl CpuTimes {
    /// Now; `None` where `/proc/stat` is missing or unreadable (not Linux).
    pub fn read() -> Option<CpuTimes> {
        CpuTimes::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The `cpu` line of a `/proc/stat` text (the first eight of its counters).
    pub fn parse(stat: &str) -> Option<CpuTimes> {
        let line = stat.lines().find(|it| it.starts_with("cpu "))?;
        let counters: Vec<u64> = line.split_whitespace().skip(1).map(|it| it.parse().ok()).collect::<Option<_>>()?;
        let &[user, nice, system, idle, iowait, irq, softirq, steal] = counters.get(..8)? else { return None };
        Some(CpuTimes { user, nice, system, idle, iowait, irq, softirq, steal })
    }
}

/// How the machine's CPU time between two readings was spent: shares of all of it (all cores),
/// and the busy time in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUsage {
    pub busy_share: f64,
    pub user_share: f64,
    /// Kernel time, interrupts included.
    pub system_share: f64,
    pub iowait_share: f64,
    pub steal_share: f64,
    pub idle_share: f64,
    pub busy_s: f64,
}

impl CpuUsage {
    /// The usage from `before` to `after`; `None` when no time passed between them.
    pub fn between(before: CpuTimes, after: CpuTimes) -> Option<CpuUsage> {
        let spent = |from: u64, to: u64| to.saturating_sub(from) as f64;
        let user = spent(before.user, after.user) + spent(before.nice, after.nice);
        let system = spent(before.system, after.system) + spent(before.irq, after.irq) + spent(before.softirq, after.softirq);
        let idle = spent(before.idle, after.idle);
        let iowait = spent(before.iowait, after.iowait);
        let steal = spent(before.steal, after.steal);
        let total = user + system + idle + iowait + steal;
        if total == 0.0 {
            return None;
        }
        Some(CpuUsage {
            busy_share: (user + system) / total,
            user_share: user / total,
            system_share: system / total,
            iowait_share: iowait / total,
            steal_share: steal / total,
            idle_share: idle / total,
            busy_s: (user + system) / TICKS_PER_SECOND,
        })
    }

    /// Busy CPU time per committed transfer, in ms; `None` without a committed transfer.
    pub fn ms_per_transfer(&self, committed: u64) -> Option<f64> {
        (committed > 0).then(|| self.busy_s * 1e3 / committed as f64)
    }

    /// The `machine.cpu_during_run` object of `result.json`.
    pub fn to_json(&self, committed: u64) -> Value {
        let share = |it: f64| (it * 1e3).round() / 1e3;
        json!({
            "busy_share": share(self.busy_share),
            "user_share": share(self.user_share),
            "system_share": share(self.system_share),
            "iowait_share": share(self.iowait_share),
            "steal_share": share(self.steal_share),
            "idle_share": share(self.idle_share),
            "busy_cpu_s": self.busy_s,
            "busy_cpu_ms_per_committed_transfer": self.ms_per_transfer(committed),
        })
    }

    /// One line for the end of a run.
    pub fn text(&self, committed: u64) -> String {
        let per_transfer = self.ms_per_transfer(committed).map_or(String::new(), |it| format!(", {it:.2} ms of CPU per committed transfer"));
        format!(
            "machine CPU while sending and draining: {:.0}% busy ({:.0}% user, {:.0}% system), {:.0}% iowait, {:.0}% steal{per_transfer}\n",
            self.busy_share * 100.0,
            self.user_share * 100.0,
            self.system_share * 100.0,
            self.iowait_share * 100.0,
            self.steal_share * 100.0,
        )
    }
}

/// This process's CPU time so far, user and system, all threads (`/proc/self/stat`); `None`
/// where it cannot be read.
pub fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do
    // not. utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = after_name.split(' ').skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT_BEFORE: &str = "cpu  1000 0 200 5000 10 0 40 0 0 0\ncpu0 500 0 100 2500 5 0 20 0 0 0\nintr 1 2 3\n";
    const STAT_AFTER: &str = "cpu  1600 100 400 5400 60 0 100 140 0 0\ncpu0 800 50 200 2700 30 0 50 70 0 0\nintr 1 2 3\n";

    #[test]
    fn the_cpu_line_is_read_and_split_into_shares() {
        let before = CpuTimes::parse(STAT_BEFORE).unwrap();
        let after = CpuTimes::parse(STAT_AFTER).unwrap();
        let usage = CpuUsage::between(before, after).unwrap();
        // user 600 + nice 100, system 200 + softirq 60, idle 400, iowait 50, steal 140: 1,550.
        assert!((usage.user_share - 700.0 / 1550.0).abs() < 1e-12);
        assert!((usage.system_share - 260.0 / 1550.0).abs() < 1e-12);
        assert!((usage.steal_share - 140.0 / 1550.0).abs() < 1e-12);
        let sum = usage.busy_share + usage.iowait_share + usage.steal_share + usage.idle_share;
        assert!((sum - 1.0).abs() < 1e-12, "the shares cover all the time: {sum}");
        assert!((usage.busy_s - 9.6).abs() < 1e-9);
        assert_eq!(usage.ms_per_transfer(4_800), Some(2.0));
        assert_eq!(usage.ms_per_transfer(0), None);
        assert_eq!(usage.to_json(4_800)["steal_share"], json!(0.09));
    }

    #[test]
    fn anything_but_a_whole_cpu_line_reads_as_nothing() {
        assert_eq!(CpuTimes::parse("cpu0 1 2 3 4 5 6 7 8\n"), None);
        assert_eq!(CpuTimes::parse("cpu  1 2 3 4 5 6 7\n"), None);
        assert_eq!(CpuTimes::parse("cpu  1 2 x 4 5 6 7 8\n"), None);
        let same = CpuTimes::parse(STAT_BEFORE).unwrap();
        assert_eq!(CpuUsage::between(same, same), None);
    }

    #[test]
    fn this_machine_and_process_report_growing_cpu_time() {
        let (machine, process) = (CpuTimes::read().unwrap(), process_cpu_s().unwrap());
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        // Bounded by wall time only so a broken reading fails instead of hanging; on a busy
        // machine the spinning thread may get a fraction of a core.
        while process_cpu_s().unwrap() - process < 0.2 && started.elapsed() < std::time::Duration::from_secs(30) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        assert!(process_cpu_s().unwrap() - process >= 0.2, "30 s of spinning counted as under 200 ms of CPU");
        let usage = CpuUsage::between(machine, CpuTimes::read().unwrap()).unwrap();
        assert!(usage.busy_s >= 0.2, "the machine counted {} s busy", usage.busy_s);
    }
}
