// okra-node's identity calls against a running okra-server (tests/integration/clients.rs).
// Usage: OKRA_BASE=http://127.0.0.1:PORT/v2/sandbox/ OKRA_KEY=sk_… OKRA_CUSTOMER=… OKRA_BVN=…
//        node okra_node_identity.mjs
// Prints one JSON object: what each call resolved to (or the error it rejected with).
import { Identity } from "okra-node";

const base = process.env.OKRA_BASE;
const identity = new Identity(process.env.OKRA_KEY, "sandbox");
// okra-node has no base-URL option: every product class reads this property per request.
identity.apiBaseUrl = base;

async function attempt(call) {
  try {
    return { ok: await call() };
  } catch (e) {
    if (e && e.http_error_code !== undefined) return { error: e.http_error_code, body: e.error_payload };
    return { error: String(e && e.message ? e.message : e) };
  }
}

const out = {};
out.verifyByBvn = await attempt(() => identity.verify({ bvn: process.env.OKRA_BVN }));
out.verifyByCustomer = await attempt(() => identity.verify({ customer: process.env.OKRA_CUSTOMER }));
const id = out.verifyByBvn.ok && out.verifyByBvn.ok.id;
out.getById = await attempt(() => identity.get({ id }));
// okra-node pages with limit 1 by default: the customer's second identity is on page 2.
const page1 = await attempt(() => identity.get({ customer: process.env.OKRA_CUSTOMER }));
out.getByCustomer = page1;
if (page1.ok && typeof page1.ok.nextPage === "function") {
  out.getByCustomerNext = await attempt(() => page1.ok.nextPage());
}
out.unknown = await attempt(() => identity.get({ id: "5f0000000000000000000000" }));
out.unauthorized = await attempt(() => {
  const other = new Identity("sk_sandbox_wrong", "sandbox");
  other.apiBaseUrl = base;
  return other.get({ id });
});
process.stdout.write(JSON.stringify(out));
