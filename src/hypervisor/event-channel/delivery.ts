// How "set pending" reaches a domain (Xen's evtchn_port_ops vtable, here only the
// 2-level ABI): through shared_info/vcpu_info bits for a guest, or straight to a
// callback for dom0, whose backends live in the host process.

import type { SharedInfoPage } from './shared-info-page.js';

export interface EventDelivery {
  /** Raise `port` for `vcpu` (the channel's notify vCPU). */
  setPending(port: number, vcpu: number): void;
  /** The port was freed: forget any pending state. */
  clearPending(port: number): void;
  /** EVTCHNOP_unmask: clear the mask and redeliver a pending event. */
  unmask(port: number, vcpu: number): void;
  isPending(port: number): boolean;
  /** Ports this delivery can hold (the 2-level bitmaps: 1024 or 4096 by the page's layout); absent: 1024. */
  portLimit?(): number;
}

/**
 * The 2-level ABI (common/event_2l.c; xen-abi.md §5.2). Order matters: pending bit
 * first (stop if it was set), then — only if unmasked — the selector bit, then
 * upcall_pending, and the kick only on its 0 → 1 edge.
 */
export class TwoLevelDelivery implements EventDelivery {
  constructor(
    private readonly page: SharedInfoPage,
    /** Called when vCPU `vcpu`'s evtchn_upcall_pending goes 0 → 1: inject the callback vector / assert INTx. */
    private readonly kick: (vcpu: number) => void,
  ) {}

  setPending(port: number, vcpu: number): void {
    if (!this.inBitmap(port) || this.page.testAndSetPending(port)) return;
    if (!this.page.isMasked(port)) this.markSelector(port, vcpu);
  }

  clearPending(port: number): void {
    if (this.inBitmap(port)) this.page.clearPending(port);
  }

  unmask(port: number, vcpu: number): void {
    if (this.inBitmap(port) && this.page.testAndClearMask(port) && this.page.isPending(port)) this.markSelector(port, vcpu);
  }

  isPending(port: number): boolean {
    return this.inBitmap(port) && this.page.isPending(port);
  }

  portLimit(): number {
    return this.page.portLimit();
  }

  /** The bitmaps of the page's current layout hold `port` (1024 or 4096); never touch bytes past them. */
  private inBitmap(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < this.page.portLimit();
  }

  private markSelector(port: number, vcpu: number): void {
    const was = this.page.testAndSetSelector(vcpu, Math.floor(port / this.page.wordBits()));
    if (was === false) this.markEventsPending(vcpu);
  }

  /** Xen's vcpu_mark_events_pending. */
  markEventsPending(vcpu: number): void {
    if (!this.page.testAndSetUpcallPending(vcpu)) this.kick(vcpu);
  }
}

/**
 * dom0 in the host: no shared memory, a notification is a call to the backend
 * that owns the port. Pending is remembered per port until the backend reads it
 * (takePending) so a notification raised during bind is not lost.
 */
export class HostDelivery implements EventDelivery {
  private readonly pending = new Set<number>();

  constructor(private readonly notify: (port: number) => void) {}

  setPending(port: number): void {
    this.pending.add(port);
    this.notify(port);
  }

  clearPending(port: number): void {
    this.pending.delete(port);
  }

  unmask(): void {
    // dom0 backends have no mask; every notification was already delivered.
  }

  isPending(port: number): boolean {
    return this.pending.has(port);
  }

  /** Ports notified and not yet taken (save records). */
  pendingPorts(): number[] {
    return [...this.pending];
  }

  /** Restore saved pending flags (no notification: the backends re-read them when they reconnect). */
  restorePending(ports: readonly number[]): void {
    this.pending.clear();
    for (const p of ports) if (Number.isInteger(p) && p >= 0) this.pending.add(p);
  }

  /** Read and clear a port's pending flag (a backend's "did the guest kick me?"). */
  takePending(port: number): boolean {
    return this.pending.delete(port);
  }
}
