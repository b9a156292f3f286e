//! How both backends shape their statements: multi-row INSERTs and `IN (…)` lists in a few
//! fixed sizes (so prepared-statement caches hit), and the canonical order locks are taken in.

use ledger_core::ids::AccountId;

/// Most rows one multi-row statement carries; larger inputs are split into chunks of this size
/// (SQLite allows 32 766 bound parameters and MySQL 65 535 per statement).
pub const STATEMENT_ROWS_MAX: usize = 500;

/// Splits rows for multi-row statements.
pub(crate) fn statement_chunks<T>(rows: &[T]) -> std::slice::Chunks<'_, T> {
    rows.chunks(STATEMENT_ROWS_MAX)
}

/// The row counts statements are shaped to: powers of two, then [`STATEMENT_ROWS_MAX`]. Every
/// distinct count is one more statement text to prepare; with any count from 1 to 500 the
/// prepared-statement caches (rusqlite's, mysql_async's) kept missing: about a fifth of the
/// handler's SQLite time went to parsing statements, and MariaDB prepared and closed them all
/// the time.
pub const STATEMENT_SHAPES: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, STATEMENT_ROWS_MAX];

/// The smallest shape that holds `n` rows (at most [`STATEMENT_ROWS_MAX`]).
pub(crate) fn shape_for(n: usize) -> usize {
    STATEMENT_SHAPES.iter().copied().find(|shape| n <= *shape).unwrap_or(STATEMENT_ROWS_MAX)
}

/// `n` comma-separated `?` placeholders, for an `IN (…)` list or a VALUES row.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Chunks of an `IN (…)` list, each padded to a shape by repeating its last id: a repeated id
/// matches no row the list did not already match, so the query's answer is unchanged.
pub(crate) fn in_list_chunks<T: Clone>(ids: &[T]) -> Vec<std::borrow::Cow<'_, [T]>> {
    statement_chunks(ids)
        .map(|chunk| {
            let shape = shape_for(chunk.len());
            match (shape == chunk.len(), chunk.last()) {
                (false, Some(last)) => {
                    let mut padded = chunk.to_vec();
                    padded.resize(shape, last.clone());
                    std::borrow::Cow::Owned(padded)
                }
                _ => std::borrow::Cow::Borrowed(chunk),
            }
        })
        .collect()
}

/// Runs of rows for multi-row INSERTs, each exactly a shape long, largest first and in order
/// (rows cannot be padded: a repeat would be inserted too).
pub(crate) fn insert_runs<T>(rows: &[T]) -> Vec<&[T]> {
    let mut runs = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let fits = STATEMENT_SHAPES.iter().rev().copied().find(|shape| *shape <= rest.len()).unwrap_or(1);
        let (run, after) = rest.split_at(fits);
        runs.push(run);
        rest = after;
    }
    runs
}

/// Sorted, de-duplicated ids: the canonical lock order.
pub(crate) fn lock_order(accounts: &[AccountId]) -> Vec<AccountId> {
    let mut ids = accounts.to_vec();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod statement_shape_tests {
    use super::*;

    #[test]
    fn every_row_count_gets_the_smallest_shape_that_holds_it() {
        assert_eq!(shape_for(1), 1);
        assert_eq!(shape_for(3), 4);
        assert_eq!(shape_for(64), 64);
        assert_eq!(shape_for(257), STATEMENT_ROWS_MAX);
        assert_eq!(shape_for(STATEMENT_ROWS_MAX), STATEMENT_ROWS_MAX);
    }

    #[test]
    fn in_lists_are_padded_with_their_last_id_and_keep_every_id() {
        for n in [1, 2, 3, 5, 100, 499, 500, 501, 1234] {
            let ids: Vec<usize> = (0..n).collect();
            let chunks = in_list_chunks(&ids);
            let mut seen = Vec::new();
            for chunk in &chunks {
                assert!(STATEMENT_SHAPES.contains(&chunk.len()), "{n} ids: a chunk of {}", chunk.len());
                let distinct: Vec<usize> = chunk.iter().copied().fold(Vec::new(), |mut acc, id| {
                    if acc.last() != Some(&id) {
                        acc.push(id);
                    }
                    acc
                });
                let padding = chunk.len() - distinct.len();
                assert!(
                    chunk[chunk.len() - 1 - padding..].iter().all(|it| *it == distinct[distinct.len() - 1]),
                    "only the last id repeats"
                );
                seen.extend(distinct);
            }
            assert_eq!(seen, ids, "{n} ids: every id once, in order");
        }
        assert!(in_list_chunks::<u8>(&[]).is_empty());
    }

    #[test]
    fn insert_runs_are_shapes_that_cover_the_rows_in_order() {
        for n in 0..1100 {
            let rows: Vec<usize> = (0..n).collect();
            let runs = insert_runs(&rows);
            assert!(runs.iter().all(|run| STATEMENT_SHAPES.contains(&run.len())), "{n} rows");
            assert_eq!(runs.concat(), rows, "{n} rows: each once, in order");
            assert!(runs.len() <= n / STATEMENT_ROWS_MAX + STATEMENT_SHAPES.len(), "{n} rows in {} runs", runs.len());
        }
        assert_eq!(insert_runs(&[0; 37]).iter().map(|it| it.len()).collect::<Vec<_>>(), vec![32, 4, 1]);
    }
}
