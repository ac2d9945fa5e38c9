// Launches Debian's Chromium through playwright-core with the flags this machine needs.
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const baseUrl = process.env.TRIBUTARY_URL ?? "http://127.0.0.1:8787";
export const artifacts = process.env.TRIBUTARY_ARTIFACTS ?? "test-artifacts";

export async function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "tributary-chromium-")), {
    executablePath: process.env.CHROMIUM_BIN ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
      "--disable-extensions", "--no-default-browser-check"],
    viewport: { width: 1280, height: 800 },
  });
}

// Fails a test on any console error or uncaught exception the page produces.
export function collectPageErrors(page) {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}
