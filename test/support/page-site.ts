/**
 * The browser tests' pages: modules written into the scratch project where the packed package
 * is installed (test/support/packed.ts), bundled for the browser by esbuild as an app would (a
 * Node built-in anywhere in their imports fails the build), and served with their HTML pages
 * from a tiny server on 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

/** A page whose body runs `script` as a module, with an empty `#app` to render into. */
export function pageHtml(script: string): string {
  return `<!doctype html>
<html>
  <head><meta charset="utf-8"><link rel="icon" href="data:,"><title>presence</title></head>
  <body>
    <div id="app"></div>
    <script type="module">${script}</script>
  </body>
</html>`;
}

/** The served site. */
export type PageSite = {
  /** The site's root URL (ends with `/`). */
  url: string;
  /** Each script's bundled inputs (paths relative to the scratch project), by its name. */
  inputs: Record<string, string[]>;
  /** Stops the server and removes the bundles. */
  close(): Promise<void>;
};

/**
 * Bundles each of `scripts` (name → module source, served as `/NAME`) from `packedDir`, and
 * serves them with `pages` (path → HTML).
 */
export async function servePages(packedDir: string, scripts: Record<string, string>, pages: Record<string, string>): Promise<PageSite> {
  const bundleDir = mkdtempSync(join(tmpdir(), "presence-pages-"));
  const served = new Map<string, Buffer>();
  const inputs: Record<string, string[]> = {};
  try {
    for (const [name, source] of Object.entries(scripts)) {
      const entry = `${name.replace(/\.js$/, "")}-entry.mjs`;
      writeFileSync(join(packedDir, entry), source);
      const result = await build({
        entryPoints: [entry],
        absWorkingDir: packedDir,
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        outfile: join(bundleDir, name),
        metafile: true,
        logLevel: "silent",
        // Vue's bundler build reads its feature flags from these.
        define: { "process.env.NODE_ENV": '"production"', __VUE_OPTIONS_API__: "true", __VUE_PROD_DEVTOOLS__: "false", __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false" },
      });
      inputs[name] = Object.keys(result.metafile.inputs);
      served.set(`/${name}`, readFileSync(join(bundleDir, name)));
    }
  } catch (error) {
    rmSync(bundleDir, { recursive: true, force: true });
    throw error;
  }
  const server = createServer((request, response) => {
    const html = pages[request.url ?? ""];
    const script = served.get(request.url ?? "");
    if (html !== undefined) response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    else if (script !== undefined) response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    else response.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`,
    inputs,
    close: async () => {
      await new Promise<void>((done) => server.close(() => done()));
      rmSync(bundleDir, { recursive: true, force: true });
    },
  };
}
