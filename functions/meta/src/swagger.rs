//! Swagger UI under `/api/docs/`: the browser files of the `swagger-ui-dist` release pinned in
//! `tests/browser/package.json` (copied by `scripts/vendor-swagger-ui.sh`; a test checks them), the
//! three large ones gzip-compressed: ~0.5 MB in the binary instead of the ~11 MB that embedding
//! the whole distribution cost.

use axum::{
    extract::Path,
    http::HeaderMap,
    response::{Redirect, Response},
};
use shared::AppError;

use crate::assets::{self, Asset};

const PREFIX: &str = "/api/docs";

const FILES: &[Asset] = &[
    Asset {
        name: "",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/index.html"),
        gzipped: false,
    },
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/index.html"),
        gzipped: false,
    },
    Asset {
        name: "index.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/index.css"),
        gzipped: false,
    },
    Asset {
        name: "swagger-initializer.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/swagger-initializer.js"),
        gzipped: false,
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/swagger-ui.css.gz"),
        gzipped: true,
    },
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/swagger-ui-bundle.js.gz"),
        gzipped: true,
    },
    Asset {
        name: "swagger-ui-standalone-preset.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../swagger-ui/swagger-ui-standalone-preset.js.gz"),
        gzipped: true,
    },
    Asset {
        name: "favicon-32x32.png",
        content_type: "image/png",
        bytes: include_bytes!("../swagger-ui/favicon-32x32.png"),
        gzipped: false,
    },
    Asset {
        name: "favicon-16x16.png",
        content_type: "image/png",
        bytes: include_bytes!("../swagger-ui/favicon-16x16.png"),
        gzipped: false,
    },
];

pub async fn redirect() -> Redirect {
    Redirect::permanent("/api/docs/")
}

pub async fn index(headers: HeaderMap) -> Result<Response, AppError> {
    assets::find(FILES, PREFIX, "")?.respond(&headers, &[])
}

pub async fn file(headers: HeaderMap, Path(file): Path<String>) -> Result<Response, AppError> {
    assets::find(FILES, PREFIX, &file)?.respond(&headers, &[])
}
