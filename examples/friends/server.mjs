// The friends example's page server (seed 001: who of my friends is online, on which devices,
// and when each was last seen; live, where the seed polls a cloud function). A plain Node
// `http` server: the page, and its app bundled by esbuild from app.ts. No app server side is
// needed: the service runs without auth here, so the page joins with its userId as is.
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");

/** PRESENCE_* vars the local service needs for this example: none. */
export const serviceVars = {};

/** The app imports the published entry names, as a user would; here they lead to the sources. */
const ALIAS = {
  "partykit-presence/client": join(root, "client/index.ts"),
  "partykit-presence/react": join(root, "client/react.ts"),
  "partykit-presence/vue": join(root, "client/vue.ts"),
  "partykit-presence/server": join(root, "client/server.ts"),
};

const page = (presenceHost) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="icon" href="data:,">
    <title>Friends</title>
    <style>
      body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 28rem; color: #222; }
      h1 { font-size: 1.3rem; margin-bottom: .2rem; }
      .me { color: #666; margin-top: 0; }
      ul { list-style: none; padding: 0; }
      li { display: flex; align-items: baseline; gap: .6rem; padding: .55rem .2rem; border-bottom: 1px solid #eee; }
      .dot { width: .6rem; height: .6rem; border-radius: 50%; background: #bbb; flex: none; }
      .online .dot { background: #2a9d4b; }
      .name { font-weight: 600; }
      .state { color: #666; margin-left: auto; font-size: .9rem; white-space: nowrap; }
    </style>
  </head>
  <body>
    <div id="app"></div>
    <script>window.PRESENCE_HOST = ${JSON.stringify(presenceHost)};</script>
    <script type="module" src="/app.js"></script>
  </body>
</html>`;

/** Builds the app and serves it; `port` 0 picks a free one. */
export async function start({ presenceHost, port }) {
  const result = await build({
    entryPoints: [join(here, "app.ts")],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    alias: ALIAS,
    // Vue's bundler build reads its feature flags from these.
    define: { "process.env.NODE_ENV": '"production"', __VUE_OPTIONS_API__: "false", __VUE_PROD_DEVTOOLS__: "false", __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false" },
    logLevel: "error",
  });
  const script = result.outputFiles[0].contents;
  const html = page(presenceHost);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    if (path === "/") response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    else if (path === "/app.js") response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    else response.writeHead(404).end();
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", done);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
