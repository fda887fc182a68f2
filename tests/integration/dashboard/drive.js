/*
 * Drives the stopgate dashboard in headless Chromium (puppeteer-core, the
 * system's chromium) for tests/integration/test_dashboard.py: signs in,
 * reads what each page drew, records an opt-out and resolves a review
 * item as staff, tries the same as a viewer, and saves a screenshot of
 * each page. Input: the DASH environment variable (JSON: url, tokens,
 * number, shots dir, chromium path). Output: one JSON object on stdout
 * with what it saw; the Python test asserts on it.
 */
"use strict";

const puppeteer = require("puppeteer-core");
const path = require("path");

const cfg = JSON.parse(process.env.DASH);
const out = { dialogs: 0, pageErrors: [], consoleErrors: [], steps: [] };

function step(name) {
  out.steps.push(name);
}

async function signIn(page, token) {
  await page.goto(cfg.url, { waitUntil: "load" });
  await page.waitForSelector("#token", { visible: true });
  await page.type("#token", token);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#nav:not([hidden])");
}

async function shot(page, name) {
  await new Promise((r) => setTimeout(r, 150));
  await page.screenshot({ path: path.join(cfg.shots, name + ".png"),
    fullPage: true });
}

async function errorText(page) {
  await page.waitForSelector("#error:not([hidden])", { timeout: 5000 });
  return page.$eval("#error", (e) => e.textContent);
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--no-first-run", "--no-default-browser-check"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    page.on("dialog", async (d) => {
      out.dialogs++;
      await d.dismiss();
    });
    page.on("pageerror", (e) => out.pageErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") out.consoleErrors.push(m.text());
    });
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    out.failed = [];
    page.on("response", (r) => {
      if (r.status() >= 400)
        out.failed.push(r.status() + " " + r.request().method() + " " +
          r.url().replace(cfg.url, "/") + " at " +
          out.steps[out.steps.length - 1]);
    });

    /* Sign in as staff: the overview. */
    step("signin staff");
    await signIn(page, cfg.staff);
    out.who = await page.$eval("#who", (e) => e.textContent);
    out.tokenInStorage = await page.evaluate(() =>
      sessionStorage.getItem("stopgate.token"));
    out.cookies = (await page.cookies()).length;
    await page.waitForSelector("#chart-optouts g.day");
    out.overview = await page.evaluate(() => {
      const c = document.getElementById("chart-optouts");
      const segs = Array.from(c.querySelectorAll("rect.seg"));
      const days = Array.from(c.querySelectorAll("g.day"));
      return {
        bars: days.length,
        series: Array.from(new Set(segs.map((s) =>
          s.getAttribute("data-series")))).sort(),
        spikes: Array.from(c.querySelectorAll("path.spike")).map((p) =>
          p.getAttribute("data-day")),
        totals: days.map((g) => Number(g.getAttribute("data-total"))),
        days: days.map((g) => g.getAttribute("data-day")),
        rejectedBars: document.querySelectorAll(
          "#chart-rejected rect.seg").length,
        rejectedLegend: Array.from(document.querySelectorAll(
          "#rej-legend span")).map((e) => e.textContent),
        less: document.getElementById("ov-less").textContent,
        stopRate: Array.from(document.querySelectorAll(
          "#stop-rate tbody tr")).map((tr) => Array.from(tr.cells).map(
          (td) => td.textContent)),
      };
    });
    await shot(page, "overview");

    /* Number: status, staff opt-out with a note full of markup. */
    step("number");
    await page.click("nav a[data-page=number]");
    await page.waitForSelector("#number-input", { visible: true });
    await page.type("#number-input", cfg.number);
    await page.click("#number-form button[type=submit]");
    await page.waitForSelector("#number-status tbody tr");
    out.statusBefore = await page.$$eval("#number-status tbody tr",
      (rows) => rows.map((r) => [r.cells[0].textContent,
        r.cells[1].textContent]));
    await page.click("#optout-form input[value=promo]");
    await page.type("#optout-form input[name=note]", cfg.note);
    await page.click("#optout-form button[type=submit]");
    await page.waitForSelector("#optout-form .notice");
    out.optoutNotice = await page.$eval("#optout-form .notice",
      (e) => e.textContent);
    await page.waitForFunction(() => Array.from(document.querySelectorAll(
      "#number-status tbody tr")).some((r) =>
      r.cells[0].textContent === "promo" &&
      r.cells[1].textContent === "blocked"));
    out.statusAfter = await page.$$eval("#number-status tbody tr",
      (rows) => rows.map((r) => [r.cells[0].textContent,
        r.cells[1].textContent]));
    out.history = await page.$$eval("#number-history tbody tr",
      (rows) => rows.map((r) => Array.from(r.cells).map(
        (c) => c.textContent)));
    out.historyMarkup = await page.$$eval("#number-history b",
      (b) => b.length);
    await shot(page, "number");

    /* A number that replied LESS: the marker and what its cap leaves. */
    await page.$eval("#number-input", (e) => { e.value = ""; });
    await page.type("#number-input", cfg.lessNumber);
    await page.click("#number-form button[type=submit]");
    await page.waitForFunction((n) =>
      document.getElementById("number-shown").textContent === n,
      {}, cfg.lessNumber);
    out.lessStatus = await page.$$eval("#number-status tbody tr",
      (rows) => rows.map((r) => [r.cells[0].textContent,
        r.getAttribute("data-less"), r.cells[4].textContent]));

    /* Review queue: subscriber text shown as text; resolve one. */
    step("review");
    await page.click("nav a[data-page=review]");
    await page.waitForSelector("#review-table tbody tr[data-id]");
    out.review = await page.$$eval("#review-table tbody tr[data-id]",
      (rows) => rows.map((r) => ({ id: r.getAttribute("data-id"),
        text: r.querySelector("td.text").textContent,
        age: r.cells[1].textContent })));
    out.reviewImgs = await page.$$eval("#review-table img", (i) => i.length);
    out.anyImgs = await page.$$eval("img", (i) => i.length);
    await new Promise((r) => setTimeout(r, 300));  /* an onerror would
                                                      have fired */
    await shot(page, "review");
    const first = out.review[0].id;
    await page.type("#review-table tr[data-id='" + first + "'] input.note",
      "asked to stop on the phone");
    await page.click("#review-table tr[data-id='" + first +
      "'] button.optout");
    await page.waitForFunction((id) => !document.querySelector(
      "#review-table tr[data-id='" + id + "']"), {}, first);
    out.reviewResolved = first;
    out.reviewLeft = await page.$$eval("#review-table tbody tr[data-id]",
      (rows) => rows.map((r) => r.getAttribute("data-id")));

    /* Audit: a page of rejected sends, a CSV download. */
    step("audit");
    await page.click("nav a[data-page=audit]");
    await page.waitForSelector("#audit-table tbody tr[data-id]");
    out.auditRows = await page.$$eval("#audit-table tbody tr[data-id]",
      (rows) => rows.map((r) => Array.from(r.cells).map(
        (c) => c.textContent)));
    await shot(page, "audit");
    /* "Download CSV": the file the page builds, caught as it is made. */
    await page.evaluate(() => {
      const make = URL.createObjectURL;
      window.csvBlobs = [];
      URL.createObjectURL = (b) => {
        window.csvBlobs.push(b);
        return make.call(URL, b);
      };
    });
    await page.click("#audit-csv");
    await page.waitForFunction(() => window.csvBlobs.length > 0);
    out.auditCsv = await page.evaluate(() => window.csvBlobs[0].text());

    /* Live: upstream binds, sessions per account, rates. */
    step("live");
    await page.click("nav a[data-page=live]");
    await page.waitForSelector("#live-upstreams tbody tr");
    await page.waitForFunction(() =>
      document.getElementById("live-fwd").textContent !== "–",
      { timeout: 8000 });
    out.live = await page.evaluate(() => ({
      sessions: document.getElementById("live-sessions").textContent,
      fwd: document.getElementById("live-fwd").textContent,
      upstreams: Array.from(document.querySelectorAll(
        "#live-upstreams tbody tr")).map((r) => [r.cells[0].textContent,
        r.cells[1].textContent]),
      accounts: Array.from(document.querySelectorAll(
        "#live-accounts tbody tr")).map((r) => [r.cells[0].textContent,
        r.cells[1].textContent]),
    }));
    await shot(page, "live");

    /* A viewer: reads, and is refused every change (403 shown). */
    step("viewer");
    await page.click("#signout");
    await page.waitForSelector("#signin:not([hidden])");
    out.storageAfterSignout = await page.evaluate(() =>
      sessionStorage.getItem("stopgate.token"));
    await signIn(page, cfg.viewer);
    out.viewerWho = await page.$eval("#who", (e) => e.textContent);
    await page.click("nav a[data-page=number]");
    await page.waitForSelector("#number-input", { visible: true });
    await page.type("#number-input", cfg.viewerNumber);
    await page.click("#number-form button[type=submit]");
    await page.waitForSelector("#number-status tbody tr");
    await page.click("#optout-form input[value=promo]");
    await page.type("#optout-form input[name=note]", "viewer try");
    await page.click("#optout-form button[type=submit]");
    out.viewerOptoutError = await errorText(page);
    await page.click("nav a[data-page=review]");
    await page.waitForSelector("#review-table tbody tr[data-id]");
    await page.click("#review-table tbody tr[data-id] button.dismiss");
    out.viewerReviewError = await errorText(page);
    await shot(page, "viewer-refused");

    /* Nothing was fetched from anywhere but the daemon. */
    out.foreign = requests.filter((u) => !u.startsWith(cfg.url) &&
      !u.startsWith("data:") && !u.startsWith("blob:"));
    out.tokenInUrls = requests.filter((u) => u.includes(cfg.staff) ||
      u.includes(cfg.viewer)).length;
  } finally {
    await browser.close();
  }
}

main().then(() => {
  process.stdout.write(JSON.stringify(out) + "\n");
}, (e) => {
  out.error = String(e && e.stack ? e.stack : e);
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(1);
});
