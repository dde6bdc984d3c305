// Reply data of the MMC/SPC commands a CD-ROM answers (MMC-3, SPC-3; the layouts in
// pc-platform §6.6). Pure functions: the drive truncates to the allocation length.

export const CD_BLOCK = 2048;
/** CDs up to this many blocks report the CD-ROM profile, larger ones DVD-ROM. */
const CD_MAX_BLOCKS = (800 * 1024 * 1024) / CD_BLOCK;
const PROFILE_DVD_ROM = 0x0010;
const PROFILE_CD_ROM = 0x0008;

function be16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function be32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
function ascii(b: Uint8Array, o: number, len: number, text: string): void {
  for (let i = 0; i < len; i++) b[o + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}

export function inquiry(vendor: string, product: string, revision: string): Uint8Array {
  const b = new Uint8Array(36);
  b[0] = 0x05; // CD/DVD device
  b[1] = 0x80; // removable
  b[2] = 0x00;
  b[3] = 0x21; // ATAPI transport, SPC response format 1
  b[4] = 31; // additional length
  ascii(b, 8, 8, vendor);
  ascii(b, 16, 16, product);
  ascii(b, 32, 4, revision);
  return b;
}

export function readCapacity(blocks: number): Uint8Array {
  const b = new Uint8Array(8);
  be32(b, 0, blocks - 1);
  be32(b, 4, CD_BLOCK);
  return b;
}

/** A TOC address: BE32 LBA, or {0, M, S, F} with 150 frames of lead-in (MMC-3 §6.25). */
function putAddress(b: Uint8Array, o: number, lba: number, msf: boolean): void {
  if (!msf) return be32(b, o, lba);
  const f = lba + 150;
  b[o] = 0;
  b[o + 1] = Math.floor(f / (75 * 60)) & 0xff;
  b[o + 2] = Math.floor(f / 75) % 60;
  b[o + 3] = f % 75;
}

/** READ TOC format 0: one data track and the lead-out; null for a track number past the last. */
export function tocFormat0(blocks: number, msf: boolean, startTrack: number): Uint8Array | null {
  if (startTrack > 1 && startTrack !== 0xaa) return null;
  const tracks: Array<[number, number]> = [];
  if (startTrack <= 1) tracks.push([1, 0]);
  tracks.push([0xaa, blocks]);
  const b = new Uint8Array(4 + 8 * tracks.length);
  be16(b, 0, b.length - 2);
  b[2] = 1;
  b[3] = 1;
  tracks.forEach(([track, lba], i) => {
    const o = 4 + 8 * i;
    b[o + 1] = 0x14; // ADR 1, data track
    b[o + 2] = track;
    putAddress(b, o + 4, lba, msf);
  });
  return b;
}

/** READ TOC format 1: multi-session info, one session starting at track 1. */
export function tocFormat1(msf: boolean): Uint8Array {
  const b = new Uint8Array(12);
  be16(b, 0, 0x0a);
  b[2] = 1;
  b[3] = 1;
  b[5] = 0x14;
  b[6] = 1;
  putAddress(b, 8, 0, msf);
  return b;
}

/** READ TOC format 2: raw TOC, entries for POINT A0, A1, A2 and track 1 (MMC-3 Table 237). */
export function tocFormat2(blocks: number, msf: boolean): Uint8Array {
  const entries: Array<[number, number, boolean]> = [
    // [point, value, value is an address]
    [0xa0, 1, false], // first track 1, disc type 0 (CD-ROM)
    [0xa1, 1, false], // last track 1
    [0xa2, blocks, true], // lead-out start
    [1, 0, true], // track 1 start
  ];
  const b = new Uint8Array(4 + 11 * entries.length);
  be16(b, 0, b.length - 2);
  b[2] = 1;
  b[3] = 1;
  entries.forEach(([point, value, isAddress], i) => {
    const o = 4 + 11 * i;
    b[o] = 1; // session
    b[o + 1] = 0x14;
    b[o + 3] = point;
    if (isAddress) {
      const addr = new Uint8Array(4);
      putAddress(addr, 0, value, msf);
      b.set(addr.subarray(1), o + 8); // PMIN, PSEC, PFRAME (or the low bytes of the LBA)
    } else {
      b[o + 8] = value;
    }
  });
  return b;
}

export interface ConfigurationState {
  hasMedium: boolean;
  blocks: number;
  locked: boolean;
}

export function currentProfile(s: ConfigurationState): number {
  if (!s.hasMedium) return 0;
  return s.blocks > CD_MAX_BLOCKS ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
}

/** GET CONFIGURATION (MMC-3 §5.5): features 0 profile list, 1 core, 2 morphing, 3 removable medium. */
export function getConfiguration(s: ConfigurationState, rt: number, startFeature: number): Uint8Array {
  const profile = currentProfile(s);
  const features: Array<[number, Uint8Array]> = [];
  // Profile list: DVD-ROM and CD-ROM, the current one flagged.
  const plist = new Uint8Array(4 + 8);
  be16(plist, 0, 0x0000);
  plist[2] = 0x03; // persistent, current
  plist[3] = 8;
  be16(plist, 4, PROFILE_DVD_ROM);
  plist[6] = profile === PROFILE_DVD_ROM ? 1 : 0;
  be16(plist, 8, PROFILE_CD_ROM);
  plist[10] = profile === PROFILE_CD_ROM ? 1 : 0;
  features.push([0, plist]);
  const core = new Uint8Array(12);
  be16(core, 0, 0x0001);
  core[2] = 0x0b; // version 2, persistent, current
  core[3] = 8;
  be32(core, 4, 2); // physical interface: ATAPI
  core[8] = 1; // DBE
  features.push([1, core]);
  const morph = new Uint8Array(8);
  be16(morph, 0, 0x0002);
  morph[2] = 0x07; // version 1, persistent, current
  morph[3] = 4;
  morph[4] = 0x02; // OCEvent: GESN supported
  features.push([2, morph]);
  const removable = new Uint8Array(8);
  be16(removable, 0, 0x0003);
  removable[2] = 0x03;
  removable[3] = 4;
  removable[4] = (1 << 5) | (1 << 3) | (s.locked ? 1 << 2 : 0) | 1; // tray, eject, lock state, lock
  features.push([3, removable]);

  const chosen = features.filter(([code]) => (rt === 2 ? code === startFeature : code >= startFeature));
  const total = 8 + chosen.reduce((n, [, f]) => n + f.length, 0);
  const b = new Uint8Array(total);
  be32(b, 0, total - 4);
  be16(b, 6, profile);
  let o = 8;
  for (const [, f] of chosen) {
    b.set(f, o);
    o += f.length;
  }
  return b;
}

/** GET EVENT STATUS NOTIFICATION, polled (MMC-3 §5.6). `event`: 0 none, 2 new media, 3 removal. */
export function eventStatus(requestedClasses: number, event: number, hasMedium: boolean, trayOpen: boolean): Uint8Array {
  if ((requestedClasses & 0x10) === 0) {
    const b = new Uint8Array(4);
    be16(b, 0, 2);
    b[2] = 0x80; // NEA: no requested class is supported
    b[3] = 0x10; // supported: media
    return b;
  }
  const b = new Uint8Array(8);
  be16(b, 0, 6);
  b[2] = 0x04; // media class
  b[3] = 0x10;
  b[4] = event & 0x0f;
  b[5] = (hasMedium ? 0x02 : 0) | (trayOpen ? 0x01 : 0);
  return b;
}

function modePage(code: number, locked: boolean): Uint8Array | null {
  switch (code) {
    case 0x01: {
      // Read/write error recovery
      const p = new Uint8Array(8);
      p[0] = 0x01;
      p[1] = 6;
      p[3] = 5; // read retry count
      return p;
    }
    case 0x0d: {
      // CD device parameters
      const p = new Uint8Array(8);
      p[0] = 0x0d;
      p[1] = 6;
      be16(p, 4, 60); // S units per M
      be16(p, 6, 75); // F units per S
      return p;
    }
    case 0x0e: {
      // CD audio control: both ports at full volume
      const p = new Uint8Array(16);
      p[0] = 0x0e;
      p[1] = 14;
      p[2] = 0x04; // IMMED
      p[8] = 1;
      p[9] = 0xff;
      p[10] = 2;
      p[11] = 0xff;
      return p;
    }
    case 0x1a: {
      // Power condition: timers off
      const p = new Uint8Array(12);
      p[0] = 0x1a;
      p[1] = 10;
      return p;
    }
    case 0x2a: {
      // CD/DVD capabilities and mechanical status (MMC-3 §6.3.11)
      const p = new Uint8Array(20);
      p[0] = 0x2a;
      p[1] = 18;
      p[2] = 0x3b; // reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R
      p[4] = 0x71; // audio play, mode 2 form 1 and 2, multi-session
      p[5] = 0x7f; // CD-DA commands, accurate stream, R-W, ISRC, UPC
      p[6] = (1 << 5) | (1 << 3) | (locked ? 1 << 1 : 0) | 1; // tray, eject, lock state, lock
      be16(p, 8, 706); // max read speed, kB/s (4x)
      be16(p, 10, 256); // volume levels
      be16(p, 12, 512); // buffer size, KiB
      be16(p, 14, 706); // current read speed
      return p;
    }
    default:
      return null;
  }
}

/** MODE SENSE(10) current values (SPC-3 §6.10); null for an unsupported page. */
export function modeSense10(page: number, hasMedium: boolean, locked: boolean): Uint8Array | null {
  const pages: Uint8Array[] = [];
  if (page === 0x3f) {
    for (const code of [0x01, 0x0d, 0x0e, 0x1a, 0x2a]) pages.push(modePage(code, locked)!);
  } else {
    const p = modePage(page, locked);
    if (!p) return null;
    pages.push(p);
  }
  const total = 8 + pages.reduce((n, p) => n + p.length, 0);
  const b = new Uint8Array(total);
  be16(b, 0, total - 2);
  b[2] = hasMedium ? 0x01 : 0x70; // medium type: 120 mm data CD / no disc
  let o = 8;
  for (const p of pages) {
    b.set(p, o);
    o += p.length;
  }
  return b;
}

/** READ DISC INFORMATION (MMC-3 §5.14): a complete disc with one complete session. */
export function discInformation(): Uint8Array {
  const b = new Uint8Array(34);
  be16(b, 0, 32);
  b[2] = 0x0e; // last session complete, disc complete
  b[3] = 1; // first track
  b[4] = 1; // sessions (LSB)
  b[5] = 1; // first track in last session
  b[6] = 1; // last track in last session
  b[7] = 0x20; // unrestricted use
  b[8] = 0x00; // CD-DA or CD-ROM disc
  return b;
}

/** MECHANISM STATUS (MMC-3 §5.10): header only, no changer slots. */
export function mechanismStatus(trayOpen: boolean): Uint8Array {
  const b = new Uint8Array(8);
  b[1] = trayOpen ? 0x10 : 0; // door open
  return b;
}
