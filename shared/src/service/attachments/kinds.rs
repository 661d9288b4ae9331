//! What may be uploaded and how it is served: the allow-list of content types, the raster images
//! that are shown inline (checked against their bytes), file names made safe, and the
//! `Content-Disposition` of a download.

/// Raster images: shown inline, and their bytes must be what the type says.
const RASTER: &[(&str, imagesize::ImageType)] = &[
    ("image/png", imagesize::ImageType::Png),
    ("image/jpeg", imagesize::ImageType::Jpeg),
    ("image/gif", imagesize::ImageType::Gif),
    ("image/webp", imagesize::ImageType::Webp),
];

/// Everything else that may be uploaded, always served as a download.
const DOWNLOADS: &[&str] = &[
    "image/heic",
    "image/heif",
    "image/avif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/rtf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// Bytes of an upload read to check a raster image and find its size (JPEG's dimensions may
/// follow a large EXIF block).
pub const HEADER_BYTES: u64 = 256 * 1024;

/// A declared type, lower-cased and without parameters, if it is allowed.
pub fn allowed(content_type: &str) -> Option<String> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let known =
        RASTER.iter().any(|(name, _)| *name == essence) || DOWNLOADS.contains(&essence.as_str());
    known.then_some(essence)
}

/// The allowed types, for the refusal's message and the docs.
pub fn allowed_list() -> Vec<&'static str> {
    RASTER
        .iter()
        .map(|(name, _)| *name)
        .chain(DOWNLOADS.iter().copied())
        .collect()
}

/// Whether `content_type` is shown inline.
pub fn is_raster(content_type: &str) -> bool {
    RASTER.iter().any(|(name, _)| *name == content_type)
}

/// What the header bytes of a raster upload say: `Ok(Some((width, height)))`, `Ok(None)` for a
/// type that is not raster, or the reason the bytes are not the declared image.
pub fn image_dimensions(content_type: &str, header: &[u8]) -> Result<Option<(u32, u32)>, String> {
    let Some((_, expected)) = RASTER.iter().find(|(name, _)| *name == content_type) else {
        return Ok(None);
    };
    let found = imagesize::image_type(header).ok();
    if found.as_ref() != Some(expected) {
        return Err(format!("the uploaded file is not a {content_type} image"));
    }
    let size = imagesize::blob_size(header)
        .map_err(|_| format!("the uploaded {content_type} image has no readable size"))?;
    let pixels = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(Some((pixels(size.width), pixels(size.height))))
}

/// Characters of a stored file name.
const MAX_NAME_CHARS: usize = 120;

/// A file name safe to store and to put in a header: its last path part, control characters
/// dropped and reserved ones replaced by `_`, no leading dots, at most `MAX_NAME_CHARS`; `file` when nothing
/// is left.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(
                c,
                '"' | '\'' | ';' | ':' | '<' | '>' | '|' | '*' | '?' | '%' | '`'
            ) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let short: String = trimmed.chars().take(MAX_NAME_CHARS).collect();
    if short.is_empty() {
        "file".to_owned()
    } else {
        short
    }
}

/// `inline` for raster images, `attachment` for everything else, with the name both as ASCII and
/// as RFC 8187 UTF-8.
pub fn disposition(content_type: &str, file_name: &str) -> String {
    let kind = if is_raster(content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_types_pass_and_never_markup() {
        assert_eq!(allowed("Image/PNG; charset=x"), Some("image/png".into()));
        assert_eq!(allowed("application/pdf"), Some("application/pdf".into()));
        for refused in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/javascript",
            "",
        ] {
            assert_eq!(allowed(refused), None, "{refused}");
        }
    }

    #[test]
    fn file_names_lose_paths_and_header_breakers() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\x\\a\"b;c.png"), "a_b_c.png");
        assert_eq!(safe_file_name("...hidden"), "hidden");
        assert_eq!(safe_file_name("\u{0}\n"), "file");
        assert_eq!(safe_file_name("фото 1.jpg"), "фото 1.jpg");
        assert_eq!(
            safe_file_name(&"a".repeat(500)).chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn raster_images_are_inline_and_everything_else_a_download() {
        assert!(disposition("image/png", "a.png").starts_with("inline; "));
        assert_eq!(
            disposition("text/plain", "page é.html"),
            "attachment; filename=\"page _.html\"; filename*=UTF-8''page%20%C3%A9.html"
        );
    }

    #[test]
    fn image_bytes_must_match_the_declared_type() {
        // A 1×1 PNG's signature and IHDR.
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0,
            0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0,
        ];
        assert_eq!(image_dimensions("image/png", &png), Ok(Some((3, 2))));
        assert!(image_dimensions("image/jpeg", &png).is_err());
        assert!(image_dimensions("image/png", b"<html><script>").is_err());
        assert_eq!(image_dimensions("application/pdf", b"%PDF"), Ok(None));
    }
}
