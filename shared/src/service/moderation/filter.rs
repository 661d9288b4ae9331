//! The word filter (`MODERATION_WORDS_FILE`): every send and edit, REST and socket alike, passes
//! its text through `screen`.

use std::collections::HashSet;

use crate::{
    config::{FilterMode, ModerationConfig},
    error::AppError,
};

/// What a refused message is told; it names no word (so the list cannot be probed word by word
/// any faster than by sending).
pub const REFUSED: &str = "This message contains words that are not allowed here";

/// The text to store: as it is, masked, or refused, per `MODERATION_MODE`. A word matches a
/// listed one when it is equal to it ignoring case; words are runs of letters and digits.
pub fn screen(config: &ModerationConfig, text: String) -> Result<String, AppError> {
    if config.filtered_words.is_empty() {
        return Ok(text);
    }
    let listed = listed_words(&config.filtered_words, &text);
    if listed.is_empty() {
        return Ok(text);
    }
    match config.filter_mode {
        FilterMode::Refuse => Err(AppError::bad_request(REFUSED)),
        FilterMode::Mask => Ok(mask(&text, &listed)),
    }
}

/// The byte ranges of the listed words in `text`.
fn listed_words(words: &HashSet<String>, text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut start = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                if words.contains(&text[from..at].to_lowercase()) {
                    found.push((from, at));
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// `text` with each range's characters replaced by `*`.
fn mask(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut last = 0;
    for &(from, to) in ranges {
        masked.push_str(&text[last..from]);
        masked.extend(std::iter::repeat_n('*', text[from..to].chars().count()));
        last = to;
    }
    masked.push_str(&text[last..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mode: FilterMode) -> ModerationConfig {
        let mut config = crate::config::Config::from_lookup(|_| None)
            .expect("defaults")
            .moderation;
        config.filtered_words = ["darn", "heck"].map(str::to_owned).into();
        config.filter_mode = mode;
        config
    }

    #[test]
    fn listed_words_are_masked_whole_words_only_ignoring_case() {
        let masked = screen(
            &config(FilterMode::Mask),
            "Darn it, heck! darned Heckle".into(),
        );
        assert_eq!(masked.unwrap(), "**** it, ****! darned Heckle");
    }

    #[test]
    fn refuse_mode_refuses_and_clean_text_passes() {
        let refused = screen(&config(FilterMode::Refuse), "oh HECK".into());
        assert!(matches!(refused, Err(AppError::BadRequest(text)) if text == REFUSED));
        let clean = screen(&config(FilterMode::Refuse), "all fine here".into());
        assert_eq!(clean.unwrap(), "all fine here");
    }

    #[test]
    fn non_ascii_words_mask_by_characters() {
        let mut config = config(FilterMode::Mask);
        config.filtered_words.insert("übel".into());
        assert_eq!(screen(&config, "ÜBEL ist".into()).unwrap(), "**** ist");
    }
}
