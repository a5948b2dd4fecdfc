// Drives Debian's chromium headless through playwright-core over the `serve` page and prints
// what a person would see, as JSON: the suggestion rows, each deployment's snippet, what the
// copy button put on the clipboard, and every console error or uncaught exception.
// Usage: node serve-page.mjs <url> <user-data-dir>   (PLAYWRIGHT_DIR: where playwright-core is)
import { createRequire } from "node:module";
import path from "node:path";

const [url, userDataDir] = process.argv.slice(2);
const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, "package.json"));
const { chromium } = require("playwright-core");

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  permissions: ["clipboard-read", "clipboard-write"],
});
const errors = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`exception: ${error.message}`));
  page.on("requestfailed", (request) => errors.push(`request failed: ${request.url()}`));
  await page.goto(url, { waitUntil: "load" });
  // The page sets data-state once every deployment is rendered.
  await page.waitForSelector("body[data-state=loaded]", { timeout: 30000 });
  const sections = await page.$$eval("section[data-deployment]", (nodes) => nodes.map((section) => ({
    deployment: section.dataset.deployment,
    rows: [...section.querySelectorAll("tr.suggestion")].map((row) => {
      const cells = [...row.querySelectorAll("td")].map((td) => td.textContent);
      return { table: cells[1], fields: cells[2], status: cells[3], count: cells[4],
        sparkline: row.querySelectorAll("svg.spark polyline").length };
    }),
    snippet: section.querySelector("pre.snippet")?.textContent ?? null,
  })));
  await page.click("section[data-deployment] button.copy");
  await page.waitForFunction(() => document.querySelector("button.copy").textContent === "Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const summary = await page.textContent("#summary");
  const coverage = await page.textContent("#coverage");
  console.log(JSON.stringify({ sections, copied, summary, coverage, errors }));
} finally {
  await context.close();
}
