// okra-node's balance calls against a running okra-server (tests/integration/clients.rs).
// Usage: OKRA_BASE=http://127.0.0.1:PORT/v2/sandbox/ OKRA_KEY=sk_… OKRA_CUSTOMER=… OKRA_ACCOUNT=…
//        node okra_node_balance.mjs
// Prints one JSON object: what each call resolved to (or the error it rejected with).
import { Balance } from "okra-node";

const balance = new Balance(process.env.OKRA_KEY, "sandbox");
// okra-node has no base-URL option: every product class reads this property per request.
balance.apiBaseUrl = process.env.OKRA_BASE;

async function attempt(call) {
  try {
    return { ok: await call() };
  } catch (e) {
    if (e && e.http_error_code !== undefined) return { error: e.http_error_code, body: e.error_payload };
    return { error: String(e && e.message ? e.message : e) };
  }
}

const out = {};
// okra-node pages with limit 1 by default: the customer's second balance is on page 2.
const byCustomer = await attempt(() => balance.get({ customer: process.env.OKRA_CUSTOMER }));
out.byCustomer = byCustomer;
if (byCustomer.ok && typeof byCustomer.ok.nextPage === "function") {
  out.byCustomerNext = await attempt(() => byCustomer.ok.nextPage());
}
out.byAccount = await attempt(() => balance.get({ account_id: process.env.OKRA_ACCOUNT }));
const id = out.byAccount.ok && out.byAccount.ok.balance && out.byAccount.ok.balance[0] && out.byAccount.ok.balance[0]._id;
out.byId = await attempt(() => balance.get({ id }));
// getByType: okra-node sends `type` and `value` (no paging).
out.byType = await attempt(() => balance.get({ type: "available_balance", value: "0" }));
// The runs: refresh with `{account_id}`, check with `{account_id, record_id}` (the connection).
out.refresh = await attempt(() => balance.refresh({ account_id: process.env.OKRA_ACCOUNT }));
const record = out.byAccount.ok && out.byAccount.ok.balance && out.byAccount.ok.balance[0] && out.byAccount.ok.balance[0].record[0]._id;
out.check = await attempt(() => balance.check({ account_id: process.env.OKRA_ACCOUNT, record_id: record }));
process.stdout.write(JSON.stringify(out));
