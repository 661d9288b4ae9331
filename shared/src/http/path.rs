//! Path parameters that are ids: a bad one is a 400 naming the parameter, in the error shape.

use std::str::FromStr;

use crate::{error::AppError, model::ObjectIdError};

pub fn parse_id<T: FromStr<Err = ObjectIdError>>(name: &str, raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| {
        AppError::Validation(vec![format!("{name} must be a 24-character hex ObjectId")])
    })
}

/// The same check for any id type parsed from a string (socket payloads).
pub fn parse_id_str<T: FromStr>(name: &str, raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| {
        AppError::Validation(vec![format!("{name} must be a 24-character hex ObjectId")])
    })
}
