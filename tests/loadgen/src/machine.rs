//! The machine's CPU time while a run sends and drains, from `/proc/stat`: how busy the cores
//! were, how much the hypervisor kept for others (steal), and what every committed transfer cost
//! the whole machine (generator, switch and a local database server together; against a remote
//! target, the generator's machine alone). On a virtual machine whose speed drifts these say
//! whether two runs are comparable.
//!
//! A reference piece of work gives the figures a unit that drifts with the machine: the busy CPU
//! per transfer counted in JSON round trips of a transfer's body, which the switch does all the
//! time. It is timed once on the idle machine before sending starts, and sampled through the run
//! on a thread of its own in that thread's CPU time, so the samples count how fast a second of
//! CPU was while the switch ran (the machine's speed moved by a third within seconds on the
//! development machine), not how long the thread waited for a core.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Round trips timed together on the idle machine: long enough (tens of ms) for the clock.
pub const REFERENCE_ROUND_TRIPS: u32 = 2_000;
/// Times the idle timing runs; the fastest counts, as the one the rest of the machine
/// disturbed least.
pub const REFERENCE_REPEATS: u32 = 5;
/// Round trips per sample during a run: about a millisecond of CPU, a thousandth of a core.
pub const REFERENCE_SAMPLE_ROUND_TRIPS: u32 = 200;
/// How often the reference work is sampled during a run.
pub const REFERENCE_SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// A `POST /transfers` body as DFSPs send it, for the reference work.
const REFERENCE_BODY: &str = r#"{"transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069","payerFsp":"dfsp-payer","payeeFsp":"dfsp-payee","amount":{"amount":"100.25","currency":"USD"},"ilpPacket":"AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNlOiB1SXlweUYzY3pYSXBFdzVVc05TYWh3CkVuY3J5cHRpb246IG5vbmUKUGF5bWVudC1JZDogMTMyMzZhM2ItOGZhOC00MTYzLTg0NDctNGMzZWQzZGE5OGE3CgpDb250ZW50LUxlbmd0aDogMTM1CkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vanNvbgpTZW5kZXItSWRlbnRpZmllcjogOTI4MDYzOTEKCiJ7XCJmZWVcIjowLFwidHJhbnNmZXJDb2RlXCI6XCJpbnZvaWNlXCIsXCJkZWJpdE5hbWVcIjpcImFsaWNlIGNvb3BlclwiLFwiY3JlZGl0TmFtZVwiOlwibWVyIGNoYW50XCIsXCJkZWJpdElkZW50aWZpZXJcIjpcIjkyODA2MzkxXCJ9IgA","condition":"f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA","expiration":"2026-11-23T12:00:00.000Z","extensionList":{"extension":[{"key":"note","value":"reference"}]}}"#;

/// How long one JSON round trip (parse into a value, render back to text) of a transfer's body
/// takes on one core of this machine now, in µs: the fastest of [`REFERENCE_REPEATS`] timings of
/// [`REFERENCE_ROUND_TRIPS`] each.
pub fn reference_round_trip_us() -> f64 {
    (0..REFERENCE_REPEATS).map(|_| time_round_trips(REFERENCE_ROUND_TRIPS)).min().unwrap_or_default().as_secs_f64()
        * 1e6
        / f64::from(REFERENCE_ROUND_TRIPS)
}

fn time_round_trips(n: u32) -> Duration {
    let started = Instant::now();
    round_trips(n);
    started.elapsed()
}

fn round_trips(n: u32) {
    for _ in 0..n {
        let value: Value = serde_json::from_str(std::hint::black_box(REFERENCE_BODY)).unwrap_or_default();
        std::hint::black_box(value.to_string());
    }
}

/// The calling thread's CPU time so far in ns, from its CPU clock; `None` where it cannot be
/// read. (`/proc/thread-self/schedstat` is only brought up to date when the thread is
/// descheduled or at a tick, too coarse for a sample of a millisecond.)
fn thread_cpu_ns() -> Option<u64> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec for the call to write.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (read == 0).then(|| now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
}

/// One sample: µs of this thread's CPU per round trip over [`REFERENCE_SAMPLE_ROUND_TRIPS`].
fn sample_round_trip_cpu_us() -> Option<f64> {
    let before = thread_cpu_ns()?;
    round_trips(REFERENCE_SAMPLE_ROUND_TRIPS);
    let spent = thread_cpu_ns()?.checked_sub(before)?;
    Some(spent as f64 / 1e3 / f64::from(REFERENCE_SAMPLE_ROUND_TRIPS))
}

/// Samples the reference work every [`REFERENCE_SAMPLE_EVERY`] on a thread of its own until
/// stopped.
pub struct ReferenceSampler {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Vec<f64>>,
}

impl ReferenceSampler {
    pub fn start() -> ReferenceSampler {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(REFERENCE_SAMPLE_EVERY) {
                samples.extend(sample_round_trip_cpu_us());
            }
            samples
        });
        ReferenceSampler { stop, thread }
    }

    /// The samples taken, in µs of CPU per round trip.
    pub fn stop(self) -> Vec<f64> {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_default()
    }
}

/// The reference work's timings for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// µs per round trip on the idle machine before sending started.
    pub idle_us: f64,
    /// µs of CPU per round trip, sampled through the run.
    pub during_run_us: Vec<f64>,
}

impl Reference {
    /// The median of the samples during the run; the idle timing when there are none.
    pub fn round_trip_us(&self) -> f64 {
        let mut sorted = self.during_run_us.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => self.idle_us,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    /// The fastest and slowest sample during the run; `None` when there are none.
    fn sample_range(&self) -> Option<(f64, f64)> {
        let samples = self.during_run_us.iter().copied();
        samples.clone().reduce(f64::min).zip(samples.reduce(f64::max))
    }

    /// The machine's busy CPU per committed transfer in round trips at [`Self::round_trip_us`];
    /// `None` without a committed transfer.
    pub fn round_trips_per_transfer(&self, usage: &CpuUsage, committed: u64) -> Option<f64> {
        let round_trip_ms = self.round_trip_us() / 1e3;
        usage.ms_per_transfer(committed).filter(|_| 0.0 < round_trip_ms).map(|ms| ms / round_trip_ms)
    }

    /// The `machine.reference` object of `result.json`.
    pub fn to_json(&self, usage: Option<&CpuUsage>, committed: u64) -> Value {
        let round = |it: f64| (it * 100.0).round() / 100.0;
        let range = self.sample_range();
        json!({
            "work": "one JSON round trip of a POST /transfers body",
            "round_trip_us_idle_before_run": round(self.idle_us),
            "round_trip_cpu_us_during_run": {
                "median": round(self.round_trip_us()),
                "min": range.map(|(min, _)| round(min)),
                "max": range.map(|(_, max)| round(max)),
                "samples": self.during_run_us.len(),
            },
            "busy_cpu_per_committed_transfer_in_round_trips": usage.and_then(|it| self.round_trips_per_transfer(it, committed)).map(round),
        })
    }

    /// One line for the end of a run.
    pub fn text(&self, usage: Option<&CpuUsage>, committed: u64) -> String {
        let per_transfer = usage
            .and_then(|it| self.round_trips_per_transfer(it, committed))
            .map_or(String::new(), |it| format!("; a committed transfer's CPU is {it:.0} of them"));
        let spread = self.sample_range().map_or(String::new(), |(min, max)| {
            format!(" (median of {} samples, {min:.1}–{max:.1})", self.during_run_us.len())
        });
        format!(
            "reference work (one JSON round trip of a transfer's body): {:.1} µs on the idle machine before the run, {:.1} µs of CPU during it{spread}{per_transfer}\n",
            self.idle_us,
            self.round_trip_us()
        )
    }
}

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
        let system =
            spent(before.system, after.system) + spent(before.irq, after.irq) + spent(before.softirq, after.softirq);
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
        let per_transfer = self
            .ms_per_transfer(committed)
            .map_or(String::new(), |it| format!(", {it:.2} ms of CPU per committed transfer"));
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
    const STAT_AFTER: &str =
        "cpu  1600 100 400 5400 60 0 100 140 0 0\ncpu0 800 50 200 2700 30 0 50 70 0 0\nintr 1 2 3\n";

    #[test]
    fn the_reference_work_is_timed_and_counts_a_transfers_cpu_in_round_trips() {
        let us = reference_round_trip_us();
        assert!(0.0 < us && us < 10_000.0, "{us} µs per round trip");
        let value: Value = serde_json::from_str(REFERENCE_BODY).unwrap();
        assert_eq!(value["amount"]["amount"], "100.25", "the reference body is a transfer's");
        let usage =
            CpuUsage::between(CpuTimes::parse(STAT_BEFORE).unwrap(), CpuTimes::parse(STAT_AFTER).unwrap()).unwrap();
        // 9.6 s of busy CPU over 4,800 transfers: 2 ms each, 100 round trips of 20 µs.
        let reference = Reference { idle_us: 15.0, during_run_us: vec![24.0, 18.0, 20.0] };
        assert_eq!(reference.round_trip_us(), 20.0, "the median");
        assert_eq!(reference.round_trips_per_transfer(&usage, 4_800), Some(100.0));
        assert_eq!(reference.round_trips_per_transfer(&usage, 0), None);
        let json = reference.to_json(Some(&usage), 4_800);
        assert_eq!(json["busy_cpu_per_committed_transfer_in_round_trips"], 100.0);
        assert_eq!(
            json["round_trip_cpu_us_during_run"],
            serde_json::json!({ "median": 20.0, "min": 18.0, "max": 24.0, "samples": 3 })
        );
        assert!(reference.text(Some(&usage), 4_800).contains("15.0 µs on the idle machine before the run, 20.0 µs of CPU during it (median of 3 samples, 18.0–24.0); a committed transfer's CPU is 100 of them"));
        assert_eq!(
            Reference { idle_us: 15.0, during_run_us: vec![] }.round_trip_us(),
            15.0,
            "no samples: the idle timing"
        );
    }

    #[test]
    fn the_sampler_takes_one_sample_a_second_in_thread_cpu_time() {
        let sampler = ReferenceSampler::start();
        std::thread::sleep(REFERENCE_SAMPLE_EVERY * 2 + REFERENCE_SAMPLE_EVERY / 2);
        let samples = sampler.stop();
        assert_eq!(samples.len(), 2, "{samples:?}");
        // A round trip's CPU cannot be less than a tenth of its fastest wall time (a coarse
        // clock gave samples of 0).
        let floor = reference_round_trip_us() / 10.0;
        assert!(samples.iter().all(|it| floor < *it && *it < 10_000.0), "{samples:?} µs, idle {} µs", floor * 10.0);
    }

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
        // The machine's counters are sampled at each tick while a process's time is exact, and
        // the other tests' threads add to the process's, so over a short stretch the machine's
        // may come out a little lower; half is still growth.
        let usage = CpuUsage::between(machine, CpuTimes::read().unwrap()).unwrap();
        assert!(usage.busy_s >= 0.1, "the machine counted {} s busy", usage.busy_s);
    }
}
