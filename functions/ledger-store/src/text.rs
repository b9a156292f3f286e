//! Fitting texts to their columns, the same way on both backends: cut where the store keeps
//! what fits (reasons, descriptions, dead letters), refused where a cut would change meaning.

use crate::error::StoreError;

/// Truncates text to at most `n_chars` characters, on a character boundary.
pub(crate) fn truncate_chars(text: &str, n_chars: usize) -> &str {
    match text.char_indices().nth(n_chars) {
        Some((idx, _)) => &text[..idx],
        None => text,
    }
}

/// Cuts text to at most `n_bytes` UTF-8 bytes, on a character boundary.
pub(crate) fn truncate_bytes(text: &str, n_bytes: usize) -> &str {
    if text.len() <= n_bytes {
        return text;
    }
    let mut end = n_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Refuses a text longer than its column (`n_chars` characters) with [`StoreError::Invalid`].
pub(crate) fn check_length(what: &str, text: &str, n_chars: usize) -> Result<(), StoreError> {
    match text.chars().nth(n_chars) {
        Some(_) => Err(StoreError::Invalid(format!("{what} is longer than {n_chars} characters"))),
        None => Ok(()),
    }
}
