/**
 * The dashboard's access: the server key (asked once, kept in sessionStorage) or an admin
 * token is traded at `POST /admin/token` for a short-lived admin token, renewed before it
 * expires; with no server key and no client auth the service is open (development).
 */
import type { AdminInfo, AdminSession } from "../party/protocol/index.ts";

const KEY = "presence.dashboard.credential";

/** What `POST /admin/token` answered: a session, or why not. */
export type Exchange = { ok: true; session: AdminSession } | { ok: false; status: number; message: string };

/** Asks the service whether the dashboard is open (no credentials needed); null when it cannot be reached. */
export async function adminInfo(): Promise<AdminInfo | null> {
  try {
    const body = (await (await fetch("/admin")).json()) as { content?: AdminInfo };
    return body.content ?? null;
  } catch {
    return null;
  }
}

/** Asks the service for an admin session with this credential (server key or admin token; none to find out whether it is open). */
export async function exchange(credential: string | null): Promise<Exchange> {
  const headers: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
  let response: Response;
  try {
    response = await fetch("/admin/token", { method: "POST", headers });
  } catch (error) {
    return { ok: false, status: 0, message: `the service is not reachable: ${(error as Error).message}` };
  }
  const body = (await response.json().catch(() => null)) as { content?: AdminSession; message?: string } | null;
  if (response.ok && body?.content) return { ok: true, session: body.content };
  return { ok: false, status: response.status, message: body?.message ?? `HTTP ${response.status}` };
}

/** The signed-in dashboard: its token for sockets and calls, kept fresh. */
export class Session {
  #session: AdminSession;
  readonly #credential: string | null;
  #renewal: ReturnType<typeof setTimeout> | null = null;
  /** Called when the token can no longer be renewed (the key changed, an admin token expired). */
  onExpired: (message: string) => void = () => {};

  constructor(session: AdminSession, credential: string | null) {
    this.#session = session;
    this.#credential = credential;
    this.#schedule();
  }

  get open(): boolean {
    return this.#session.open;
  }

  get auth(): boolean {
    return this.#session.auth;
  }

  /** The admin token for sockets (`?token=`), or undefined when the service is open. */
  token(): string | undefined {
    return this.#session.token ?? undefined;
  }

  /** `fetch` with the admin token as a bearer; answers the envelope's content or throws its message. */
  async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    const token = this.token();
    if (token) headers.set("authorization", `Bearer ${token}`);
    if (init.body) headers.set("content-type", "application/json");
    const response = await fetch(path, { ...init, headers });
    const body = (await response.json().catch(() => null)) as { content?: T; message?: string } | null;
    if (!response.ok || !body || body.content === undefined) throw new Error(body?.message ?? `HTTP ${response.status}`);
    return body.content;
  }

  /** Renews the token a minute before it expires (with the stored credential). */
  #schedule(): void {
    if (this.#renewal) clearTimeout(this.#renewal);
    const expiresAt = this.#session.expiresAt;
    if (expiresAt === null) return;
    this.#renewal = setTimeout(async () => {
      const renewed = this.#credential && this.#credential !== this.#session.token ? await exchange(this.#credential) : null;
      if (renewed?.ok) {
        this.#session = renewed.session;
        this.#schedule();
      } else {
        forgetCredential();
        this.onExpired(renewed && !renewed.ok ? renewed.message : "the admin token expired");
      }
    }, Math.max(1000, expiresAt - Date.now() - 60_000));
  }
}

/** The credential this tab gave before (sessionStorage), if any. */
export function storedCredential(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeCredential(credential: string): void {
  sessionStorage.setItem(KEY, credential);
}

export function forgetCredential(): void {
  sessionStorage.removeItem(KEY);
}
