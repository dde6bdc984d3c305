// xenbus between Debian's unmodified 686-pae guest and dom0's xenstored (issue 5
// acceptance). The guest's /init (guests/init.sh, guest.test=xenbus) uses /bin/xs
// (guests/xs/xs.c) on Linux's /dev/xen/xenbus to read its own nodes, write one and
// watch another, while this test plays dom0 through GuestSession.xenstore: the
// guest's reads match dom0's nodes, dom0 reads the guest's write, a dom0 watch fires
// on that write, and dom0's write fires the guest's watch. Then dom0 asks the guest
// to power off through control/shutdown (xl shutdown's PV path) while /init sits in
// its shell: Linux runs /sbin/poweroff and the domain ends with poweroff.
//
// Linux brings xenbus up once event-channel upcalls work, so both ways are booted:
// a direct kernel boot (xen_interface = 1) where Linux takes Xen's HVM callback
// vector (XENFEAT_hvm_callback_vector), and the firmware boot of cd-686-pae.iso
// (hvmloader + SeaBIOS, guest.test=xenbus typed at isolinux's prompt) where the
// Xen platform PCI device is there too and sets up the grant table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { XsWatchEvent } from '../../src/pv/xenstore/store.js';
import { GuestSession } from '../../src/toolstack/harness.js';
import { guestsMissing, guestFile, guestFileMissing, startGuest, BOOT_TIMEOUT_MS, fact, keepSerialLog } from './guest-cache.js';

const missing = guestsMissing();
const cdMissing = missing ?? guestFileMissing('cd-pae.cfg') ?? guestFileMissing('cd-686-pae.iso');
const LIFECYCLE = ['on_poweroff="destroy"', 'on_reboot="destroy"', 'on_crash="destroy"'];

/**
 * Plays dom0 against a guest running guest.test=xenbus with guest.shell: `boot`
 * gets it from start to its /init. Returns the console text at GUEST-END.
 */
async function exerciseXenbus(g: GuestSession, name: string, boot: () => Promise<void>): Promise<string> {
  const xs = g.xenstore;
  const home = `/local/domain/${g.domid}`;
  const written = `${home}/data/tsxen-test`;
  // dom0 watches the node the guest will write before the guest runs.
  const events: XsWatchEvent[] = [];
  xs.onWatch((ev) => events.push(ev));
  xs.watch(written, 'dom0-sees-guest');
  assert.deepEqual(events, [{ path: written, token: 'dom0-sees-guest' }], 'a new watch fires once at once');

  await boot();
  await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
  const ready = await g.waitForSerial(/XS-WATCH-READY|TEST xenbus FAIL[^\n]*/, { timeoutMs: 600_000 });
  const out = g.output.replace(/\r/g, '');
  // A failed check says why; show it with the guest's xenbus facts.
  if (ready !== 'XS-WATCH-READY') assert.fail(`${ready}\n${(out.match(/^(FACT (xs|xenbus|xenfs)\S*|xs:|insmod|no module).*$/gm) ?? []).join('\n')}`);
  assert.equal(fact(out, 'hypervisor'), 'xen');
  assert.equal(fact(out, 'xenbus.dev'), '/dev/xen/xenbus', "Linux's xenbus device");
  assert.equal(fact(out, 'xenfs'), 'mounted');
  // The guest's own nodes, read relative to its home, are dom0's values.
  assert.equal(fact(out, 'xs.domid'), String(g.domid));
  assert.equal(fact(out, 'xs.domid'), xs.read(`${home}/domid`));
  assert.equal(fact(out, 'xs.name'), name);
  assert.equal(fact(out, 'xs.name'), xs.read(`${home}/name`));
  assert.equal(fact(out, 'xs.memory.target'), String(256 * 1024));
  assert.equal(fact(out, 'xs.memory.target'), xs.read(`${home}/memory/target`));
  // The guest's write: read back by the guest, seen by dom0, fired dom0's watch.
  const value = `tsxen-test from domain ${g.domid}`;
  assert.equal(fact(out, 'xs.data.tsxen-test'), value);
  assert.equal(xs.read(written), value);
  assert.deepEqual(
    events.filter((e) => e.token === 'dom0-sees-guest').map((e) => e.path),
    [written, written],
    "dom0's watch: the initial fire, then the guest's write",
  );
  assert.match(fact(out, 'xs.ls.data'), /^tsxen-test\b/);
  assert.equal(fact(out, 'xs.read.missing'), 'rc=1 xs: read data/no-such-node: ENOENT', 'an XS_ERROR reaches the guest');

  // The guest's watch is in place once its initial fire is printed; then dom0 writes.
  await g.waitForSerial(/XS-WATCH-EVENT \S*data\/from-dom0 t\r?\n/, { timeoutMs: 120_000 });
  assert.equal(xs.tryRead(`${home}/data/from-dom0`), null);
  xs.write(`${home}/data/from-dom0`, 'hello from dom0');
  await g.waitForSerial('XS-WATCH-RC 0', { timeoutMs: 120_000 });
  await g.waitForSerial('GUEST-END', { timeoutMs: 300_000 });
  const end = g.output.replace(/\r/g, '');
  const guestEvents = end.match(/^XS-WATCH-EVENT .*$/gm) ?? [];
  assert.equal(guestEvents.length, 2, guestEvents.join('\n'));
  for (const line of guestEvents) assert.match(line, /^XS-WATCH-EVENT (\/local\/domain\/\d+\/)?data\/from-dom0 t$/);
  assert.equal(fact(end, 'xs.watch.events'), '2');
  assert.equal(fact(end, 'xs.data.from-dom0'), 'hello from dom0');
  assert.match(end, /^TEST xenbus PASS$/m);
  assert.match(end, /Booting paravirtualized kernel on Xen HVM/);
  assert.match(end, /xen:events: Using 2-level ABI/);

  // PV shutdown: Linux wrote control/feature-poweroff when xenbus came up.
  assert.equal(xs.read(`${home}/control/feature-poweroff`), '1');
  await g.waitForSerial('/ # ', { timeoutMs: 120_000 });
  assert.equal(await g.handle.shutdown('poweroff', false), 'pv');
  const exit = await g.waitForExit({ timeoutMs: 300_000 });
  assert.equal(exit.reason, 'poweroff', `${exit.reason}: ${exit.detail}`);
  return end;
}

test('direct boot: xenbus over the HVM callback vector; guest and dom0 read, write, watch each other; PV shutdown', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 15 * 60_000 }, async () => {
  const name = 'test-686-pae-xenbus';
  const g = await startGuest('default-pae.cfg', name, 'console=ttyS0 nokaslr cryptomgr.notests guest.test=xenbus guest.shell', ['xen_interface = 1', ...LIFECYCLE]);
  try {
    const out = await exerciseXenbus(g, name, async () => {});
    // No platform device on a direct boot: Linux's upcalls come through the vector.
    assert.match(out, /xen:events: Xen HVM callback vector for event delivery is enabled/);
  } finally {
    keepSerialLog(g);
    await g.destroy();
  }
});

test('firmware boot (cd-686-pae.iso): xenbus with the Xen platform PCI device; same checks', { skip: cdMissing ?? false, timeout: BOOT_TIMEOUT_MS + 15 * 60_000 }, async () => {
  const name = 'test-686-pae-xenbus-cd';
  const g = await GuestSession.start(guestFile('cd-pae.cfg'), [`name="${name}"`, ...LIFECYCLE]);
  try {
    const out = await exerciseXenbus(g, name, async () => {
      // isolinux adds words typed after the label to the CD's own command line.
      await g.waitForSerial('boot: ', { timeoutMs: BOOT_TIMEOUT_MS });
      g.type('linux guest.test=xenbus\r');
    });
    assert.match(fact(out, 'cmdline'), /guest\.test=xenbus$/);
    // The platform device, bound by Linux's driver (the CD's `platform` check), and
    // the grant table HVM Linux sets up from its probe (the CD's `dmesg` check).
    assert.match(fact(out, 'pci.0000:00:03.0'), /^5853:0001 class=ff8000 driver=xen-platform-pci$/);
    assert.match(out, /xen:grant_table: Grant tables using version 1 layout/);
    assert.match(out, /^TEST dmesg PASS$/m);
  } finally {
    keepSerialLog(g);
    await g.destroy();
  }
});

if (cdMissing) console.error(`\n*** SKIPPED real-guest tests: ${cdMissing} ***\n`);
