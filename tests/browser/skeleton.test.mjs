// The web app loads the wasm module, reaches a healthy API and signs in with a dev session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, baseUrl, artifacts, collectPageErrors } from "./chromium.mjs";

test("home page shows the wasm module's output and a healthy API", async () => {
  const context = await launch();
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(baseUrl + "/");
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const state = (id) => page.getAttribute(`#${id}`, "data-state");
    const text = (id) => page.textContent(`#${id}`);

    assert.equal(await state("wasm-status"), "ok", await text("wasm-status"));
    assert.match(await text("wasm-status"), /^tributary-client \d+\.\d+\.\d+$/, "the module's version, no demo amount");
    assert.equal(await state("api-status"), "ok", await text("api-status"));
    assert.match(await text("api-status"), /^ok · v\d+\.\d+\.\d+ · D1 0011_provider_migrations\.sql · KV ok$/);
    assert.equal(await state("session-status"), "ok", await text("session-status"));
    assert.equal(await text("session-status"), "Signed in as demo-user");
    await page.screenshot({ path: join(artifacts, "skeleton-home.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
