// Drives Debian's chromium headless through playwright-core over the `serve` page and prints
// what a person would see, as JSON lines on stdout.
// Usage: node serve-page.mjs <url> <user-data-dir> <screenshot-dir>   (PLAYWRIGHT_DIR: where playwright-core is)
// 1. At 1280 × 900: the rows, the visible text, the widths; a screenshot; then one line
//    {"phase":"ready",…} and it waits for one JSON line on stdin naming a row to wait for
//    ({"table":…,"fields":…}), which the caller sends once it has posted the batch that adds it.
// 2. Waits (no reload) until that row shows, and says how long it took and that the page was
//    not navigated again.
// 3. At 390 × 844: the same measures and a screenshot; the copy button's clipboard; every
//    console error, uncaught exception and failed request. One line {"phase":"done",…}.
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";

const [url, userDataDir, shots] = process.argv.slice(2);
const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, "package.json"));
const { chromium } = require("playwright-core");
const stdin = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  permissions: ["clipboard-read", "clipboard-write"],
});
const errors = [];
const measure = (page) => page.evaluate(() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  // Rows whose box reaches past the viewport's right edge (a cut-off card or cell).
  overflowing: [...document.querySelectorAll("details.suggestion > summary > *")]
    .filter((n) => n.getBoundingClientRect().width > 0 && n.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((n) => n.className),
  text: document.body.innerText,
  sections: [...document.querySelectorAll("section[data-deployment]")].map((section) => ({
    deployment: section.dataset.deployment,
    rows: [...section.querySelectorAll("details.suggestion")].map((row) => ({
      table: row.querySelector(".c.table").textContent,
      fields: row.querySelector(".c.fields").textContent,
      status: row.querySelector(".c.status").textContent,
      count: row.querySelector(".c.count").textContent,
      docs: row.querySelector(".c.docs").textContent,
      callers: row.querySelector(".c.callers").textContent,
      advice: row.querySelector(".advice")?.textContent ?? null,
      snippet: row.querySelector("pre.row-snippet")?.textContent ?? null,
      sparkline: row.querySelectorAll("svg.spark polyline").length,
    })),
    snippet: section.querySelector("pre.snippet")?.textContent ?? null,
  })),
}));
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`exception: ${error.message}`));
  page.on("requestfailed", (request) => errors.push(`request failed: ${request.url()}`));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-state=loaded]", { timeout: 30000 });
  // Opens the first row, so its samples and snippet are in the screenshot and the text.
  await page.click("section[data-deployment] details.suggestion > summary");
  const wide = await measure(page);
  await page.screenshot({ path: path.join(shots, "page-1280.png"), fullPage: true });
  await page.evaluate(() => {
    window.notReloaded = true;
    window.openKey = document.querySelector("details.suggestion[open]").dataset.key;
  });
  console.log(JSON.stringify({ phase: "ready", wide }));

  const wanted = JSON.parse((await stdin.next()).value);
  const started = Date.now();
  await page.waitForFunction(({ table, fields }) => [...document.querySelectorAll("details.suggestion")]
    .some((row) => row.querySelector(".c.table").textContent === table
      && row.querySelector(".c.fields").textContent === fields), wanted, { timeout: 15000 });
  const appearedMs = Date.now() - started;
  const reloaded = await page.evaluate(() => window.notReloaded !== true
    || performance.getEntriesByType("navigation").length !== 1);
  const opened = await page.evaluate(() => [...document.querySelectorAll("details.suggestion")]
    .some((d) => d.dataset.key === window.openKey && d.open));

  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const narrow = await measure(page);
  await page.screenshot({ path: path.join(shots, "page-390.png"), fullPage: true });
  await page.screenshot({ path: path.join(shots, "page-390-top.png") });
  await page.evaluate(() => document.querySelector("details.suggestion:has(.status-unknown_field)").scrollIntoView());
  await page.screenshot({ path: path.join(shots, "page-390-unknown-field.png") });

  await page.click("pre.snippet + button.copy");
  await page.waitForFunction(() => [...document.querySelectorAll("button.copy")].some((b) => b.textContent === "Copied"));
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const coverage = await page.textContent("#coverage");
  console.log(JSON.stringify({ phase: "done", appearedMs, reloaded, openKept: opened, narrow, copied, coverage, errors }));
} finally {
  await context.close();
}
