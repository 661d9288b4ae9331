//! `ValidQuery<T>`: query-string parameters, parsed and validated like `ValidJson` bodies.

use axum::{
    extract::{FromRequestParts, Query},
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::dto::decode::validation_error;
use crate::error::AppError;

pub struct ValidQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ValidQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::try_from_uri(&parts.uri)
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        value.validate().map_err(validation_error)?;
        Ok(Self(value))
    }
}
