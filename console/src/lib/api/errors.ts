/**
 * One error type for every API answer that is not a success: a Kubernetes `Status`
 * (on /api, /apis) or problem+json (on Atoll's own /kapis and /oauth) is read into the
 * same shape, so pages show `message` and branch on `status` alone.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details?: unknown;

  constructor(status: number, message: string, reason = "", details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.reason = reason;
    this.details = details;
  }

  get forbidden(): boolean {
    return this.status === 403;
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get conflict(): boolean {
    return this.status === 409;
  }

  /** Whether trying again may help: a server that is starting, overloaded, or unreachable. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** The server's words for an error answer, whichever of the two shapes it has. */
export async function readError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  if (body.kind === "Status") {
    return new ApiError(
      response.status,
      String(body.message || response.statusText || "request failed"),
      String(body.reason ?? ""),
      body.details,
    );
  }
  const message = body.detail ?? body.title ?? body.message ?? (text.trim() || response.statusText);
  return new ApiError(
    response.status,
    String(message || `request failed (${response.status})`),
    String(body.error ?? body.type ?? ""),
    body.errors ?? body.invalid_params,
  );
}

/** A sentence for any thrown value. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return `The server cannot be reached: ${error.message}`;
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
