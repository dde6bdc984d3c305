// A small ELF32 i386 executable built from parts, for loader tests: PT_LOAD segments,
// notes in a PT_NOTE segment or only in an SHT_NOTE section (gABI layouts).

export interface SyntheticSegment {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memSize?: number;
}

export interface SyntheticNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface SyntheticElf {
  entry: number;
  segments: SyntheticSegment[];
  /** Notes in one PT_NOTE segment. */
  notes?: SyntheticNote[];
  /** Notes in one SHT_NOTE section, with no PT_NOTE segment for them. */
  sectionNotes?: SyntheticNote[];
}

const pad4 = (n: number): number => (n + 3) & ~3;

export function encodeNotes(notes: SyntheticNote[]): Uint8Array {
  const size = notes.reduce((n, x) => n + 12 + pad4(x.name.length + 1) + pad4(x.desc.length), 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const n of notes) {
    v.setUint32(at, n.name.length + 1, true);
    v.setUint32(at + 4, n.desc.length, true);
    v.setUint32(at + 8, n.type, true);
    for (let i = 0; i < n.name.length; i++) out[at + 12 + i] = n.name.charCodeAt(i);
    at += 12 + pad4(n.name.length + 1);
    out.set(n.desc, at);
    at += pad4(n.desc.length);
  }
  return out;
}

/** A 4-byte little-endian note value (Linux's `.long` notes). */
export const u32Desc = (value: number): Uint8Array => {
  const d = new Uint8Array(4);
  new DataView(d.buffer).setUint32(0, value >>> 0, true);
  return d;
};

export function makeSyntheticElf(spec: SyntheticElf): Uint8Array {
  const notes = spec.notes ? encodeNotes(spec.notes) : undefined;
  const sectionNotes = spec.sectionNotes ? encodeNotes(spec.sectionNotes) : undefined;
  const phnum = spec.segments.length + (notes ? 1 : 0);
  let at = 52 + 32 * phnum;
  const noteAt = at;
  if (notes) at += notes.length;
  const sectionNoteAt = at;
  if (sectionNotes) at += sectionNotes.length;
  const dataAt = spec.segments.map((s) => {
    const here = at;
    at += s.data.length;
    return here;
  });
  at = pad4(at);
  const shoff = sectionNotes ? at : 0;
  if (sectionNotes) at += 2 * 40;
  const img = new Uint8Array(at);
  const v = new DataView(img.buffer);
  img.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(20, 1, true);
  v.setUint32(24, spec.entry >>> 0, true);
  v.setUint32(28, 52, true);
  v.setUint32(32, shoff, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, phnum, true);
  v.setUint16(46, 40, true);
  v.setUint16(48, sectionNotes ? 2 : 0, true);
  spec.segments.forEach((s, i) => {
    const p = 52 + 32 * i;
    v.setUint32(p, 1, true); // PT_LOAD
    v.setUint32(p + 4, dataAt[i], true);
    v.setUint32(p + 8, (s.vaddr ?? s.paddr) >>> 0, true);
    v.setUint32(p + 12, s.paddr >>> 0, true);
    v.setUint32(p + 16, s.data.length, true);
    v.setUint32(p + 20, s.memSize ?? s.data.length, true);
    v.setUint32(p + 24, 7, true);
    v.setUint32(p + 28, 0x1000, true);
    img.set(s.data, dataAt[i]);
  });
  if (notes) {
    const p = 52 + 32 * spec.segments.length;
    v.setUint32(p, 4, true); // PT_NOTE
    v.setUint32(p + 4, noteAt, true);
    v.setUint32(p + 16, notes.length, true);
    v.setUint32(p + 20, notes.length, true);
    v.setUint32(p + 28, 4, true);
    img.set(notes, noteAt);
  }
  if (sectionNotes) {
    img.set(sectionNotes, sectionNoteAt);
    const s = shoff + 40; // section 1; section 0 is the null section
    v.setUint32(s + 4, 7, true); // SHT_NOTE
    v.setUint32(s + 16, sectionNoteAt, true);
    v.setUint32(s + 20, sectionNotes.length, true);
    v.setUint32(s + 32, 4, true);
  }
  return img;
}
