//! Table-driven settlement window rules: `WindowState::can_become` over the full 7×7 matrix
//! against an explicit allowed list, state names, and `check_close`.

use ledger_core::window::{check_close, CloseRefusal, WindowState, WINDOW_STATES};

use WindowState::*;

/// `OPEN → PROCESSING → CLOSED → PENDING_SETTLEMENT → SETTLED`; closing can fail (FAILED) and be
/// retried; an aborted settlement leaves its windows ABORTED, which can be settled again.
const ALLOWED: [(WindowState, WindowState); 8] = [
    (Open, Processing),
    (Processing, Closed),
    (Processing, Failed),
    (Failed, Processing),
    (Closed, PendingSettlement),
    (PendingSettlement, Settled),
    (PendingSettlement, Aborted),
    (Aborted, PendingSettlement),
];

#[test]
fn transitions_follow_the_window_life_cycle() {
    for from in WINDOW_STATES {
        for to in WINDOW_STATES {
            assert_eq!(from.can_become(to), ALLOWED.contains(&(from, to)), "{} -> {}", from.name(), to.name());
        }
    }
    // No state is its own successor, SETTLED is terminal, and every other state can move on.
    for state in WINDOW_STATES {
        assert!(!state.can_become(state), "{state:?}");
        let n_successors = WINDOW_STATES.iter().filter(|it| state.can_become(**it)).count();
        assert_eq!(n_successors == 0, state == Settled, "{state:?}");
    }
}

#[test]
fn names_round_trip() {
    let names = [
        (Open, "OPEN"),
        (Processing, "PROCESSING"),
        (Closed, "CLOSED"),
        (PendingSettlement, "PENDING_SETTLEMENT"),
        (Settled, "SETTLED"),
        (Aborted, "ABORTED"),
        (Failed, "FAILED"),
    ];
    assert_eq!(names.map(|(state, _)| state), WINDOW_STATES, "the table covers every state in order");
    for (state, name) in names {
        assert_eq!(state.name(), name);
        assert_eq!(WindowState::from_name(name), Some(state), "{name}");
        assert_eq!(WindowState::from_name(&name.to_lowercase()), None, "{name} in lower case");
    }
    for unknown in ["", "CLOSE", "PENDING", "OPEN ", "SETTLING"] {
        assert_eq!(WindowState::from_name(unknown), None, "{unknown:?}");
    }
}

/// "Window N is not open" is checked before "Window N is empty".
#[test]
fn only_the_open_window_with_commits_can_close() {
    for state in WINDOW_STATES {
        for n_fulfilments in [0, 1, 2, u64::MAX] {
            let expected = match (state, n_fulfilments) {
                (Open, 0) => Err(CloseRefusal::Empty),
                (Open, _) => Ok(()),
                _ => Err(CloseRefusal::NotOpen),
            };
            assert_eq!(check_close(state, n_fulfilments), expected, "{state:?} with {n_fulfilments} fulfilments");
        }
    }
}
