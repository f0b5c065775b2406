// Opens the server's /docs page in headless Chromium (Debian's package, through playwright-core)
// with every request to another host refused, as on a machine without internet access, and prints
// what rendered as one JSON object on stdout for tests/integration/docs_browser.rs to assert.
//
// Environment: OKRA_BASE_URL, CHROMIUM, OKRA_SCREENSHOT (a file, optional).
import { chromium } from "playwright-core";

const env = process.env;
const base = env.OKRA_BASE_URL;
const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const out = { requests: [], refused: [], consoleErrors: [], paths: [], title: "" };
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(base + "/")) {
    out.requests.push(url);
    return route.continue();
  }
  out.refused.push(url);
  return route.abort();
});
const page = await context.newPage();
page.on("pageerror", (e) => out.consoleErrors.push(String(e)));
page.on("console", (m) => {
  if (m.type() === "error") out.consoleErrors.push(m.text());
});
try {
  await page.goto(`${base}/docs`, { waitUntil: "load" });
  await page.locator(".opblock-summary-path").first().waitFor({ timeout: 30000 });
  out.title = await page.locator(".info .title").first().innerText();
  out.paths = await page.locator(".opblock-summary-path").allInnerTexts();
  // Open one operation: its request body schema and responses render from the document.
  const bvn = page.locator(".opblock", { hasText: "/v2/sandbox/identity/getByBvn" }).first();
  await bvn.locator(".opblock-summary").click();
  await bvn.locator(".responses-table").first().waitFor({ timeout: 10000 });
  out.responseCodes = await bvn.locator(".responses-table .response-col_status").allInnerTexts();
  if (env.OKRA_SCREENSHOT) await page.screenshot({ path: env.OKRA_SCREENSHOT });
} catch (e) {
  out.failure = String(e);
}
await browser.close();
process.stdout.write(JSON.stringify(out));
