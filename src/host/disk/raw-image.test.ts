import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import fsModule from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskImageError, RawImage } from './raw-image.js';
import { AtaDisk } from '../../devices/ide/ata-disk.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsxen-raw-'));
}

test('read, write and flush go to the file', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'disk.img');
    const bytes = new Uint8Array(8 * 512);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
    fs.writeFileSync(file, bytes);
    const img = RawImage.open(file);
    assert.equal(img.sizeBytes, 4096);
    assert.equal(img.readOnly, false);
    const got = new Uint8Array(512);
    img.read(1024, got);
    assert.deepEqual(got, bytes.subarray(1024, 1536));
    img.write(512, new Uint8Array(512).fill(0xee));
    img.flush();
    const onDisk = fs.readFileSync(file);
    assert.ok(onDisk.subarray(512, 1024).every((b) => b === 0xee));
    assert.equal(onDisk[1024], 0);
    assert.throws(() => img.read(4000, new Uint8Array(512)), /disk\.img.*past its 4096 bytes/);
    img.close();
    assert.throws(() => img.read(0, new Uint8Array(1)), /after close/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('FLUSH CACHE through an ATA disk reaches fsync on the image', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'disk.img');
    fs.writeFileSync(file, new Uint8Array(64 * 512));
    const img = RawImage.open(file);
    // raw-image uses the fs module object, so the real fsyncSync can be observed (and still runs).
    const spy = mock.method(fsModule, 'fsyncSync');
    try {
      const disk = new AtaDisk(img);
      disk.execute(0xe7); // FLUSH CACHE
      assert.equal(disk.status, 0x50);
      disk.execute(0xea); // FLUSH CACHE EXT
      assert.equal(spy.mock.callCount(), 2);
      assert.equal(typeof spy.mock.calls[0].arguments[0], 'number', 'fsync of a file descriptor');
    } finally {
      spy.mock.restore();
    }
    img.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('read-only images refuse writes; the disk aborts them', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'ro.img');
    fs.writeFileSync(file, new Uint8Array(2048));
    const img = RawImage.open(file, { readOnly: true });
    assert.equal(img.readOnly, true);
    assert.throws(() => img.write(0, new Uint8Array(512)), /ro\.img: is read-only/);
    const disk = new AtaDisk(img);
    disk.tf.device = 0xe0;
    disk.tf.count = 1;
    disk.execute(0x30);
    assert.equal(disk.status, 0x41);
    img.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('clear errors naming the path: missing file, directory, empty or too small, bad multiple', () => {
  const dir = tempDir();
  try {
    const missing = path.join(dir, 'nope.img');
    assert.throws(() => RawImage.open(missing), (e: unknown) => e instanceof DiskImageError && e.message === `disk image ${missing}: no such file`);
    assert.throws(() => RawImage.open(dir), new RegExp(`disk image ${dir}: is a directory`));
    const empty = path.join(dir, 'empty.img');
    fs.writeFileSync(empty, new Uint8Array(0));
    assert.throws(() => RawImage.open(empty), /empty\.img: 0 bytes is smaller than one 512-byte block/);
    const odd = path.join(dir, 'odd.img');
    fs.writeFileSync(odd, new Uint8Array(1000));
    assert.throws(() => RawImage.open(odd), /odd\.img: size 1000 is not a multiple of 512 bytes/);
    const cd = path.join(dir, 'cd.iso');
    fs.writeFileSync(cd, new Uint8Array(3 * 512));
    assert.throws(() => RawImage.open(cd, { blockSize: 2048, readOnly: true }), /cd\.iso: 1536 bytes is smaller than one 2048-byte block/);
    fs.writeFileSync(cd, new Uint8Array(5 * 512));
    assert.throws(() => RawImage.open(cd, { blockSize: 2048, readOnly: true }), /cd\.iso: size 2560 is not a multiple of 2048 bytes/);
    fs.writeFileSync(cd, new Uint8Array(2 * 2048));
    assert.equal(RawImage.open(cd, { blockSize: 2048, readOnly: true }).sizeBytes, 4096);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
