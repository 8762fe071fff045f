/**
 * Deno-only type fix for `partykit/server` (loaded by deno.json `compilerOptions.types`).
 *
 * partykit's server.d.ts imports `Request` and `DurableObjectStorage` from
 * "@cloudflare/workers-types", whose package.json names no entry point. tsc (moduleResolution
 * "Bundler") resolves that to the package's `index.ts`, a module that exports the types; Deno
 * resolves it to `index.d.ts`, a script of global declarations that exports nothing, so
 * `Party.Request` and `Party.Storage` come out as empty interfaces and every `request.url` or
 * `storage.put` fails `deno check`. This augmentation gives both interfaces the same bases
 * tsc sees, taken from the exporting `index.ts`. For tsc it repeats what is already there.
 */
import type { DurableObjectStorage, Request as CFRequest } from "../node_modules/@cloudflare/workers-types/index.ts";

declare module "partykit/server" {
  interface Request extends CFRequest {}
  interface Storage extends DurableObjectStorage {}
}
