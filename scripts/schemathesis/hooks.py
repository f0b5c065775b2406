"""schemathesis hooks: the rules of okra-server's requests that JSON Schema cannot state.

The OpenAPI document states every rule it can (types, patterns, ranges, required fields, enums);
these three it can only describe, so generated "valid" bodies are made to follow them here. Each
touches only a body that already matches the schema in the fields it changes, so the negative
cases schemathesis generates stay as generated.

- A NUBAN's last digit is the check digit of the bank's CBN code (CBN's Revised Standards on
  NUBAN): with a known `bank` (any case) and a 10-digit `nuban`, the check digit is set.
- `from` is not after `to`: two valid dates in the wrong order are swapped.
- Faults scripted by `faults/create` make the simulated banks fail (503) for every later call:
  each one is cleared right after it is created, so that the operation is tested without turning
  every later verify into a bank outage.
- A webhook URL must resolve to an address the outbound policy allows (this machine has no DNS
  for made-up hosts): in positive cases, an http(s) URL is pointed at 127.0.0.1 (where nothing
  answers; deliveries just fail and retry in the background).
"""

import datetime
import json
import os
import re
import urllib.request

import schemathesis

WEIGHTS = [3, 7, 3, 3, 7, 3, 3, 7, 3, 3, 7, 3, 3, 7, 3]


def _bank_codes():
    """Bank id and slug -> CBN code, read from the server under test (banks/list)."""
    base = os.environ["OKRA_URL"]
    key = os.environ["OKRA_SECRET_KEY"]
    codes = {}
    page = 1
    while True:
        req = urllib.request.Request(
            f"{base}/v2/sandbox/banks/list?page={page}&limit=100",
            headers={"Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(req, timeout=10) as res:
            data = json.load(res)["data"]
        for bank in data["banks"]:
            code = bank.get("sortcode") or ""
            codes[bank["_id"].lower()] = code
            codes[bank["slug"].lower()] = code
        if not data["pagination"]["hasNextPage"]:
            return codes
        page += 1


CODES = _bank_codes()


def with_check_digit(code, nuban):
    """`nuban` with its last digit set to the check digit of bank `code`."""
    padded = code.rjust(6, "0") if len(code) <= 3 else "9" + code
    digits = padded + nuban[:9]
    total = sum(int(d) * w for d, w in zip(digits, WEIGHTS))
    check = (10 - total % 10) % 10
    return nuban[:9] + str(check)


def _date(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


URL = re.compile(r"^\s*https?://")
URL_FIELDS = ("callback_url", "webhook_url", "url")


def _positive(case):
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return mode is not None and getattr(mode, "is_positive", False)


def _bank(body):
    """The bank a body names, read as the server reads it: `bank`, else `bank_id` (a null is
    absent), trimmed, any case."""
    for name in ("bank", "bank_id"):
        value = body.get(name)
        if value is not None:
            return value.strip().lower() if isinstance(value, str) else None
    return None


def _set_check_digit(body):
    """Sets the check digit of a 10-digit `nuban` for a known bank."""
    nuban, code = body.get("nuban"), CODES.get(_bank(body) or "")
    if isinstance(nuban, str) and code and len(nuban) == 10 and nuban.isascii() and nuban.isdigit():
        body["nuban"] = with_check_digit(code, nuban)


@schemathesis.hook
def map_case(context, case):
    body = case.body
    if not isinstance(body, dict):
        return case
    start, end = _date(body.get("from")), _date(body.get("to"))
    if start and end and start > end:
        body["from"], body["to"] = body["to"], body["from"]
    if _positive(case):
        for field in URL_FIELDS:
            value = body.get(field)
            if isinstance(value, str) and URL.match(value):
                body[field] = "http://127.0.0.1:9/okra-webhook"
    _set_check_digit(body)
    return case


@schemathesis.hook
def after_call(context, case, response):
    if case.path.endswith("/faults/create") and response.status_code == 200:
        req = urllib.request.Request(
            f"{os.environ['OKRA_URL']}/v2/sandbox/faults/clear",
            method="POST",
            headers={"Authorization": f"Bearer {os.environ['OKRA_SECRET_KEY']}"},
        )
        urllib.request.urlopen(req, timeout=10).close()
