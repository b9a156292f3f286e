//! Replacing a file whole: the log when it is compacted, a checkpoint when it is written.

use std::io::Write as _;
use std::path::Path;

use super::event::{io_error, HubsError};

/// Whether a replaced file is synced before it takes the old one's place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sync {
    /// A log: what it holds must survive a crash.
    Durable,
    /// A checkpoint: losing the newest one in a crash only moves the restart point back, so its
    /// sync would only slow the syncs that matter (the ledger's commits, the hub appends).
    Lazy,
}

/// Writes `bytes` to a sibling temporary file, syncs it if asked, and renames it over `path`, so
/// a reader sees the old content or the new, never a mix.
pub(super) fn write_atomically_bytes(path: &Path, bytes: &[u8], sync: Sync) -> Result<(), HubsError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary).map_err(|err| io_error(&temporary, err))?;
    file.write_all(bytes).map_err(|err| io_error(&temporary, err))?;
    if sync == Sync::Durable {
        file.sync_data().map_err(|err| io_error(&temporary, err))?;
    }
    std::fs::rename(&temporary, path).map_err(|err| io_error(path, err))
}

fn create_dir(dir: &Path) -> Result<(), HubsError> {
    std::fs::create_dir_all(dir).map_err(|err| io_error(dir, err))
}
