//! Settlement windows: exactly one is OPEN at any time; closing one opens the next at once.

/// `settlementWindowState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowState {
    Open,
    Processing,
    Closed,
    PendingSettlement,
    Settled,
    Aborted,
    Failed,
}

pub const WINDOW_STATES: [WindowState; 7] = [
    WindowState::Open,
    WindowState::Processing,
    WindowState::Closed,
    WindowState::PendingSettlement,
    WindowState::Settled,
    WindowState::Aborted,
    WindowState::Failed,
];

impl WindowState {
    pub fn name(self) -> &'static str {
        match self {
            WindowState::Open => "OPEN",
            WindowState::Processing => "PROCESSING",
            WindowState::Closed => "CLOSED",
            WindowState::PendingSettlement => "PENDING_SETTLEMENT",
            WindowState::Settled => "SETTLED",
            WindowState::Aborted => "ABORTED",
            WindowState::Failed => "FAILED",
        }
    }

    pub fn from_name(name: &str) -> Option<WindowState> {
        WINDOW_STATES.iter().copied().find(|it| it.name() == name)
    }

    /// `OPEN → PROCESSING → CLOSED → PENDING_SETTLEMENT → SETTLED`, with ABORTED making a
    /// window settleable again and FAILED when aggregation fails.
    pub fn can_become(self, next: WindowState) -> bool {
        use WindowState::*;
        matches!(
            (self, next),
            (Open, Processing)
                | (Processing, Closed | Failed)
                | (Failed, Processing)
                | (Closed | Aborted, PendingSettlement)
                | (PendingSettlement, Settled | Aborted)
        )
    }
}

/// Why a window cannot be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRefusal {
    NotOpen,
    Empty,
}

/// Checks a close request: the window must be the OPEN one and hold at least one commit.
pub fn check_close(state: WindowState, n_fulfilments: u64) -> Result<(), CloseRefusal> {
    if state != WindowState::Open {
        return Err(CloseRefusal::NotOpen);
    }
    if n_fulfilments == 0 {
        return Err(CloseRefusal::Empty);
    }
    Ok(())
}
