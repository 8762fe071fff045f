/** The types of server.mjs, for the tests and the example runner that import it from TypeScript. */
export declare const serviceVars: Record<string, string>;
export declare function start(options: { presenceHost: string; port: number }): Promise<{ url: string; close(): Promise<void> }>;
