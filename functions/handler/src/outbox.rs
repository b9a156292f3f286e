//! What a function hands back: the events to publish once its transaction has committed, and
//! the events it could not process at all (dead letters), never half of either.

use ledger_core::ids::AccountId;

use crate::envelope::Envelope;

/// Where an emitted event goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The position hub, keyed by the account whose position changes, so one partition
    /// serialises each account.
    Position { account: AccountId },
    /// The notification hub (callbacks to DFSPs).
    Notification,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    pub route: Route,
    pub envelope: Envelope,
}

/// An event that cannot be processed, kept with the reason instead of being retried forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub body: String,
    pub reason: String,
}

/// Everything one invocation produced, in emission order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub emitted: Vec<Emitted>,
    pub dead_letters: Vec<DeadLetter>,
}

impl Report {
    /// Reads a batch of event bodies; an unreadable one becomes a dead letter and the rest go on.
    pub fn read_envelopes(&mut self, bodies: &[String]) -> Vec<Envelope> {
        let mut envelopes = Vec::with_capacity(bodies.len());
        for body in bodies {
            match Envelope::from_json(body) {
                Ok(envelope) => envelopes.push(envelope),
                Err(err) => self.dead_letter(body, err.to_string()),
            }
        }
        envelopes
    }

    pub fn emit(&mut self, route: Route, envelope: Envelope) {
        self.emitted.push(Emitted { route, envelope });
    }

    /// Appends another report's events and dead letters after this one's.
    pub fn absorb(&mut self, other: Report) {
        self.emitted.extend(other.emitted);
        self.dead_letters.extend(other.dead_letters);
    }

    pub fn dead_letter(&mut self, body: &str, reason: impl Into<String>) {
        self.dead_letters.push(DeadLetter { body: body.to_string(), reason: reason.into() });
    }
}
