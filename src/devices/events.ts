// A typed event bus between the device model and its frontends (v86's bus, typed).
// Devices never touch files, sockets or terminals: they emit events here and the
// host side (console, logs, tests) listens. A misspelt event name is a compile error.

export interface DomainEventMap {
  /** Bytes a UART transmitted. `port` is the COM index (0 = COM1). */
  'serial.tx': { port: number; bytes: Uint8Array };
  /** Bytes written to a debug console port (isa-debugcon). */
  'debugcon.tx': { ioport: number; bytes: Uint8Array };
  /** A line for the domain's log (`tsxen dmesg`). */
  log: { level: 'info' | 'warn' | 'error'; source: string; message: string };
  /** A device asked for a platform reset (i8042 pulse, port 0x92, 0xCF9). */
  'platform.reset': { source: string };
  /** A device asked for power-off (ACPI PM1a SLP_EN). */
  'platform.poweroff': { source: string };
}

type Listener<T> = (payload: T) => void;

export class EventBus<M extends object = DomainEventMap> {
  private readonly listeners = new Map<keyof M, Array<Listener<never>>>();

  on<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void {
    let list = this.listeners.get(name);
    if (!list) this.listeners.set(name, (list = []));
    list.push(listener as Listener<never>);
    return () => {
      const l = this.listeners.get(name);
      if (l) l.splice(l.indexOf(listener as Listener<never>), 1);
    };
  }

  emit<K extends keyof M>(name: K, payload: M[K]): void {
    const list = this.listeners.get(name);
    if (!list) return;
    for (const l of list) (l as Listener<M[K]>)(payload);
  }
}
