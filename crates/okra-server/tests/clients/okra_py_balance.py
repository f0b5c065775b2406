"""okra_py's balance calls against a running okra-server (tests/integration/clients.rs).

Usage: OKRA_BASE=http://127.0.0.1:PORT/v2/sandbox/ OKRA_KEY=sk_... OKRA_CUSTOMER=... OKRA_ACCOUNT=...
       OKRA_FIRST=... OKRA_LAST=... python okra_py_balance.py
Prints one JSON object: the status and body of each call (okra_py returns the raw response).
"""
import json
import os

from okra_py.balance import Okra_Balance

balance = Okra_Balance(os.environ["OKRA_KEY"], base_url=os.environ["OKRA_BASE"])


def answer(response):
    return {"status": response.status_code, "body": response.json()}


out = {
    "getbyCustomer": answer(balance.getbyCustomer(os.environ["OKRA_CUSTOMER"], 1, 1)),
    "getbyCustomerPage2": answer(balance.getbyCustomer(os.environ["OKRA_CUSTOMER"], 2, 1)),
    "getbyAccount": answer(balance.getbyAccount(os.environ["OKRA_ACCOUNT"])),
    # The v1 `byOptions` path, with the two options okra_py can send.
    "getbyOptions": answer(balance.getbyOptions(os.environ["OKRA_FIRST"], os.environ["OKRA_LAST"])),
    "retrieve_balance": answer(balance.retrieve_balance()),
    # `type` and `amount` (okra_py's name for the value), a string as its docs show.
    "getbyType": answer(balance.getbyType("ledger_balance", "0", 1, 1)),
}
out["getbyID"] = answer(balance.getbyID(out["getbyAccount"]["body"]["data"]["balance"][0]["_id"]))
print(json.dumps(out))
