// Branded number types, so the compiler stops a port being used as a frame
// (rust-vmm's GuestAddress / PioAddress idea). A brand costs nothing at run time.

/** Guest-physical address. */
export type Gpa = number & { readonly __brand: 'Gpa' };
/** Guest frame number (Gpa >>> 12). */
export type Gfn = number & { readonly __brand: 'Gfn' };
/** I/O port number, 0..0xFFFF. */
export type Port = number & { readonly __brand: 'Port' };
/** Domain id (0 = dom0, the host process). */
export type DomId = number & { readonly __brand: 'DomId' };

export const gpa = (n: number): Gpa => n as Gpa;
export const port = (n: number): Port => n as Port;
export const domId = (n: number): DomId => n as DomId;

/** Access widths the buses and backends use, in bytes. */
export type AccessSize = 1 | 2 | 4;

/** Format a number as 0x-prefixed hex, zero-padded to `digits`, for diagnostics. */
export function hex(n: number, digits = 8): string {
  return '0x' + (n >>> 0).toString(16).padStart(digits, '0');
}
