//! Fault injection for tests and demonstrations: kill the handler at a chosen point, deliver
//! batches twice, delay a partition. (Failing DFSP endpoints are the simulators' business, see
//! `simulator`.) Faults can be set at start (`up --fault ...`) and changed while running.
//!
//! Crash points inside the handler are passed to it as `SWITCH_FAULT_CRASH`, which
//! `plumbing::fault` reads: `<function>:<point>:<nth>`, e.g. `position:after-commit:3` aborts the
//! process on the third position batch right after its transaction committed and before it
//! publishes anything.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

/// The faults in force.
#[derive(Debug, Default)]
pub struct Faults {
    state: RwLock<FaultState>,
}

#[derive(Debug, Default, Clone)]
struct FaultState {
    /// Functions whose every batch is delivered a second time before the checkpoint.
    redeliver: Vec<String>,
    /// Extra wait before each batch of a partition, keyed by `hub/partition`.
    delays: HashMap<String, Duration>,
    /// Passed to the handler process at its next start.
    handler_crash: Option<String>,
}

/// A fault given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `redeliver:<function>`
    Redeliver(String),
    /// `delay:<hub>/<partition>:<milliseconds>`
    Delay { hub: String, partition: u32, by: Duration },
    /// `crash:<function>:<before-commit|after-commit>:<nth>`
    Crash(String),
}

impl Fault {
    /// Parses the `--fault` syntax above.
    pub fn parse(text: &str) -> Result<Fault, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| format!("fault `{text}`: expected <kind>:<details>"))?;
        match kind {
            "redeliver" if !rest.is_empty() => Ok(Fault::Redeliver(rest.to_string())),
            "delay" => {
                let (target, ms) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("fault `{text}`: expected delay:<hub>/<partition>:<ms>"))?;
                let (hub, partition) =
                    target.split_once('/').ok_or_else(|| format!("fault `{text}`: expected <hub>/<partition>"))?;
                let partition = partition.parse().map_err(|_| format!("fault `{text}`: bad partition"))?;
                let ms: u64 = ms.parse().map_err(|_| format!("fault `{text}`: bad milliseconds"))?;
                Ok(Fault::Delay { hub: hub.to_string(), partition, by: Duration::from_millis(ms) })
            }
            "crash" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let valid = parts.len() == 3
                    && matches!(parts[1], "before-commit" | "after-commit")
                    && parts[2].parse::<u32>().is_ok_and(|n| n > 0);
                if !valid {
                    return Err(format!(
                        "fault `{text}`: expected crash:<function>:<before-commit|after-commit>:<nth>"
                    ));
                }
                Ok(Fault::Crash(rest.to_string()))
            }
            _ => Err(format!("fault `{text}`: unknown kind `{kind}` (redeliver, delay, crash)")),
        }
    }
}

impl Faults {
    pub fn set(&self, fault: Fault) {
        let mut state = self.state.write().unwrap_or_else(|it| it.into_inner());
        match fault {
            Fault::Redeliver(function) => state.redeliver.push(function),
            Fault::Delay { hub, partition, by } => {
                state.delays.insert(format!("{hub}/{partition}"), by);
            }
            Fault::Crash(spec) => state.handler_crash = Some(spec),
        }
    }

    /// Removes every fault.
    pub fn clear(&self) {
        *self.state.write().unwrap_or_else(|it| it.into_inner()) = FaultState::default();
    }

    pub fn redelivers(&self, function: &str) -> bool {
        self.read().redeliver.iter().any(|it| it == function)
    }

    pub fn delay(&self, hub: &str, partition: u32) -> Option<Duration> {
        self.read().delays.get(&format!("{hub}/{partition}")).copied()
    }

    /// The crash point to hand the next handler process, taken so a restarted handler runs clean.
    pub fn take_handler_crash(&self) -> Option<String> {
        self.state.write().unwrap_or_else(|it| it.into_inner()).handler_crash.take()
    }

    fn read(&self) -> FaultState {
        self.state.read().unwrap_or_else(|it| it.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(Fault::parse("redeliver:position"), Ok(Fault::Redeliver("position".into())));
        assert_eq!(
            Fault::parse("delay:transfer-position/2:250"),
            Ok(Fault::Delay { hub: "transfer-position".into(), partition: 2, by: Duration::from_millis(250) })
        );
        assert_eq!(Fault::parse("crash:prepare:after-commit:1"), Ok(Fault::Crash("prepare:after-commit:1".into())));
        for bad in [
            "",
            "redeliver:",
            "delay:hub:1",
            "delay:hub/x:1",
            "crash:prepare:later:1",
            "crash:prepare:after-commit:0",
            "boom:x",
        ] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_crash_point_is_handed_out_once() {
        let faults = Faults::default();
        faults.set(Fault::Crash("fulfil:before-commit:2".into()));
        assert_eq!(faults.take_handler_crash().as_deref(), Some("fulfil:before-commit:2"));
        assert_eq!(faults.take_handler_crash(), None);
    }
}
