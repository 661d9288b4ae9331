//! Base64url as Web Push writes keys: without padding out, padded or not in.

use base64::{
    alphabet::URL_SAFE,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn encode(bytes: &[u8]) -> String {
    ENGINE.encode(bytes)
}

/// `None` when `text` is not base64url.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    ENGINE.decode(text.trim()).ok()
}
