"""Schemathesis checks for this API, loaded with SCHEMATHESIS_HOOKS=fuzz_checks (see scripts/fuzz.sh).

`error_shape`: every 4xx/5xx response carries the one error body of SPEC.md:
{statusCode, error, message, path, timestamp, requestId}, with statusCode equal to the HTTP status
and message a string or a list of strings.
"""

import json

import schemathesis

FIELDS = ("statusCode", "error", "message", "path", "timestamp", "requestId")


@schemathesis.check
def error_shape(ctx, response, case):
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"{response.status_code} without a JSON error body: {err}")
    if not isinstance(body, dict):
        raise AssertionError(f"error body is not an object: {body!r}")
    missing = [field for field in FIELDS if field not in body]
    if missing:
        raise AssertionError(f"error body lacks {missing}: {body!r}")
    if body["statusCode"] != response.status_code:
        raise AssertionError(
            f"statusCode {body['statusCode']} differs from the HTTP status {response.status_code}"
        )
    message = body["message"]
    if not (isinstance(message, str) or (isinstance(message, list) and all(isinstance(m, str) for m in message))):
        raise AssertionError(f"message is neither a string nor a list of strings: {message!r}")
    return None
