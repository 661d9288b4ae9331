"""Sends a file's bytes the way a client of ours would: the `upload` instructions the API gave
(`{url, method, headers}`, as JSON in argv[1]) with the body read from argv[2], through the
`requests` library (a third-party HTTP client). Extra headers in argv[3] (JSON, optional) replace
the given ones (tests of what storage refuses). Prints the status code, then the body."""

import json
import sys

import requests

upload = json.loads(sys.argv[1])
with open(sys.argv[2], "rb") as f:
    body = f.read()
headers = dict(upload.get("headers", {}))
if len(sys.argv) > 3:
    headers.update(json.loads(sys.argv[3]))
# requests sets Content-Length from the body itself.
headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
response = requests.request(upload["method"], upload["url"], headers=headers, data=body, timeout=30)
print(response.status_code)
print(response.text)
