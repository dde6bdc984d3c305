// Save record of PCI bus 0 (xen-hvm-architecture: Xen's device model saves each PCI
// function's configuration space with its device): the 0xCF8 latch, the 0xCF9 reset
// control byte and every function's 256 configuration bytes. Everything the bus
// derives from config (BAR decoding, PIRQ routes, PM I/O base, PAM) is rebuilt from
// these bytes on restore, so nothing derived is stored.
//
// The image is untrusted: parsePciBusState checks every field and names the one
// that is wrong before anything is applied.

export interface PciFunctionRecord {
  /** bus << 8 | device << 3 | function (bus 0 only). */
  bdf: number;
  /** The function's name when saved, for messages only. */
  name: string;
  /** The 256 configuration bytes as 512 lowercase hex digits. */
  config: string;
}

export interface PciBusState {
  version: 1;
  /** CONFIG_ADDRESS as the guest last wrote it (a save may fall between 0xCF8 and 0xCFC). */
  configAddress: number;
  /** The reset control register's readable bit (0xCF9 bit 1, SYS_RST). */
  resetControl: number;
  functions: PciFunctionRecord[];
}

export interface ParsedPciFunction {
  bdf: number;
  name: string;
  config: Uint8Array;
}

export interface ParsedPciBusState {
  configAddress: number;
  resetControl: number;
  functions: ParsedPciFunction[];
}

export function configToHex(config: Uint8Array): string {
  let s = '';
  for (const b of config) s += b.toString(16).padStart(2, '0');
  return s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function u32(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`pci record: ${field} is not a 32-bit unsigned integer`);
  return v;
}

/** Validate a record from an image; throws RangeError naming the bad field. */
export function parsePciBusState(raw: unknown): ParsedPciBusState {
  if (!isObject(raw)) throw new RangeError('pci record: not an object');
  if (raw.version !== 1) throw new RangeError(`pci record: version ${String(raw.version)} is not supported`);
  const configAddress = u32(raw.configAddress, 'configAddress');
  const resetControl = u32(raw.resetControl, 'resetControl');
  if (resetControl > 0xff) throw new RangeError('pci record: resetControl is not a byte');
  if (!Array.isArray(raw.functions)) throw new RangeError('pci record: functions is not an array');
  // Bus 0 has at most 256 functions; a longer list is not from a PCI bus.
  if (raw.functions.length > 256) throw new RangeError(`pci record: ${raw.functions.length} functions is more than bus 0 holds`);
  const seen = new Set<number>();
  const functions: ParsedPciFunction[] = [];
  raw.functions.forEach((f: unknown, i: number) => {
    if (!isObject(f)) throw new RangeError(`pci record: functions[${i}] is not an object`);
    const bdf = f.bdf;
    if (typeof bdf !== 'number' || !Number.isInteger(bdf) || bdf < 0 || bdf > 0xff) throw new RangeError(`pci record: functions[${i}].bdf is not a bus-0 device/function`);
    if (seen.has(bdf)) throw new RangeError(`pci record: functions[${i}].bdf ${bdf} appears twice`);
    seen.add(bdf);
    const name = typeof f.name === 'string' ? f.name.slice(0, 64) : '?';
    const hex = f.config;
    if (typeof hex !== 'string' || hex.length !== 512 || !/^[0-9a-f]*$/.test(hex)) throw new RangeError(`pci record: functions[${i}].config is not 256 bytes of lowercase hex`);
    const config = new Uint8Array(256);
    for (let o = 0; o < 256; o++) config[o] = parseInt(hex.slice(2 * o, 2 * o + 2), 16);
    functions.push({ bdf, name, config });
  });
  return { configAddress, resetControl, functions };
}
