/**
 * The signed-in session: Atoll's access and refresh tokens (OAuth 2.0 password grant on
 * /oauth/token), kept in localStorage so every tab shares them. An access token is refreshed
 * shortly before it expires; a refused refresh ends the session, and `onExpired` listeners
 * (the app) send the user to the login page, remembering where they were.
 */
import { ApiError, readError } from "./errors";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const KEY = "atoll.session";
const listeners = new Set<() => void>();
let refreshing: Promise<Tokens | null> | null = null;

export function currentTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

function store(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
}

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

function fromAnswer(answer: TokenAnswer): Tokens {
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt: Date.now() + answer.expires_in * 1000,
  };
}

async function grant(form: Record<string, string>): Promise<Tokens> {
  let response: Response;
  try {
    response = await fetch("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: "console", ...form }),
    });
  } catch (error) {
    throw new ApiError(0, String(error));
  }
  if (!response.ok) throw await readError(response);
  return fromAnswer((await response.json()) as TokenAnswer);
}

/** Atoll checks the password itself, or asks the LDAP directories it is configured with. */
export async function logIn(username: string, password: string): Promise<void> {
  store(await grant({ grant_type: "password", username, password }));
}

/** Tokens handed over in a URL fragment (`#access_token=…`), as the OIDC callback does. */
export function adoptFragment(fragment: string): boolean {
  const found = new URLSearchParams(fragment.replace(/^#/, ""));
  const access = found.get("access_token");
  const refresh = found.get("refresh_token");
  if (!access || !refresh) return false;
  store({
    accessToken: access,
    refreshToken: refresh,
    expiresAt: Date.now() + Number(found.get("expires_in") ?? "7200") * 1000,
  });
  return true;
}

/** A valid access token, refreshed first when it is about to expire; null when signed out. */
export async function accessToken(): Promise<string | null> {
  const tokens = currentTokens();
  if (!tokens) return null;
  if (tokens.expiresAt - Date.now() > 60_000) return tokens.accessToken;
  return (await refresh())?.accessToken ?? null;
}

/** One refresh at a time, however many requests found the token old. */
export function refresh(): Promise<Tokens | null> {
  refreshing ??= (async () => {
    const tokens = currentTokens();
    if (!tokens) return null;
    try {
      const renewed = await grant({ grant_type: "refresh_token", refresh_token: tokens.refreshToken });
      store(renewed);
      return renewed;
    } catch (error) {
      if (error instanceof ApiError && !error.transient) expire();
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function logOut(): Promise<void> {
  const tokens = currentTokens();
  store(null);
  if (tokens) {
    await fetch("/oauth/revoke", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refreshToken }),
    }).catch(() => undefined);
  }
}

/** The session is over (a token refused): forget it and tell the app, once. */
export function expire(): void {
  if (currentTokens() === null) return; // already over: many requests may be refused at once
  store(null);
  for (const listener of listeners) listener();
}

export function onExpired(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
