//! Secrets kept in AWS Secrets Manager, read once at start-up, so a function's configuration holds
//! only where a secret is, never the secret: `JWT_SECRET_ARN` (likewise `JWT_REFRESH_SECRET_ARN`,
//! `MONGO_URI_ARN`) names the secret whose value becomes `JWT_SECRET`. They are read through the AWS
//! Parameters and Secrets Lambda Extension, an HTTP endpoint the extension serves inside the
//! function's sandbox (`localhost:2773`, `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`), authenticated
//! with the function's own session token: no SDK in the binary. A variable that is set directly
//! wins over its `_ARN` (local development, tests).

use std::collections::HashMap;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The variables that may come from Secrets Manager.
pub const SECRET_VARIABLES: &[&str] = &[
    "JWT_SECRET",
    "JWT_REFRESH_SECRET",
    "MONGO_URI",
    "ORIGIN_VERIFY_SECRET",
    "VAPID_PRIVATE_KEY",
    "PUSH_WEBHOOK_SECRET",
];
const DEFAULT_PORT: &str = "2773";
/// How long the extension may take to answer one read.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// A secret value is small; a larger answer is not one.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot read {variable} from Secrets Manager ({arn}): {reason}")]
pub struct SecretError {
    pub variable: &'static str,
    pub arn: String,
    pub reason: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

/// The values of every `X` whose `X_ARN` is set and `X` is not.
pub async fn resolve(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, String>, SecretError> {
    let mut resolved = HashMap::new();
    for &variable in SECRET_VARIABLES {
        if lookup(variable).is_some_and(|value| !value.trim().is_empty()) {
            continue;
        }
        let Some(arn) = lookup(&format!("{variable}_ARN")).filter(|arn| !arn.trim().is_empty())
        else {
            continue;
        };
        let fail = |reason: String| SecretError {
            variable,
            arn: arn.clone(),
            reason,
        };
        let port = lookup("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
            .unwrap_or_else(|| DEFAULT_PORT.to_owned());
        let token = lookup("AWS_SESSION_TOKEN").unwrap_or_default();
        let value = fetch(&port, &arn, &token).await.map_err(fail)?;
        resolved.insert(variable.to_owned(), value);
    }
    Ok(resolved)
}

/// One `GET /secretsmanager/get?secretId=…` to the extension (HTTP/1.0 with `Connection: close`:
/// the answer ends when the connection closes, no chunked bodies), within `TIMEOUT`.
async fn fetch(port: &str, arn: &str, token: &str) -> Result<String, String> {
    tokio::time::timeout(TIMEOUT, exchange(port, arn, token))
        .await
        .map_err(|_| format!("the secrets extension did not answer within {TIMEOUT:?}"))?
}

async fn exchange(port: &str, arn: &str, token: &str) -> Result<String, String> {
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .map_err(|err| format!("the secrets extension does not answer on port {port}: {err}"))?;
    let request = format!(
        "GET /secretsmanager/get?secretId={} HTTP/1.0\r\nHost: localhost\r\n\
         Connection: close\r\nX-Aws-Parameters-Secrets-Token: {token}\r\n\r\n",
        query_encode(arn)
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|err| err.to_string())?;
    let answer = read_answer(&mut stream).await?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("the extension's answer is not HTTP")?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("the extension answered {status}"));
    }
    let answer: Answer =
        serde_json::from_str(body).map_err(|err| format!("unreadable answer: {err}"))?;
    answer
        .secret_string
        .filter(|value| !value.is_empty())
        .ok_or_else(|| "the secret has no SecretString".into())
}

/// The whole answer: headers, then `Content-Length` bytes of body (or all until the connection
/// closes, when there is no length).
async fn read_answer(stream: &mut tokio::net::TcpStream) -> Result<Vec<u8>, String> {
    let mut answer = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        if let Some(end) = find(&answer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
            let length = head.lines().find_map(|line| {
                line.strip_prefix("content-length:")
                    .and_then(|value| value.trim().parse::<usize>().ok())
            });
            if length.is_some_and(|length| answer.len() >= end + 4 + length) {
                return Ok(answer);
            }
        }
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|err| err.to_string())?;
        if read == 0 {
            return Ok(answer);
        }
        answer.extend_from_slice(&chunk[..read]);
        if answer.len() > MAX_ANSWER_BYTES {
            return Err("the answer is too large for a secret".into());
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Percent-encodes everything but unreserved characters (an ARN has `:` and `/`).
fn query_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_query_encoded() {
        assert_eq!(
            query_encode("arn:aws:secretsmanager:eu-west-1:123:secret:jwt/a-b"),
            "arn%3Aaws%3Asecretsmanager%3Aeu-west-1%3A123%3Asecret%3Ajwt%2Fa-b"
        );
    }
}
