/**
 * One multiplexed watch socket per tab (`/kapis/resources.atoll.io/v1alpha1/watches`): pages
 * subscribe by resource, namespace and selectors, and get every change as it happens. The
 * socket opens on the first subscription, closes a while after the last, and reconnects with
 * backoff, re-subscribing from each subscription's last resourceVersion.
 */
import { accessToken } from "./session";

export interface WatchSpec {
  cluster: string;
  group: string;
  version?: string;
  resource: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Start from here (no initial state: `onSynced` comes first). */
  resourceVersion?: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchHandlers {
  onEvent(type: WatchEventType, object: Record<string, unknown>): void;
  /** Everything before this was the initial state (or, after a resync, the new state). */
  onSynced?(): void;
  /** Forget what you know of this subscription: a full state follows. */
  onResync?(): void;
  onError?(status: { code?: number; message?: string }): void;
}

interface Subscription {
  id: string;
  spec: WatchSpec;
  handlers: WatchHandlers;
  resourceVersion?: string;
}

type Frame = {
  id: string | null;
  type: string;
  object?: { metadata?: { resourceVersion?: string } } & Record<string, unknown>;
  status?: { code?: number; message?: string };
};

const PATH = "/kapis/resources.atoll.io/v1alpha1/watches";

export class WatchSocket {
  private socket: WebSocket | null = null;
  private subscriptions = new Map<string, Subscription>();
  private counter = 0;
  private retry = 0;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly url: () => string;
  private readonly factory: (url: string, protocols?: string[]) => WebSocket;

  constructor(
    url?: () => string,
    factory: (url: string, protocols?: string[]) => WebSocket = (u, p) => new WebSocket(u, p),
  ) {
    this.url =
      url ?? (() => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${PATH}`);
    this.factory = factory;
  }

  /** Starts a watch; the returned function stops it. */
  subscribe(spec: WatchSpec, handlers: WatchHandlers): () => void {
    const id = `w${++this.counter}`;
    const subscription: Subscription = { id, spec, handlers, resourceVersion: spec.resourceVersion };
    this.subscriptions.set(id, subscription);
    if (this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    if (this.socket?.readyState === WebSocket.OPEN) this.send(subscription);
    else void this.connect();
    return () => this.unsubscribe(id);
  }

  private unsubscribe(id: string): void {
    if (!this.subscriptions.delete(id)) return;
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ op: "unsubscribe", id }));
    }
    if (this.subscriptions.size === 0 && !this.closeTimer) {
      // Pages come and go on navigation: keep the socket a moment for the next one.
      this.closeTimer = setTimeout(() => {
        this.closeTimer = null;
        if (this.subscriptions.size === 0) this.close();
      }, 10_000);
    }
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  private send(subscription: Subscription): void {
    const { spec } = subscription;
    const frame: Record<string, string> = {
      op: "subscribe",
      id: subscription.id,
      cluster: spec.cluster,
      group: spec.group,
      resource: spec.resource,
    };
    if (spec.version) frame.version = spec.version;
    if (spec.namespace) frame.namespace = spec.namespace;
    if (spec.labelSelector) frame.labelSelector = spec.labelSelector;
    if (spec.fieldSelector) frame.fieldSelector = spec.fieldSelector;
    if (subscription.resourceVersion) frame.resourceVersion = subscription.resourceVersion;
    this.socket?.send(JSON.stringify(frame));
  }

  private async connect(): Promise<void> {
    if (this.socket || this.reconnectTimer) return;
    const token = await accessToken();
    if (this.socket) return;
    const protocols = token
      ? [`base64url.bearer.authorization.k8s.io.${base64url(token)}`, "watches.atoll.io"]
      : undefined;
    const socket = this.factory(this.url(), protocols);
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      for (const subscription of this.subscriptions.values()) this.send(subscription);
    };
    socket.onmessage = (message) => this.receive(JSON.parse(String(message.data)) as Frame);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.subscriptions.size === 0) return;
      const wait = Math.min(30_000, 500 * 2 ** this.retry++);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        void this.connect();
      }, wait);
    };
  }

  private receive(frame: Frame): void {
    const subscription = frame.id ? this.subscriptions.get(frame.id) : undefined;
    if (!subscription) return;
    const version = frame.object?.metadata?.resourceVersion;
    switch (frame.type) {
      case "ADDED":
      case "MODIFIED":
      case "DELETED":
        if (version) subscription.resourceVersion = version;
        subscription.handlers.onEvent(frame.type, frame.object ?? {});
        break;
      case "BOOKMARK":
        if (version) subscription.resourceVersion = version;
        break;
      case "SUBSCRIBED":
        subscription.handlers.onSynced?.();
        break;
      case "RESYNC":
        subscription.handlers.onResync?.();
        break;
      case "ERROR":
        this.subscriptions.delete(subscription.id);
        subscription.handlers.onError?.(frame.status ?? {});
        break;
    }
  }
}

function base64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export const watches = new WatchSocket();
