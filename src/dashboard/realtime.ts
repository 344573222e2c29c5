/**
 * The realtime socket (`/api/realtime`, authenticated by the session cookie; the browser
 * sends the page's Origin, which the server checks). Reconnects with capped exponential
 * backoff; after a reconnect, listeners get a `resync` so pages reload what they may have
 * missed while disconnected.
 */
import type { RealtimeEvent } from './types.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting';
type Listener = (event: RealtimeEvent | { table: 'resync'; type: 'resync'; data: Record<string, never> }) => void;

export class Live {
  private socket: WebSocket | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(state: LiveState) => void>();
  private delayMs = 1000;
  private everOpened = false;
  private stopped = false;
  private timer: number | undefined;
  state: LiveState = 'connecting';

  private readonly stillSignedIn: () => Promise<boolean>;

  /** `stillSignedIn` is asked before each reconnect attempt; false stops (signed out). */
  constructor(stillSignedIn: () => Promise<boolean>) {
    this.stillSignedIn = stillSignedIn;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: LiveState) => void): void {
    this.stateListeners.add(listener);
    listener(this.state);
  }

  private setState(state: LiveState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private open(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/api/realtime`);
    this.socket = socket;
    socket.addEventListener('open', () => {
      const resync = this.everOpened;
      this.everOpened = true;
      this.delayMs = 1000;
      this.setState('live');
      if (resync) for (const listener of this.listeners) listener({ table: 'resync', type: 'resync', data: {} });
    });
    socket.addEventListener('message', (message) => {
      let event: RealtimeEvent;
      try {
        event = JSON.parse(String(message.data)) as RealtimeEvent;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(event);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket || this.stopped) return;
      this.setState('reconnecting');
      this.timer = window.setTimeout(() => {
        void this.stillSignedIn().then((signedIn) => {
          if (signedIn && !this.stopped) this.open();
        });
      }, this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, 30_000);
    });
  }
}
