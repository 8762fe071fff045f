/**
 * The examples' little web server, shared by every examples/<name>/server.mjs: it bundles a
 * page's code with esbuild (the way your own bundler would) and serves it with the app's routes
 * on a plain Node `http` server. Nothing here is part of partykit-presence.
 */
import { createServer } from "node:http";
import { resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * In this repository the package's entries are its TypeScript sources; an app that installed
 * `partykit-presence` resolves the same names to the package instead.
 */
export const ENTRIES = {
  "partykit-presence/client": resolve(ROOT, "client/index.ts"),
  "partykit-presence/server": resolve(ROOT, "client/server.ts"),
  "partykit-presence/react": resolve(ROOT, "client/react.ts"),
  "partykit-presence/device": resolve(ROOT, "client/device.ts"),
  "partykit-presence/vue": resolve(ROOT, "client/vue.ts"),
};

/**
 * Bundles a page's entry for the browser and returns the JavaScript. `process.env.PRESENCE_HOST`
 * in the page's code becomes the service's host, as a bundler's `define` would make it.
 */
export async function bundlePage(entry, { presenceHost, define = {} }) {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    alias: ENTRIES,
    define: { "process.env.PRESENCE_HOST": JSON.stringify(presenceHost), "process.env.NODE_ENV": '"production"', ...define },
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/** An HTML page with `body` that loads `script` (default `/app.js`) as a module. */
export function page({ title, body, style = "", script = "/app.js" }) {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="icon" href="data:,">
    <title>${title}</title>
    <style>
      body { font: 15px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2330; max-width: 980px; }
      h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 15px; margin: 18px 0 6px; color: #4a5468; }
      button { font: inherit; padding: 4px 12px; cursor: pointer; }
      input, textarea { font: inherit; padding: 4px 8px; }
      .online { color: #137a3a; } .offline { color: #8a8f99; }
      .muted { color: #6b7385; font-size: 13px; }
      ${style}
    </style>
  </head>
  <body>
${body}
    <script type="module" src="${script}"></script>
  </body>
</html>`;
}

/** Reads a request's JSON body ({} when empty). */
export async function readJson(request) {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text ? JSON.parse(text) : {};
}

/** Answers with JSON. */
export function sendJson(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/**
 * Serves `routes` ("GET /path" → handler(request, response, url)) on 127.0.0.1:`port` (0: any
 * free port). A route may be a string (sent as HTML or JavaScript by its path). Resolves with the
 * page's URL and `close()`.
 */
export async function serve(port, routes) {
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const route = routes[`${request.method} ${url.pathname}`];
    try {
      if (route === undefined) sendJson(response, 404, { error: `no route ${request.method} ${url.pathname}` });
      else if (typeof route === "string") {
        const type = url.pathname.endsWith(".js") ? "text/javascript" : "text/html";
        response.writeHead(200, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" }).end(route);
      } else await route(request, response, url);
    } catch (error) {
      if (!response.headersSent) sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
      else response.end();
    }
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", done);
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`;
  return {
    url,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
