//! Transfer ids, DFSP names, and conditions.
//!
//! A transfer id is a version-4 UUID whose first 76 bits are random per run and whose last 48 bits
//! are the transfer's index in the run, so a callback finds its transfer from the URL alone,
//! without any lookup table shared with the sender, and ids of two runs never collide.
//!
//! Conditions come from a secret the simulated DFSPs share, exactly as the local emulator's
//! simulators derive them ([`IlpSecret`]); the payee derives the fulfilment from the ILP packet
//! it receives.

pub use local_emulator::simulator::ilp_packet;
use local_emulator::simulator::IlpSecret;

use crate::options::TRANSFERS_MAX;

/// Characters of a transfer id (a hyphenated UUID).
const TRANSFER_ID_CHARS: usize = 36;
/// Characters of the id's last group, which carries the index.
const INDEX_CHARS: usize = 12;

/// The run's id prefix and condition secret.
#[derive(Debug, Clone)]
pub struct RunIds {
    /// The first 24 characters of every transfer id of this run (`xxxxxxxx-xxxx-4xxx-8xxx-`).
    prefix: String,
    secret: IlpSecret,
}

impl RunIds {
    pub fn new() -> RunIds {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let prefix = format!("{}-{}-4{}-8{}-", &random[0..8], &random[8..12], &random[12..15], &random[15..18]);
        assert_eq!(prefix.len(), TRANSFER_ID_CHARS - INDEX_CHARS);
        RunIds { prefix, secret: IlpSecret::new() }
    }

    /// The id of transfer `index`.
    pub fn transfer_id(&self, index: u64) -> String {
        assert!(index < TRANSFERS_MAX);
        let id = format!("{}{index:012x}", self.prefix);
        debug_assert_eq!(id.len(), TRANSFER_ID_CHARS);
        id
    }

    /// The index of a transfer id of this run; `None` for anyone else's id.
    pub fn index_of(&self, transfer_id: &str) -> Option<u64> {
        if transfer_id.len() != TRANSFER_ID_CHARS || !transfer_id.starts_with(&self.prefix) {
            return None;
        }
        u64::from_str_radix(&transfer_id[TRANSFER_ID_CHARS - INDEX_CHARS..], 16).ok()
    }

    /// The fulfilment for a transfer carrying `ilp_packet`, base64url.
    pub fn fulfilment(&self, ilp_packet: &str) -> String {
        self.secret.fulfilment(ilp_packet).to_base64url()
    }

    /// The condition for a transfer carrying `ilp_packet`, base64url.
    pub fn condition(&self, ilp_packet: &str) -> String {
        self.secret.fulfilment(ilp_packet).condition().to_base64url()
    }
}

impl Default for RunIds {
    fn default() -> RunIds {
        RunIds::new()
    }
}

/// The simulated DFSPs' names: `prefix` and a three-digit (or longer) number.
#[derive(Debug, Clone)]
pub struct DfspNames {
    prefix: String,
    names: Vec<String>,
}

impl DfspNames {
    pub fn new(prefix: &str, n: u32) -> DfspNames {
        let names = (0..n).map(|index| format!("{prefix}{index:03}")).collect();
        DfspNames { prefix: prefix.to_string(), names }
    }

    pub fn name(&self, index: u32) -> &str {
        &self.names[index as usize]
    }

    pub fn all(&self) -> &[String] {
        &self.names
    }

    /// The index of a DFSP named by this run.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        let index: u32 = name.strip_prefix(&self.prefix)?.parse().ok()?;
        ((index as usize) < self.names.len() && self.names[index as usize] == name).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_core::condition::{IlpCondition, IlpFulfilment};

    #[test]
    fn ids_carry_their_index_and_are_uuid_v4() {
        let ids = RunIds::new();
        for index in [0, 1, 255, TRANSFERS_MAX - 1] {
            let id = ids.transfer_id(index);
            assert_eq!(ids.index_of(&id), Some(index));
            let parsed = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
            assert_eq!(parsed.hyphenated().to_string(), id);
        }
        assert_eq!(ids.index_of(&RunIds::new().transfer_id(1)), None, "another run's id");
    }

    #[test]
    fn the_fulfilment_satisfies_the_condition() {
        let ids = RunIds::new();
        let packet = ilp_packet(&ids.transfer_id(7), "a", "b", "1", "USD");
        let fulfilment = IlpFulfilment::from_base64url(&ids.fulfilment(&packet)).unwrap();
        let condition = IlpCondition::from_base64url(&ids.condition(&packet)).unwrap();
        assert!(fulfilment.satisfies(&condition));
    }

    #[test]
    fn dfsp_names_round_trip() {
        let names = DfspNames::new("lgfsp", 120);
        assert_eq!(names.name(7), "lgfsp007");
        assert_eq!(names.name(119), "lgfsp119");
        assert_eq!(names.index_of("lgfsp119"), Some(119));
        assert_eq!(names.index_of("lgfsp120"), None);
        assert_eq!(names.index_of("lgfsp07"), None);
        assert_eq!(names.index_of("other001"), None);
    }
}
