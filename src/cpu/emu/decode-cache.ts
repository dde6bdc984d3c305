// Decoded-instruction cache per PHYSICAL page (ARCHITECTURE.md "Performance
// design"). Each instruction is decoded once into an Insn; straight-line runs of
// them form blocks keyed by physical address and the CS.D mode they were decoded
// in. A frame holding cached code is flagged in cpu.mmu.codePages so CPU writes
// reach invalidate(); DMA/loader writes arrive through GuestMemory.onWrite. A
// write that hits cached code (64-byte granularity) drops the whole frame and, if
// the frame is the one executing, makes the current block stop after the writing
// instruction. A block runs across not-taken Jcc (a taken one leaves it early) and
// ends at other control transfers, the page end or 64 instructions.
//
// Finding the next block: block-to-block links and an EIP jump cache, both valid
// only within one "chain epoch" (cpu.ts bumps it whenever CS, CPL, mode or the
// TLB may have changed); otherwise a translation + page lookup. Hot blocks are
// compiled to JavaScript by block-compiler.ts.

import { decode, InstructionFetcher } from './decoder.js';
import { Insn } from './insn.js';
import type { CompiledBlock } from './block-compiler.js';
import { ACCESS_EXEC } from './mmu.js';
import { CpuException, CS, EXC_GP, type CpuState } from './state.js';

/** Longest block, in instructions. */
const MAX_BLOCK = 64;
/** Blocks one frame may accumulate before it is dropped and rebuilt. */
const MAX_BLOCKS_PER_PAGE = 4096;
/** Entries of the EIP → block jump cache (a power of two). */
const JUMP_CACHE_SIZE = 4096;
/** Code-presence granularity inside a page (bytes). */
const CHUNK_SHIFT = 6;

export class Block {
  readonly insns: Insn[] = [];
  /** Bytes from the first instruction's start to the last one's end. */
  byteLen = 0;
  /** Cleared when the frame's decodes are dropped: links to this block are then dead. */
  valid = true;
  /** The last instruction allows chaining (see Insn.chainable). */
  chainable = true;
  // Two successor links (taken / fall-through), each valid for one chain epoch.
  link1: Block | null = null;
  link1Eip = 0;
  link1Epoch = -1;
  link2: Block | null = null;
  link2Eip = 0;
  link2Epoch = -1;
  /** Frame the block starts in (SMC checks against the executing frame). */
  gfn = -1;
  /** For a single instruction that continues in the next linear page: that page's frame (else -1). */
  crossGfn = -1;
  /** Executions so far (until compiled), and the compiled form (block-compiler.ts). */
  hits = 0;
  compiled: CompiledBlock | null = null;
  constructor(
    /** CS.D when decoded: a different mode means a different decode. */
    readonly code32: boolean,
    /** False for instructions that cross pages or run from MMIO (decoded every time). */
    readonly cached: boolean,
  ) {}
}

class CodePage {
  /** Blocks by start offset in the page. */
  readonly blocks: Array<Block | undefined> = new Array(4096);
  /** Every block of the page, to kill their links when the page is dropped. */
  readonly all: Block[] = [];
  /** 64-byte chunks that hold decoded bytes (writes elsewhere in the page keep the cache). */
  readonly chunks = new Uint8Array(4096 >> CHUNK_SHIFT);
  constructor(readonly gfn: number) {}
}

export class DecodeCache {
  private readonly pages = new Map<number, CodePage>();
  private lastPage: CodePage | null = null;
  private readonly fetcher: InstructionFetcher;
  /** Frame of the block being executed (-1 = none): writes to it stop the block. */
  currentGfn = -1;
  /** The block whose compiled function ran last (compiled blocks chain into each other: block-compiler.ts). */
  chainTail: Block | null = null;
  /**
   * Chain epoch: block links are followed only within the epoch they were made in.
   * It moves on whenever what a lookup depends on may have changed: CS base/limit,
   * CPL, mode, paging/TLB, event delivery, state loads.
   */
  epoch = 0;
  // Jump cache: CS:EIP → block, valid for one chain epoch (like a TLB for blocks).
  private readonly jcEip = new Int32Array(JUMP_CACHE_SIZE);
  private readonly jcEpoch = new Float64Array(JUMP_CACHE_SIZE).fill(-1);
  private readonly jcBlock: Array<Block | null> = new Array<Block | null>(JUMP_CACHE_SIZE).fill(null);
  /** Statistics: blocks decoded, frames invalidated. */
  blocksDecoded = 0;
  invalidations = 0;

  constructor(private readonly cpu: CpuState) {
    this.fetcher = new InstructionFetcher(cpu);
  }

  /**
   * The block at CS:EIP: from the jump cache when it was found there in this chain
   * epoch (nothing it depends on changed since), else by lookup().
   */
  find(): Block {
    const eip = this.cpu.eip;
    const slot = (eip ^ (eip >>> 12)) & (JUMP_CACHE_SIZE - 1);
    if (this.jcEip[slot] === eip && this.jcEpoch[slot] === this.epoch) {
      const b = this.jcBlock[slot]!;
      if (b.valid) return b;
    }
    const b = this.lookup();
    if (b.cached) {
      this.jcEip[slot] = eip;
      this.jcEpoch[slot] = this.epoch;
      this.jcBlock[slot] = b;
    }
    return b;
  }

  /** The block at CS:EIP (decoding it if needed). Throws the fetch/decode fault of its first instruction. */
  lookup(): Block {
    const cpu = this.cpu;
    const eip = cpu.eip;
    if (eip >>> 0 > cpu.segLimit[CS]) throw new CpuException(EXC_GP, 0);
    const linear = (cpu.segBase[CS] + eip) | 0;
    const phys = cpu.mmu.translate(linear, ACCESS_EXEC, cpu.cpl === 3);
    const gfn = Math.floor(phys / 4096);
    const off = phys & 0xfff;
    this.currentGfn = gfn;
    let page = this.lastPage;
    if (page === null || page.gfn !== gfn) {
      page = this.pages.get(gfn) ?? null;
      if (page !== null) this.lastPage = page;
    }
    let b: Block | undefined = page !== null ? page.blocks[off] : undefined;
    if (b === undefined || b.code32 !== cpu.code32 || !b.valid || (b.crossGfn >= 0 && !this.sameNextFrame(linear, b.crossGfn))) {
      b = this.build(linear, eip, gfn, off, page);
    }
    if ((eip >>> 0) + b.byteLen - 1 > cpu.segLimit[CS]) return this.clipToLimit(b, eip);
    return b;
  }

  /** Whether the linear page after `linear`'s still maps to frame `gfn` (cross-page instructions). */
  private sameNextFrame(linear: number, gfn: number): boolean {
    const phys = this.cpu.mmu.translate(((linear & ~0xfff) + 4096) | 0, ACCESS_EXEC, this.cpu.cpl === 3);
    return Math.floor(phys / 4096) === gfn;
  }

  /** The instructions of `b` that lie entirely inside the CS limit; the first one past it is #GP(0). */
  private clipToLimit(b: Block, eip: number): Block {
    const limit = this.cpu.segLimit[CS];
    const clipped = new Block(b.code32, false);
    clipped.chainable = false;
    clipped.gfn = b.gfn;
    let at = eip >>> 0;
    for (const ins of b.insns) {
      if (at + ins.len - 1 > limit) break;
      clipped.insns.push(ins);
      at += ins.len;
    }
    if (clipped.insns.length === 0) throw new CpuException(EXC_GP, 0);
    clipped.byteLen = at - (eip >>> 0);
    return clipped;
  }

  private build(linear: number, eip: number, gfn: number, off: number, page: CodePage | null): Block {
    const cpu = this.cpu;
    const f = this.fetcher;
    const mem = cpu.memory;
    const frameOffset = gfn < mem.frameOffset.length ? mem.frameOffset[gfn] : -1;
    f.begin((linear & ~0xfff) | 0, frameOffset);
    const code32 = cpu.code32;
    // The first instruction: its faults are the caller's.
    const first = new Insn();
    decode(cpu, f, eip, code32, first);
    if (frameOffset < 0 || (f.crossed && f.nextOffset < 0)) {
      // Code in MMIO (or reaching into it): decoded every time.
      const single = new Block(code32, false);
      single.insns.push(first);
      single.byteLen = first.len;
      single.chainable = false;
      return single;
    }
    if (f.crossed) return this.cacheCrossing(first, code32, gfn, off, page, f.nextGfn);
    const block = new Block(code32, true);
    block.gfn = gfn;
    block.insns.push(first);
    let at = off + first.len;
    let ip = (eip + first.len) | 0;
    let ends = first.endsBlock;
    while (!ends && block.insns.length < MAX_BLOCK && at < 4096 && (code32 || ip <= 0xffff)) {
      const ins = new Insn();
      try {
        decode(cpu, f, ip, code32, ins);
      } catch (e) {
        if (e instanceof CpuException) break; // raised when (if) it is reached
        throw e;
      }
      if (f.crossed) break;
      if (!code32 && ip + ins.len > 0x10000) break;
      block.insns.push(ins);
      at += ins.len;
      ip = (ip + ins.len) | 0;
      ends = ins.endsBlock;
    }
    block.byteLen = at - off;
    if (page === null) {
      page = new CodePage(gfn);
      this.pages.set(gfn, page);
      this.lastPage = page;
    }
    page.blocks[off] = block;
    page.all.push(block);
    // A page whose blocks keep being rebuilt (mode flips) starts over rather than growing.
    if (page.all.length > MAX_BLOCKS_PER_PAGE) this.dropFrame(gfn);
    block.chainable = block.insns[block.insns.length - 1].chainable;
    for (let c = off >> CHUNK_SHIFT; c <= (at - 1) >> CHUNK_SHIFT; c++) page.chunks[c] = 1;
    if (gfn < cpu.mmu.codePages.length) cpu.mmu.codePages[gfn] = 1;
    this.blocksDecoded++;
    return block;
  }

  /**
   * Cache a single instruction that continues into the next frame: it is kept with
   * its first frame and listed in the second, so writes to either drop it.
   */
  private cacheCrossing(ins: Insn, code32: boolean, gfn: number, off: number, page: CodePage | null, nextGfn: number): Block {
    const block = new Block(code32, true);
    block.gfn = gfn;
    block.insns.push(ins);
    block.byteLen = ins.len;
    block.crossGfn = nextGfn;
    if (page === null) {
      page = new CodePage(gfn);
      this.pages.set(gfn, page);
    }
    page.blocks[off] = block;
    page.all.push(block);
    page.chunks[off >> CHUNK_SHIFT] = 1;
    page.chunks[4095 >> CHUNK_SHIFT] = 1;
    let next = this.pages.get(nextGfn);
    if (next === undefined) {
      next = new CodePage(nextGfn);
      this.pages.set(nextGfn, next);
    }
    next.all.push(block);
    next.chunks[0] = 1;
    const codePages = this.cpu.mmu.codePages;
    if (gfn < codePages.length) codePages[gfn] = 1;
    if (nextGfn < codePages.length) codePages[nextGfn] = 1;
    this.lastPage = null;
    this.blocksDecoded++;
    return block;
  }

  /** A CPU write of `len` bytes at physical `phys` landed on a code frame. */
  codeWrite(phys: number, len: number): void {
    const first = Math.floor(phys / 4096);
    const last = Math.floor((phys + Math.max(len, 1) - 1) / 4096);
    for (let gfn = first; gfn <= last; gfn++) {
      const page = this.pages.get(gfn);
      if (page === undefined) {
        if (gfn < this.cpu.mmu.codePages.length) this.cpu.mmu.codePages[gfn] = 0;
        continue;
      }
      const lo = gfn === first ? phys & 0xfff : 0;
      const hi = gfn === last ? (phys + len - 1) & 0xfff : 4095;
      let hit = false;
      for (let c = lo >> CHUNK_SHIFT; c <= hi >> CHUNK_SHIFT; c++) if (page.chunks[c]) hit = true;
      if (hit) this.dropFrame(gfn);
    }
  }

  /** Drop every decode of frames first..last (DMA, loaders, mode-independent flushes). */
  invalidateFrames(first: number, last: number): void {
    for (let gfn = first; gfn <= last; gfn++) if (this.pages.has(gfn)) this.dropFrame(gfn);
  }

  /** Forget everything (reset, state load). */
  flush(): void {
    for (const [gfn, page] of this.pages) {
      if (gfn < this.cpu.mmu.codePages.length) this.cpu.mmu.codePages[gfn] = 0;
      for (const b of page.all) b.valid = false;
    }
    this.pages.clear();
    this.lastPage = null;
    this.epoch++;
  }

  private dropFrame(gfn: number): void {
    const page = this.pages.get(gfn);
    if (page !== undefined) for (const b of page.all) b.valid = false;
    this.pages.delete(gfn);
    if (this.lastPage !== null && this.lastPage.gfn === gfn) this.lastPage = null;
    if (gfn < this.cpu.mmu.codePages.length) this.cpu.mmu.codePages[gfn] = 0;
    this.invalidations++;
    if (gfn === this.currentGfn) this.cpu.stopBlock = true;
  }
}
