import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { PvConsoleBackend } from './backend.js';
import {
  XENCONS_IN,
  XENCONS_IN_CONS,
  XENCONS_IN_PROD,
  XENCONS_IN_SIZE,
  XENCONS_OUT,
  XENCONS_OUT_CONS,
  XENCONS_OUT_PROD,
  XENCONS_OUT_SIZE,
} from './ring-layout.js';

const GFN = 0x80;
const BASE = GFN * 4096;
const text = (s: string) => new TextEncoder().encode(s);

function setup(opts: { inputCapacity?: number; gfn?: number } = {}) {
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  const output: number[] = [];
  const logs: string[] = [];
  let notifies = 0;
  const backend = new PvConsoleBackend(
    memory,
    opts.gfn ?? GFN,
    () => notifies++,
    (bytes) => output.push(...bytes),
    { log: (m) => logs.push(m), inputCapacity: opts.inputCapacity },
  );
  const u32 = (off: number) => memory.readU32(BASE + off);
  const setU32 = (off: number, v: number) => memory.writeU32(BASE + off, v >>> 0);
  // hvc_xen's side of the ring, written from console.h (the frontend's view).
  const guest = {
    /** Writes what fits in out[] and bumps out_prod; returns bytes written. */
    write(bytes: Uint8Array): number {
      const cons = u32(XENCONS_OUT_CONS);
      let prod = u32(XENCONS_OUT_PROD);
      let n = 0;
      while (n < bytes.length && ((prod - cons) >>> 0) < XENCONS_OUT_SIZE) {
        memory.writeU8(BASE + XENCONS_OUT + (prod & (XENCONS_OUT_SIZE - 1)), bytes[n++]);
        prod = (prod + 1) >>> 0;
      }
      setU32(XENCONS_OUT_PROD, prod);
      return n;
    },
    /** Consumes up to `max` bytes of in[] and bumps in_cons. */
    read(max = Infinity): number[] {
      let cons = u32(XENCONS_IN_CONS);
      const prod = u32(XENCONS_IN_PROD);
      const got: number[] = [];
      while (cons !== prod && got.length < max) {
        got.push(memory.readU8(BASE + XENCONS_IN + (cons & (XENCONS_IN_SIZE - 1))));
        cons = (cons + 1) >>> 0;
      }
      setU32(XENCONS_IN_CONS, cons);
      return got;
    },
  };
  return { memory, backend, output, logs, guest, u32, setU32, notifies: () => notifies };
}

test('initPage zeroes the whole ring page (connection = 0, connected)', () => {
  const t = setup();
  t.memory.fill(BASE, 4096, 0xaa);
  t.backend.initPage();
  assert.deepEqual([...t.memory.read(BASE, 4096)], new Array(4096).fill(0));
  assert.equal(t.backend.isBroken, false);
});

test('process drains out[] to the console, moves out_cons and notifies once', () => {
  const t = setup();
  t.backend.initPage();
  assert.equal(t.guest.write(text('hello, hvc0\n')), 12);
  t.backend.process();
  assert.equal(new TextDecoder().decode(new Uint8Array(t.output)), 'hello, hvc0\n');
  assert.equal(t.u32(XENCONS_OUT_CONS), 12);
  assert.equal(t.notifies(), 1);
  t.backend.process(); // nothing new
  assert.equal(t.output.length, 12);
  assert.equal(t.notifies(), 1);
});

test('output wraps around the end of out[] and across the u32 index wrap', () => {
  const t = setup();
  t.backend.initPage();
  const start = 0xffffffff - 99; // 100 bytes before the u32 wrap; also 1948 mod 2048, so out[] wraps too
  t.setU32(XENCONS_OUT_CONS, start);
  t.setU32(XENCONS_OUT_PROD, start);
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
  assert.equal(t.guest.write(data), 300);
  assert.equal(t.u32(XENCONS_OUT_PROD), (start + 300) >>> 0);
  t.backend.process();
  assert.deepEqual(t.output, [...data]);
  assert.equal(t.u32(XENCONS_OUT_CONS), (start + 300) >>> 0);
});

test('a completely full out[] (2048 bytes) is drained, then the guest can refill it', () => {
  const t = setup();
  t.backend.initPage();
  const a = Uint8Array.from({ length: 2048 }, (_, i) => i & 0xff);
  assert.equal(t.guest.write(a), 2048);
  assert.equal(t.guest.write(text('x')), 0, 'ring full');
  t.backend.process();
  assert.deepEqual(t.output, [...a]);
  assert.equal(t.guest.write(text('more')), 4);
  t.backend.process();
  assert.equal(t.output.length, 2052);
  assert.equal(t.backend.isBroken, false);
});

test('an idle process() does not dirty the ring page', () => {
  const t = setup();
  t.backend.initPage();
  const dirty: number[] = [];
  t.memory.onWrite((first) => dirty.push(first));
  t.backend.process();
  assert.equal(dirty.length, 0);
  t.guest.write(text('a')); // the guest's own writes (test helper) dirty it
  dirty.length = 0;
  t.backend.process();
  assert.ok(dirty.includes(GFN), 'moving out_cons marks the page written');
});

test('garbage out indices mark the console broken, log once, never throw', () => {
  const t = setup();
  t.backend.initPage();
  t.setU32(XENCONS_OUT_CONS, 10);
  t.setU32(XENCONS_OUT_PROD, 10 + XENCONS_OUT_SIZE + 1);
  t.backend.process();
  assert.equal(t.backend.isBroken, true);
  assert.equal(t.logs.length, 1);
  assert.match(t.logs[0], /out_prod .* exceeds out\[2048\]/);
  assert.equal(t.output.length, 0);
  assert.equal(t.notifies(), 0);
  assert.equal(t.u32(XENCONS_OUT_CONS), 10, 'a broken ring is left alone');
  t.backend.process();
  t.backend.input(text('abc'));
  assert.equal(t.logs.length, 1, 'logged once');
  assert.equal(t.backend.droppedInput, 3);
  assert.equal(t.u32(XENCONS_IN_PROD), 0);
  // initPage (domain rebuild) brings it back.
  t.backend.initPage();
  t.guest.write(text('ok'));
  t.backend.process();
  assert.deepEqual(t.output, [...text('ok')]);
});

test('out_cons ahead of out_prod (a negative fill) is garbage too', () => {
  const t = setup();
  t.backend.initPage();
  t.setU32(XENCONS_OUT_CONS, 5);
  t.setU32(XENCONS_OUT_PROD, 4);
  assert.doesNotThrow(() => t.backend.process());
  assert.equal(t.backend.isBroken, true);
  assert.equal(t.output.length, 0);
});

test('garbage in indices break the console on input', () => {
  const t = setup();
  t.backend.initPage();
  t.setU32(XENCONS_IN_CONS, 0x80000000);
  assert.doesNotThrow(() => t.backend.input(text('hi')));
  assert.equal(t.backend.isBroken, true);
  assert.equal(t.logs.length, 1);
  assert.match(t.logs[0], /in_prod .* exceeds in\[1024\]/);
  assert.equal(t.notifies(), 0);
});

test('a ring frame that is not RAM breaks the console without throwing', () => {
  for (const gfn of [0xa0 /* VGA hole */, 0x100000 /* past 4 GiB */, 0x5000 /* beyond 1 MiB of RAM */, -1, 1.5]) {
    const t = setup({ gfn });
    assert.doesNotThrow(() => t.backend.initPage());
    assert.doesNotThrow(() => t.backend.process());
    assert.doesNotThrow(() => t.backend.input(text('x')));
    assert.equal(t.backend.isBroken, true, `gfn ${gfn}`);
    assert.equal(t.logs.length, 1);
    assert.match(t.logs[0], /is not (writable )?guest RAM|not an integer/);
  }
});

test('input fills in[] up to 1024 bytes, queues the rest, and process() moves it once the guest consumed', () => {
  const t = setup();
  t.backend.initPage();
  const keys = Uint8Array.from({ length: 1500 }, (_, i) => (i * 13) & 0xff);
  t.backend.input(keys);
  assert.equal(t.u32(XENCONS_IN_PROD), 1024);
  assert.equal(t.backend.pendingInput, 476);
  assert.equal(t.notifies(), 1);
  const first = t.guest.read(1000);
  assert.deepEqual(first, [...keys.subarray(0, 1000)]);
  t.backend.process(); // the guest's signal after consuming
  assert.equal(t.backend.pendingInput, 0);
  assert.equal(t.u32(XENCONS_IN_PROD), 1500);
  assert.equal(t.notifies(), 2);
  assert.deepEqual(t.guest.read(), [...keys.subarray(1000)]);
});

test('a guest that never consumes input: queue capped, excess dropped, ring untouched beyond 1024', () => {
  const t = setup({ inputCapacity: 100 });
  t.backend.initPage();
  t.backend.input(new Uint8Array(1024).fill(1));
  assert.equal(t.u32(XENCONS_IN_PROD), 1024);
  t.backend.input(new Uint8Array(150).fill(2));
  assert.equal(t.backend.pendingInput, 100);
  assert.equal(t.backend.droppedInput, 50);
  for (let i = 0; i < 100; i++) t.backend.input(new Uint8Array(1000).fill(3));
  assert.equal(t.backend.pendingInput, 100);
  assert.equal(t.backend.droppedInput, 50 + 100_000);
  assert.equal(t.u32(XENCONS_IN_PROD), 1024, 'never more than a ring of unconsumed input');
  assert.equal(t.notifies(), 1, 'no notification when nothing moved');
  // Once the guest drains, the queued (oldest) bytes follow in order.
  assert.deepEqual(t.guest.read(), new Array(1024).fill(1));
  t.backend.process();
  assert.deepEqual(t.guest.read(), new Array(100).fill(2));
});

test('input uses room the guest freed silently before applying the cap', () => {
  const t = setup({ inputCapacity: 4 });
  t.backend.initPage();
  t.backend.input(new Uint8Array(1028).fill(7)); // ring full, queue full
  t.guest.read(10); // consumed, but no signal yet
  t.backend.input(text('abcdef'));
  assert.equal(t.backend.droppedInput, 0);
  const rest = t.guest.read();
  assert.deepEqual(rest.slice(-10), [7, 7, 7, 7, ...text('abcdef')]);
});

test('interleaved output, input, guest reads and process() lose and reorder nothing', () => {
  const t = setup({ inputCapacity: 1 << 20 });
  t.backend.initPage();
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const sent: number[] = [];
  const typed: number[] = [];
  const received: number[] = [];
  let pendingOut: number[] = [];
  for (let step = 0; step < 3000; step++) {
    switch (rand(4)) {
      case 0: {
        const chunk = Uint8Array.from({ length: rand(900) }, () => rand(256));
        pendingOut.push(...chunk);
        const n = t.guest.write(Uint8Array.from(pendingOut));
        sent.push(...pendingOut.slice(0, n));
        pendingOut = pendingOut.slice(n);
        break;
      }
      case 1: {
        const keys = Uint8Array.from({ length: rand(600) }, () => rand(256));
        typed.push(...keys);
        t.backend.input(keys);
        break;
      }
      case 2:
        received.push(...t.guest.read(rand(1500)));
        break;
      default:
        t.backend.process();
    }
  }
  // Finish: the guest flushes what it still holds and reads everything typed.
  for (let i = 0; i < 200 && (pendingOut.length > 0 || received.length < typed.length || t.output.length < sent.length); i++) {
    const n = t.guest.write(Uint8Array.from(pendingOut));
    sent.push(...pendingOut.slice(0, n));
    pendingOut = pendingOut.slice(n);
    t.backend.process();
    received.push(...t.guest.read());
  }
  assert.equal(pendingOut.length, 0);
  assert.equal(t.backend.isBroken, false);
  assert.equal(t.backend.droppedInput, 0);
  assert.deepEqual(t.output, sent);
  assert.deepEqual(received, typed);
  assert.ok(sent.length > 100_000 && typed.length > 100_000, 'the run moved real traffic');
});

test('input from inside the output callback (an echo) reaches in[] in the same process()', () => {
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  let notifies = 0;
  const backend: PvConsoleBackend = new PvConsoleBackend(memory, GFN, () => notifies++, (bytes) => backend.input(bytes));
  backend.initPage();
  memory.write(BASE + XENCONS_OUT, text('echo'));
  memory.writeU32(BASE + XENCONS_OUT_PROD, 4);
  backend.process();
  assert.equal(memory.readU32(BASE + XENCONS_IN_PROD), 4);
  assert.deepEqual([...memory.read(BASE + XENCONS_IN, 4)], [...text('echo')]);
  assert.equal(notifies, 1);
});

test("a ring at Xen's console special page (pfn 0xFEFFF, backing store mapped into the MMIO hole) works", () => {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const gfn = 0xfefff; // 0xFEFF8 + 7 (xen-abi.md §8)
  memory.mapBacking(gfn * 4096, memory.allocateBacking(4096), 4096, false);
  const out: number[] = [];
  const backend = new PvConsoleBackend(memory, gfn, () => {}, (b) => out.push(...b));
  backend.initPage();
  memory.write(gfn * 4096 + XENCONS_OUT, text('ok'));
  memory.writeU32(gfn * 4096 + XENCONS_OUT_PROD, 2);
  backend.process();
  assert.deepEqual(out, [...text('ok')]);
  assert.equal(backend.isBroken, false);
  assert.equal(backend.outputBytes, 2);
});

test('save/restore keeps queued input, drop count and breakage; damaged records are sanitised', () => {
  const t = setup({ inputCapacity: 8 });
  t.backend.initPage();
  t.backend.input(new Uint8Array(1024 + 10).fill(9)); // 8 queued, 2 dropped
  const saved = t.backend.save();
  assert.deepEqual(saved, { version: 1, broken: false, pendingInput: new Array(8).fill(9), droppedInput: 2, outputBytes: 0 });
  assert.equal(t.backend.pendingInput, 8, 'save does not consume the queue');
  const u = setup({ inputCapacity: 8 });
  u.memory.write(BASE, t.memory.read(BASE, 4096)); // guest RAM travels separately
  u.backend.restore(saved);
  assert.equal(u.backend.pendingInput, 8);
  assert.equal(u.backend.droppedInput, 2);
  u.guest.read();
  u.backend.process();
  assert.deepEqual(u.guest.read(), new Array(8).fill(9));
  u.backend.restore({ version: 1, broken: true, pendingInput: new Array(100).fill(300), droppedInput: -5, outputBytes: NaN });
  assert.equal(u.backend.isBroken, true);
  assert.equal(u.backend.pendingInput, 8, 'capped to the queue capacity');
  assert.equal(u.backend.droppedInput, 0);
  assert.equal(u.backend.outputBytes, 0);
});
