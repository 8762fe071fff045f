/**
 * Used by test/examples/*: runs one example as `npm run example` would (its own `partykit dev`
 * with the example's serviceVars, its app server on a free port), opens its pages in headless
 * Chromium, and (with EXAMPLE_SCREENSHOTS=1) saves the screenshot the top README shows
 * (docs/screenshots/example-NAME.png).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { type DevServer, freePort, startDevServer } from "./dev-server.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const SCREENSHOTS = join(ROOT, "docs/screenshots");

/** What every examples/NAME/server.mjs exports. */
export type ExampleModule = {
  serviceVars: Record<string, string>;
  start(options: { presenceHost: string; port: number }): Promise<{ url: string; close(): Promise<void> }>;
};

/** Imports examples/NAME/server.mjs. */
export async function exampleModule(name: string): Promise<ExampleModule> {
  return (await import(pathToFileURL(join(ROOT, "examples", name, "server.mjs")).href)) as ExampleModule;
}

/** A page of the example, with the errors it logged. */
export type OpenPage = { page: Page; errors: string[] };

/** One example running against its own dev server, and a browser to drive it. */
export type RunningExample = {
  service: DevServer;
  url: string;
  /** Opens `path` of the example's app in a fresh browser context (its own storage), collecting page and console errors. */
  open(path: string): Promise<OpenPage>;
  /** Saves docs/screenshots/example-NAME.png from `page`, with EXAMPLE_SCREENSHOTS=1. */
  shot(page: Page): Promise<void>;
  stop(): Promise<void>;
};

/** Starts an example: its service (with its serviceVars and the tests' short timings), its app server, Chromium. */
export async function startExample(name: string): Promise<RunningExample> {
  const example = await exampleModule(name);
  // Auth answers herenow with 401: any answer means the service is up.
  const service = await startDevServer({ vars: example.serviceVars, readyOnAnyStatus: true });
  let app: Awaited<ReturnType<ExampleModule["start"]>> | undefined;
  let browser: Browser | undefined;
  try {
    app = await example.start({ presenceHost: service.host, port: await freePort() });
    browser = await launchChromium();
  } catch (error) {
    await app?.close();
    await service.stop();
    throw error;
  }
  const opened: Page[] = [];
  return {
    service,
    url: app.url,
    async open(path) {
      const context = await browser!.newContext({ viewport: { width: 1000, height: 640 } });
      const page = await context.newPage();
      opened.push(page);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`);
      });
      await page.goto(new URL(path, app!.url).href);
      return { page, errors };
    },
    async shot(page) {
      // Only when asked: a test run leaves the tree as it found it.
      if (process.env.EXAMPLE_SCREENSHOTS !== "1") return;
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `example-${name}.png`), fullPage: true });
    },
    async stop() {
      for (const page of opened) if (!page.isClosed()) await page.context().close();
      await browser?.close();
      await app?.close();
      await service.stop();
    },
  };
}
