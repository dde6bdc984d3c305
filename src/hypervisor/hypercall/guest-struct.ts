// A hypercall argument struct copied in from the guest, read and written by field
// with the caller's width (xen_ulong_t, xen_pfn_t and guest handles are 4 bytes
// for a 32-bit caller, 8 for a 64-bit one; src/abi/guest-width.ts). The offsets
// come from the struct's ByWidth layout in src/abi; this only knows field kinds.

import type { GuestWidth } from '../../abi/guest-width.js';
import { signed64 } from '../vcpu/backend.js';
import type { HypercallCall } from './hypercall-context.js';

export class GuestStruct {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly width: GuestWidth,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(at: number): number {
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }

  /** A xen_ulong_t / xen_pfn_t field, exact up to 2^53 (larger values are beyond every limit checked against them). */
  ulong(at: number): number {
    return this.width === 4 ? this.u32(at) : Number(this.u64(at));
  }

  /** A XEN_GUEST_HANDLE field as a linear address (GuestHandleAccess rejects a non-canonical one). */
  handle(at: number): number {
    return this.width === 4 ? this.u32(at) : signed64(this.u64(at));
  }

  setU16(at: number, v: number): void {
    this.view.setUint16(at, v & 0xffff, true);
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  setU64(at: number, v: bigint): void {
    this.view.setBigUint64(at, BigInt.asUintN(64, v), true);
  }
  /** Write a xen_ulong_t / xen_pfn_t (an int result sign-extends on 64-bit, as C's conversion does). */
  setUlong(at: number, v: number): void {
    if (this.width === 4) this.setU32(at, v);
    else this.setU64(at, BigInt(Math.trunc(v)));
  }
}

/** Copy `size` bytes in from `linear` as a struct of the caller's width; undefined on a fault. */
export function readStruct(call: HypercallCall, linear: number, size: number): GuestStruct | undefined {
  const bytes = call.guest.copyFrom(linear, size);
  return bytes ? new GuestStruct(bytes, call.width) : undefined;
}
