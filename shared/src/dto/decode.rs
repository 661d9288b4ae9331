//! Reading a DTO from JSON the same way on every channel: a request body (`http::ValidJson`) or a
//! socket event's payload. Malformed or mistyped input is a 400 naming the field; failed rules
//! are a 400 listing every failing field.

use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors};

use crate::error::AppError;

/// A request body's bytes, deserialized and validated.
pub fn from_slice<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, AppError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    checked(serde_path_to_error::deserialize(deserializer))
}

/// A socket event's JSON payload, read and validated exactly like a request body.
pub fn payload<T: DeserializeOwned + Validate>(value: serde_json::Value) -> Result<T, AppError> {
    checked(serde_path_to_error::deserialize(value))
}

fn checked<T: Validate, E: std::fmt::Display + IsSyntax>(
    result: Result<T, serde_path_to_error::Error<E>>,
) -> Result<T, AppError> {
    let value: T = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = if inner.is_syntax() {
            format!("Malformed JSON: {inner}")
        } else if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        AppError::BadRequest(message)
    })?;
    value.validate().map_err(validation_error)?;
    Ok(value)
}

/// Tells malformed JSON from well-formed JSON of the wrong shape.
trait IsSyntax {
    fn is_syntax(&self) -> bool;
}

impl IsSyntax for serde_json::Error {
    fn is_syntax(&self) -> bool {
        serde_json::Error::is_syntax(self) || self.is_eof()
    }
}

/// Every failing field, in field order, with the rule's message.
pub fn validation_error(errors: ValidationErrors) -> AppError {
    let mut fields: Vec<_> = errors.field_errors().into_iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let messages = fields
        .into_iter()
        .flat_map(|(field, errors)| {
            errors.iter().map(move |error| match &error.message {
                Some(message) => message.to_string(),
                None => format!("{field} is invalid"),
            })
        })
        .collect();
    AppError::Validation(messages)
}
