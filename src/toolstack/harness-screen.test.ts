// The harness's screen, power button, isa-debug-exit and disk opener plumbing, with
// the scripted stand-in domain (its "screen" is its banner and the bytes typed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { GuestSession } from './harness.js';
import { loadDiskOpener } from './disk-opener.js';
import { makeGuestDir, type GuestDir } from './testing/guest-files.js';
import type { CfgObject } from './config-file.js';

const SCRIPTED = new URL('./testing/scripted-domain.js', import.meta.url).href;
const STUB_DISKS = new URL('./testing/stub-disk-opener.js', import.meta.url).href;

async function withGuest(g: GuestDir, extra: CfgObject, body: (s: GuestSession) => Promise<void>, diskModule = STUB_DISKS): Promise<void> {
  const s = await GuestSession.start({ name: 'scr', kernel: 'vmlinuz', memory: 32, ...extra }, [], {
    domainModule: SCRIPTED,
    diskModule,
    logFile: join(g.dir, 'scr.log'),
    warn: () => {},
    baseDir: g.dir,
  });
  try {
    await body(s);
  } finally {
    await s.destroy();
  }
}

test('screenText, waitForScreen and screenshot come from the running domain', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, {}, async (s) => {
      await s.waitForSerial('boot 1 scr');
      assert.deepEqual(await s.screenText(), ['boot 1 scr', '']);
      s.type('hiya'); // no command letters (p r c x l d s e q)
      assert.equal(await s.waitForScreen(/h.y+a/, { timeoutMs: 5000 }), 'hiya');
      assert.equal(await s.waitForScreen('boot 1 scr\nhiya', { timeoutMs: 5000 }), 'boot 1 scr\nhiya');
      await assert.rejects(s.waitForScreen('never', { timeoutMs: 250 }), {
        message: 'timed out after 250 ms waiting for never on the screen of scr; last screen:\nboot 1 scr\nhiya',
      });
      await s.screenshot(join(g.dir, 's.png'));
      const png = PNG.sync.read(readFileSync(join(g.dir, 's.png')));
      assert.deepEqual([png.width, png.height, ...png.data], [2, 1, 4, 0, 0, 255, 0, 0, 255, 255]);
    });
  } finally {
    g.remove();
  }
});

test('pressPowerButton powers the guest off; waitForScreen fails at once when it stops', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, {}, async (s) => {
      await s.waitForSerial('boot 1 scr');
      const waiting = s.waitForScreen('never', { timeoutMs: 20_000 });
      await s.pressPowerButton();
      assert.deepEqual(await s.waitForExit({ timeoutMs: 5000 }), { reason: 'poweroff', detail: 'ACPI power button', restarts: 0 });
      await assert.rejects(waiting, /^Error: scr stopped \(poweroff: ACPI power button\) while waiting for never on the screen/);
      await assert.rejects(s.screenText(), { message: 'domain scr is not running' });
    });
  } finally {
    g.remove();
  }
});

test('isa-debug-exit: the exit status reaches waitForExit, and on_poweroff=restart does not restart', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { on_poweroff: 'restart' }, async (s) => {
      await s.waitForSerial('boot 1 scr');
      s.type('q');
      assert.deepEqual(await s.waitForExit({ timeoutMs: 5000 }), { reason: 'poweroff', detail: 'isa-debug-exit 3', restarts: 0, exitStatus: 7 });
    });
  } finally {
    g.remove();
  }
});

test('disks are opened in the worker through the disk module; a module without an opener fails the start', async () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'disk.img'), new Uint8Array(4096));
    await withGuest(g, { disk: ['disk.img,raw,hda,rw', 'disk.img,,hdc,cdrom', ',,hdd:cdrom'] }, async (s) => {
      await s.waitForSerial('boot 1 scr');
      assert.deepEqual((await s.screenText())?.[2], `disks: hda:disk:rw:${g.dir}/disk.img hdc:cdrom:ro:${g.dir}/disk.img`);
    });
    await withGuest(
      g,
      { disk: 'disk.img,raw,hda' },
      async (s) => {
        const exit = await s.waitForExit({ timeoutMs: 5000 });
        assert.equal(exit.reason, 'crash');
        assert.match(exit.detail, /^could not start: .*scripted-domain\.js exports no disk opener \(openDisk, RawImage\.open or openRawImage\)$/);
      },
      SCRIPTED,
    );
  } finally {
    g.remove();
  }
});

test('loadDiskOpener adapts RawImage.open (block size by device type) and openRawImage', async () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'raw-image.mjs'), 'export class RawImage { static open(path, o) { return { self: this === RawImage, path, ...o }; } }\n');
    writeFileSync(join(g.dir, 'old.mjs'), 'export function openRawImage(path, o) { return { path, ...o }; }\n');
    const open = await loadDiskOpener(`file://${g.dir}/raw-image.mjs`);
    assert.deepEqual(open({ vdev: 'hdc', devtype: 'cdrom', path: '/x.iso', readOnly: true, format: 'raw' }), { self: true, path: '/x.iso', readOnly: true, blockSize: 2048 });
    assert.deepEqual(open({ vdev: 'hda', devtype: 'disk', path: '/x.img', readOnly: false, format: 'raw' }), { self: true, path: '/x.img', readOnly: false, blockSize: 512 });
    assert.throws(() => open({ vdev: 'hdd', devtype: 'cdrom', path: null, readOnly: true, format: 'raw' }), { message: 'hdd: an empty CD-ROM drive has no image to open' });
    const old = await loadDiskOpener(`file://${g.dir}/old.mjs`);
    assert.deepEqual(old({ vdev: 'hdb', devtype: 'disk', path: '/y.img', readOnly: true, format: 'raw' }), { path: '/y.img', readOnly: true });
  } finally {
    g.remove();
  }
});
