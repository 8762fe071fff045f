// The friends example's page server (seed 001: who of my friends is online, on which devices,
// and when each was last seen; live, where the seed polls a cloud function). No app server side
// is needed: the service runs without auth here, so the page joins with its userId as is.
import { bundlePage, page, serve } from "../kit.mjs";

/** PRESENCE_* vars the local service needs for this example: none. */
export const serviceVars = {};

/** Vue's bundler build reads its feature flags from these. */
const VUE_FLAGS = { __VUE_OPTIONS_API__: "false", __VUE_PROD_DEVTOOLS__: "false", __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false" };

export async function start({ presenceHost, port }) {
  return serve(port, {
    "GET /": page({ title: "Friends", body: '    <div id="app"></div>', style: CSS }),
    "GET /app.js": await bundlePage(new URL("app.ts", import.meta.url).pathname, { presenceHost, define: VUE_FLAGS }),
  });
}

const CSS = `
      body { max-width: 28rem; margin: 2rem auto; }
      h1 { font-size: 1.3rem; margin-bottom: .2rem; }
      .me { color: #666; margin-top: 0; }
      ul { list-style: none; padding: 0; }
      li { display: flex; align-items: baseline; gap: .6rem; padding: .55rem .2rem; border-bottom: 1px solid #eee; }
      .dot { width: .6rem; height: .6rem; border-radius: 50%; background: #bbb; flex: none; }
      .online .dot { background: #2a9d4b; }
      .name { font-weight: 600; }
      .state { color: #666; margin-left: auto; font-size: .9rem; white-space: nowrap; }
`;
