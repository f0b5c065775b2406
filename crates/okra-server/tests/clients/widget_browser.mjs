// Drives the hosted widget in headless Chromium (Debian's package, through playwright-core) the way
// an integrator's page and its user would, and prints what the page saw as one JSON object on
// stdout for tests/integration/widget_browser.rs to assert. The integrator's page is served here
// on another origin of 127.0.0.1 and loads the server's /widget.js.
//
// Environment: OKRA_BASE_URL, OKRA_PUBLISHABLE_KEY, OKRA_SECRET_KEY (the error run checks that it
// never leaves the page), OKRA_SCENARIO (connect | errors | shorturl | standalone), OKRA_USERNAME,
// OKRA_PASSWORD, OKRA_BANK and OKRA_BANK_NAME (the user's bank), OKRA_SCREENSHOTS (a folder, optional), CHROMIUM.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const env = process.env;
const base = env.OKRA_BASE_URL;
const shots = env.OKRA_SCREENSHOTS || "";
const scenario = env.OKRA_SCENARIO;
if (shots) mkdirSync(shots, { recursive: true });

// The integrator's page: loads widget.js and records every callback in window.okraLog.
const appPage = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test app</title></head>
<body><h1>Test app</h1><p>An integrator's page.</p>
<script src="${base}/widget.js"></script>
<script>
window.okraLog = [];
function log(name) { return function (d) { window.okraLog.push({ name: name, data: d === undefined ? null : d }); }; }
window.callbacks = { onSuccess: log("onSuccess"), onClose: log("onClose"), onError: log("onError"),
                     onEvent: log("onEvent"), beforeClose: log("beforeClose") };
</script></body></html>`;
const app = createServer((req, res) => {
  res.setHeader("content-type", "text/html; charset=utf-8");
  if (req.url.startsWith("/done")) return res.end("<!doctype html><title>Done</title><h1>Back in the app</h1>");
  res.end(appPage);
});
await new Promise((ok) => app.listen(0, "127.0.0.1", ok));
const appUrl = `http://127.0.0.1:${app.address().port}`;

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#0A7D4F"/><text x="16" y="22" font-size="16" text-anchor="middle" fill="#fff" font-family="sans-serif">T</text></svg>';
const phone = { width: 360, height: 740 };
const desktop = { width: 1280, height: 800 };
// The pages' own Content-Security-Policy applies; axe-core is evaluated through the debugging
// protocol, which no page policy governs.
const context = await browser.newContext({ viewport: scenario === "errors" ? desktop : phone });
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const page = await context.newPage();
const requests = [];
page.on("request", (r) =>
  requests.push({ url: r.url(), frame: r.frame()?.url() ?? "", nav: r.isNavigationRequest(), headers: r.headers() })
);
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));

const out = { scenario, steps: [], axe: {}, requests };
const shot = async (name) => {
  out.steps.push(name);
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
};

// The widget's frame, and a wait for its step.
const frame = () => page.frameLocator("iframe[data-okra-widget]");
async function step(name, root = frame()) {
  await root.locator(`body[data-step="${name}"]`).waitFor({ timeout: 20000 });
}
async function axe(name, target) {
  const f = target ?? page.frames().find((fr) => fr.url().startsWith(base + "/link"));
  await f.evaluate(axeSource);
  const result = await f.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  out.axe[name] = result;
}

async function openWidget(options) {
  await page.goto(appUrl);
  await page.evaluate((o) => window.Okra.buildWithOptions(Object.assign({}, o, window.callbacks)), options);
}

try {
  if (scenario === "connect") {
    await openWidget({
      key: env.OKRA_PUBLISHABLE_KEY,
      name: "Test App",
      products: ["auth", "accounts", "identity", "balance"],
      showBalance: true,
      multi_account: true,
      color: "#0A7D4F",
      logo: "data:image/svg+xml;base64," + Buffer.from(LOGO).toString("base64"),
      success_title: "All set!",
      success_message: "Test App can now see your balance.",
      options: { user_ref: "u-42" },
      meta: { plan: "gold" },
    });
    await step("banks");
    out.bankCount = await frame().locator("button.bank").count();
    out.brand = await frame().locator("#app-name").textContent();
    out.logoSrc = await frame().locator("#app-logo").getAttribute("src");
    await shot("1-choose-bank");
    await axe("banks");
    await frame().locator("#bank-search").fill(env.OKRA_BANK_NAME);
    out.searched = await frame().locator("button.bank").allTextContents();
    await frame().locator(`button[data-bank="${env.OKRA_BANK}"]`).click();
    await step("login");
    await frame().locator("#username").fill(`otp.${env.OKRA_USERNAME}`);
    await frame().locator("#password").fill(env.OKRA_PASSWORD);
    await shot("2-log-in");
    await axe("login");
    await frame().locator("#password").press("Enter");
    await step("otp");
    await shot("3-one-time-password");
    await frame().locator("#otp").fill("000000");
    await frame().locator("#otp").press("Enter");
    await frame().locator('body[data-step="otp"] .alert').waitFor({ timeout: 20000 });
    out.wrongOtp = await frame().locator(".alert").textContent();
    await frame().locator("#otp").fill("123456");
    await frame().locator("#otp").press("Enter");
    await step("accounts");
    out.accounts = await frame().locator(".choice .detail").allTextContents();
    out.amounts = await frame().locator(".choice .amount").allTextContents();
    out.checked = await frame().locator("input[name=account]:checked").count();
    out.buttonColor = await frame().locator("button.primary").evaluate((b) => getComputedStyle(b).backgroundColor);
    await shot("4-choose-accounts");
    await axe("accounts");
    await frame().locator("button.primary").click();
    await step("consent");
    out.consent = await frame().locator(".consent strong").allTextContents();
    await shot("5-consent");
    await axe("consent");
    await frame().locator("#agree").click();
    await step("success");
    out.successTitle = await frame().locator("h1").textContent();
    out.successMessage = await frame().locator("p.center").textContent();
    await shot("6-success");
    await axe("success");
    await frame().locator("#done").click();
    await page.locator("iframe[data-okra-widget]").waitFor({ state: "detached", timeout: 10000 });
  } else if (scenario === "errors") {
    await openWidget({
      key: env.OKRA_PUBLISHABLE_KEY,
      name: "Test App",
      products: ["auth", "balance"],
      filter: { banks: ["zenith-bank", "access-bank"] },
    });
    await step("banks");
    out.banks = await frame().locator("button.bank").allTextContents();
    await frame().locator('button[data-bank="zenith-bank"]').click();
    await step("login");
    await frame().locator("#username").fill(env.OKRA_USERNAME);
    await frame().locator("#password").fill("not-the-password");
    await frame().locator("#password").press("Enter");
    await frame().locator('body[data-step="login"] .alert').waitFor({ timeout: 20000 });
    out.loginError = await frame().locator(".alert").textContent();
    out.focused = await frame().locator(":focus").getAttribute("id");
    await shot("7-wrong-credentials");
    await axe("login-error");
    // Messages that do not come from the widget's frame are ignored: the integrator's page (or
    // anything in it) cannot fake a success or a close.
    await page.evaluate(() => {
      window.postMessage({ type: "success", data: { record_id: "forged" } }, "*");
      window.postMessage({ type: "close" }, "*");
      window.postMessage(JSON.stringify({ type: "success", data: {} }), "*");
    });
    await page.waitForTimeout(300);
    out.afterForged = await page.evaluate(() => window.okraLog.map((e) => e.name));
    out.frameAfterForged = await page.locator("iframe[data-okra-widget]").count();
    await frame().locator("#close").click();
    await page.locator("iframe[data-okra-widget]").waitFor({ state: "detached", timeout: 10000 });
    out.afterClose = await page.evaluate(() => window.okraLog.map((e) => e.name));
    // A secret key given to the widget: refused in the page, never sent anywhere.
    await page.evaluate((k) => window.Okra.buildWithOptions(Object.assign({ key: k }, window.callbacks)), env.OKRA_SECRET_KEY);
    await step("error");
    out.secretKeyError = await frame().locator(".alert").textContent();
    await frame().locator("#heading").press("Escape");
    await page.locator("iframe[data-okra-widget]").waitFor({ state: "detached", timeout: 10000 });
  } else if (scenario === "shorturl") {
    // A link the integrator's back end made (secret key), opened in its page by buildWithShortUrl.
    const made = await fetch(`${base}/v2/sandbox/links/new`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.OKRA_SECRET_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ products: ["auth", "identity"], name: "Test App", meta: { secret_meta: "m" } }),
    }).then((r) => r.json());
    out.link = made.data;
    await page.goto(appUrl);
    await page.evaluate(() =>
      window.Okra.buildWithShortUrl(Object.assign({ short_url: "https://elsewhere.example/l/x" }, window.callbacks))
    );
    out.refusedShortUrl = await page.evaluate(() => window.okraLog.slice());
    await page.evaluate((u) => window.Okra.buildWithShortUrl(Object.assign({ short_url: u }, window.callbacks)), made.data.short_url);
    await step("banks");
    await frame().locator("#bank-search").fill(env.OKRA_BANK_NAME);
    await frame().locator(`button[data-bank="${env.OKRA_BANK}"]`).click();
    await step("login");
    await frame().locator("#username").fill(env.OKRA_USERNAME);
    await frame().locator("#password").fill(env.OKRA_PASSWORD);
    await frame().locator("#password").press("Enter");
    await step("accounts");
    await frame().locator("button.primary").click();
    await step("consent");
    await frame().locator("#agree").click();
    await step("success");
    await frame().locator("#done").click();
    await page.locator("iframe[data-okra-widget]").waitFor({ state: "detached", timeout: 10000 });
  } else if (scenario === "standalone") {
    // A link the integrator's back end made (secret key) and sent by e-mail, opened in the browser
    // itself and driven with the keyboard alone.
    const made = await fetch(`${base}/v2/sandbox/links/new`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.OKRA_SECRET_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ products: ["auth", "balance"], redirect_url: `${appUrl}/done?from=email`, name: "Test App" }),
    }).then((r) => r.json());
    out.link = made.data;
    await page.goto(made.data.short_url);
    await step("banks", page);
    out.landedOn = new URL(page.url()).pathname.split("/")[1];
    await page.keyboard.press("Tab"); // the search box
    await page.keyboard.type(env.OKRA_BANK_NAME);
    await page.keyboard.press("Tab"); // the first bank that matches
    await page.keyboard.press("Enter");
    await step("login", page);
    await page.keyboard.type(env.OKRA_USERNAME); // focus starts in the username field
    await page.keyboard.press("Tab");
    await page.keyboard.type(env.OKRA_PASSWORD);
    await page.keyboard.press("Enter");
    await step("accounts", page);
    out.radios = await page.locator("input[type=radio]").count();
    await page.keyboard.press("Tab"); // the chosen account
    await page.keyboard.press("Tab"); // Continue
    await page.keyboard.press("Enter");
    await step("consent", page);
    await page.keyboard.press("Tab"); // Agree and connect
    await page.keyboard.press("Enter");
    await step("success", page);
    await page.keyboard.press("Tab"); // Done
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === "/done", { timeout: 10000 });
    out.finalUrl = page.url();
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  out.log = await page.evaluate(() => window.okraLog ?? []).catch(() => []);
} catch (e) {
  out.failure = String(e && e.stack ? e.stack : e);
  if (shots) await page.screenshot({ path: join(shots, `failure-${scenario}.png`) }).catch(() => {});
  out.log = await page.evaluate(() => window.okraLog ?? []).catch(() => []);
}
out.consoleErrors = consoleErrors;
out.appOrigin = appUrl;
await browser.close();
app.close();
process.stdout.write(JSON.stringify(out));
