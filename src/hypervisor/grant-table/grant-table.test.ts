import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import {
  GNTST_bad_copy_arg,
  GNTST_bad_domain,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_okay,
  GNTST_permission_denied,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_writing,
} from '../../abi/grant-table.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import { XEN_EINVAL } from '../../abi/xen-errno.js';
import { GrantTable } from './grant-table.js';
import { GrantAccess } from './grant-access.js';

const GUEST = 3;
const PAGE = 0x7000;

function setup(maxFrames = 4) {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const table = new GrantTable({ domId: GUEST, memory, maxFrames });
  assert.equal(table.grow(1), 0);
  const tables = new Map<number, GrantTable>([[GUEST, table]]);
  const dom0 = new GrantAccess(0, (d) => tables.get(d));
  memory.fill(PAGE, 4096, 0x5a);
  return { memory, table, tables, dom0 };
}

test('table frames: grow on demand up to max_grant_frames; backing pages are distinct and page aligned', () => {
  const { table } = setup(4);
  assert.equal(table.nrFrames, 1);
  assert.equal(table.nrEntries, 512);
  const f2 = table.grantFrame(2, 0xf0002);
  assert.ok(f2 > 0 && f2 % 4096 === 0);
  assert.equal(table.nrFrames, 3);
  assert.equal(table.frameGfn(2), 0xf0002);
  assert.notEqual(table.grantFrame(0), f2);
  assert.equal(table.grantFrame(4), -XEN_EINVAL);
  assert.equal(table.grow(5), -XEN_EINVAL);
  // Entries are stored in the frame pages: entry 512 is the first of frame 1.
  table.writeEntry(512, { flags: GTF_permit_access, domid: 0, frame: 7 });
  const f1 = table.grantFrame(1);
  assert.equal(table.memory.bytes[f1], GTF_permit_access);
  assert.equal(table.memory.bytes[f1 + 4], 7);
});

test('a grant the guest wrote into its frame page maps for its grantee, with GTF_reading/writing while mapped', () => {
  const { table, dom0 } = setup();
  table.writeEntry(8, { flags: GTF_permit_access, domid: 0, frame: PAGE >>> 12 });
  const m = dom0.mapGrant(GUEST, 8, false);
  assert.equal(m.status, GNTST_okay);
  assert.ok(m.page);
  assert.equal(table.readEntry(8)!.flags, GTF_permit_access | GTF_reading | GTF_writing);
  assert.deepEqual([...m.page.read(0, 2)!], [0x5a, 0x5a]);
  assert.equal(m.page.write(10, new Uint8Array([1, 2, 3])), true);
  assert.equal(table.memory.readU8(PAGE + 11), 2);
  assert.equal(m.page.read(4095, 2), undefined, 'views are bounds-checked to the page');
  assert.equal(m.page.write(4094, new Uint8Array(3)), false);
  assert.equal(dom0.unmap(m.page.handle), GNTST_okay);
  assert.equal(table.readEntry(8)!.flags, GTF_permit_access, 'flags cleared at the last unmap');
  assert.equal(m.page.read(0, 1), undefined, 'an unmapped view is dead');
  assert.equal(dom0.unmap(m.page.handle), GNTST_bad_handle);
  assert.equal(dom0.unmap(12345), GNTST_bad_handle);
});

test('read-only grants stay read-only; pin counts keep the flags until the last mapping goes', () => {
  const { table, dom0, memory } = setup();
  table.writeEntry(9, { flags: GTF_permit_access | GTF_readonly, domid: 0, frame: PAGE >>> 12 });
  assert.equal(dom0.mapGrant(GUEST, 9, false).status, GNTST_general_error, 'write-pin of a r/o grant');
  assert.equal(table.readEntry(9)!.flags, GTF_permit_access | GTF_readonly, 'a refused map leaves the flags');
  const a = dom0.mapGrant(GUEST, 9, true);
  const b = dom0.mapGrant(GUEST, 9, true);
  assert.equal(a.status, GNTST_okay);
  assert.equal(b.status, GNTST_okay);
  assert.equal(a.page!.write(0, new Uint8Array([1])), false, 'read-only view refuses writes');
  assert.equal(memory.readU8(PAGE), 0x5a);
  assert.equal(table.activeEntry(9)!.readPins, 2);
  assert.equal(table.readEntry(9)!.flags & (GTF_reading | GTF_writing), GTF_reading);
  dom0.unmap(a.page!.handle);
  assert.equal(table.readEntry(9)!.flags & GTF_reading, GTF_reading, 'still pinned by b');
  dom0.unmap(b.page!.handle);
  assert.equal(table.readEntry(9)!.flags, GTF_permit_access | GTF_readonly);
  assert.equal(table.activeEntry(9), undefined);

  // Mixed pins on a writable grant: GTF_writing goes with the last writable mapping.
  table.writeEntry(10, { flags: GTF_permit_access, domid: 0, frame: PAGE >>> 12 });
  const r = dom0.mapGrant(GUEST, 10, true);
  assert.equal(table.readEntry(10)!.flags, GTF_permit_access | GTF_reading);
  const w = dom0.mapGrant(GUEST, 10, false);
  assert.equal(table.readEntry(10)!.flags, GTF_permit_access | GTF_reading | GTF_writing);
  dom0.unmap(w.page!.handle);
  assert.equal(table.readEntry(10)!.flags, GTF_permit_access | GTF_reading);
  dom0.unmap(r.page!.handle);
  assert.equal(table.readEntry(10)!.flags, GTF_permit_access);
});

test('a domain reaches only what was granted to it: wrong grantee, bad type, bad ref, bad domain, bad frame', () => {
  const { table, dom0, tables, memory } = setup();
  table.writeEntry(8, { flags: GTF_permit_access, domid: 5, frame: PAGE >>> 12 });
  assert.equal(dom0.mapGrant(GUEST, 8, true).status, GNTST_general_error, 'granted to domain 5, not dom0');
  assert.equal(dom0.mapGrant(GUEST, 20, true).status, GNTST_general_error, 'never granted (GTF_invalid)');
  table.writeEntry(21, { flags: 2 /* accept_transfer */, domid: 0, frame: PAGE >>> 12 });
  assert.equal(dom0.mapGrant(GUEST, 21, true).status, GNTST_general_error);
  assert.equal(dom0.mapGrant(GUEST, 512, true).status, GNTST_bad_gntref, 'beyond the 1-frame table');
  assert.equal(dom0.mapGrant(GUEST, -1, true).status, GNTST_bad_gntref);
  assert.equal(dom0.mapGrant(9, 8, true).status, GNTST_bad_domain);
  table.writeEntry(22, { flags: GTF_permit_access, domid: 0, frame: 0xa0 });
  assert.equal(dom0.mapGrant(GUEST, 22, false).status, GNTST_bad_page, 'the VGA hole is not RAM');
  assert.equal(table.readEntry(22)!.flags, GTF_permit_access, 'failed map leaves no flags behind');
  // Once dom0 has it pinned, domain 5 cannot pin the same entry.
  table.writeEntry(23, { flags: GTF_permit_access, domid: 0, frame: PAGE >>> 12 });
  assert.equal(dom0.mapGrant(GUEST, 23, true).status, GNTST_okay);
  const dom5 = new GrantAccess(5, (d) => tables.get(d));
  assert.equal(dom5.mapGrant(GUEST, 23, true).status, GNTST_general_error);
  // Revocation by the guest does not move an existing mapping; new maps see the revoked entry.
  table.writeEntry(24, { flags: GTF_permit_access, domid: 0, frame: PAGE >>> 12 });
  const m = dom0.mapGrant(GUEST, 24, true);
  table.writeEntry(24, { flags: 0, domid: 0, frame: 0 });
  assert.equal(m.page!.read(0, 1)![0], memory.readU8(PAGE));
});

test('copy: host buffer <-> granted page with both sides checked, pins only for the copy', () => {
  const { table, dom0, memory } = setup();
  table.writeEntry(8, { flags: GTF_permit_access, domid: 0, frame: PAGE >>> 12 });
  table.writeEntry(9, { flags: GTF_permit_access | GTF_readonly, domid: 0, frame: PAGE >>> 12 });
  const out = new Uint8Array(16);
  assert.equal(dom0.copy({ source: { gref: 9, domid: GUEST, offset: 100 }, dest: { host: out, offset: 4 }, len: 8 }), GNTST_okay);
  assert.deepEqual([...out.subarray(3, 13)], [0, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0]);
  assert.equal(table.readEntry(9)!.flags, GTF_permit_access | GTF_readonly, 'no pin left behind');
  const data = new Uint8Array([9, 8, 7]);
  assert.equal(dom0.copy({ source: { host: data, offset: 0 }, dest: { gref: 9, domid: GUEST, offset: 0 }, len: 3 }), GNTST_general_error, 'r/o grant as destination');
  assert.equal(memory.readU8(PAGE), 0x5a);
  assert.equal(dom0.copy({ source: { host: data, offset: 0 }, dest: { gref: 8, domid: GUEST, offset: 4000 }, len: 3 }), GNTST_okay);
  assert.deepEqual([...memory.read(PAGE + 4000, 3)], [9, 8, 7]);
  assert.equal(table.readEntry(8)!.flags, GTF_permit_access);
  assert.equal(dom0.copy({ source: { host: data, offset: 0 }, dest: { gref: 8, domid: GUEST, offset: 4094 }, len: 3 }), GNTST_bad_copy_arg, 'beyond the page');
  assert.equal(dom0.copy({ source: { host: data, offset: 1 }, dest: { gref: 8, domid: GUEST, offset: 0 }, len: 3 }), GNTST_bad_copy_arg, 'beyond the host buffer');
  assert.equal(dom0.copy({ source: { gref: 600, domid: GUEST, offset: 0 }, dest: { host: out, offset: 0 }, len: 1 }), GNTST_bad_gntref);
  assert.equal(dom0.copy({ source: { gref: 30, domid: GUEST, offset: 0 }, dest: { host: out, offset: 0 }, len: 1 }), GNTST_general_error, 'ungranted');
  assert.equal(dom0.copy({ source: { gmfn: PAGE >>> 12, domid: GUEST, offset: 0 }, dest: { host: out, offset: 0 }, len: 1 }), GNTST_permission_denied, 'raw frames of another domain');
  assert.equal(dom0.copy({ source: { gref: 8, domid: 44, offset: 0 }, dest: { host: out, offset: 0 }, len: 1 }), GNTST_bad_domain);
  assert.equal(dom0.copy({ source: { gref: 30, domid: GUEST, offset: 0 }, dest: { host: out, offset: 0 }, len: 0 }), GNTST_okay, 'len 0 is a no-op');
});

test('a guest copying between its own frame (DOMID_SELF gmfn) and a grant another domain gave it', () => {
  const a = setup();
  // Domain 4 grants a page to GUEST; GUEST copies from it into its own RAM.
  const mem4 = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const t4 = new GrantTable({ domId: 4, memory: mem4 });
  t4.grow(1);
  mem4.fill(0x9000, 4096, 0x44);
  t4.writeEntry(8, { flags: GTF_permit_access | GTF_readonly, domid: GUEST, frame: 9 });
  t4.writeEntry(9, { flags: GTF_permit_access, domid: 0, frame: 9 });
  a.tables.set(4, t4);
  const guestAccess = new GrantAccess(GUEST, (d) => a.tables.get(d), a.memory);
  assert.equal(guestAccess.copy({ source: { gref: 8, domid: 4, offset: 0 }, dest: { gmfn: 0x20, domid: DOMID_SELF, offset: 16 }, len: 4 }), GNTST_okay);
  assert.deepEqual([...a.memory.read(0x20010, 5)], [0x44, 0x44, 0x44, 0x44, 0]);
  assert.equal(guestAccess.copy({ source: { gref: 9, domid: 4, offset: 0 }, dest: { gmfn: 0x20, domid: DOMID_SELF, offset: 0 }, len: 4 }), GNTST_general_error, 'granted to dom0, not to us');
  assert.equal(guestAccess.copy({ source: { gmfn: 0x20, domid: DOMID_SELF, offset: 0 }, dest: { gref: 8, domid: 4, offset: 0 }, len: 4 }), GNTST_general_error, 'read-only grant as destination');
  assert.equal(mem4.readU8(0x9000), 0x44);
  assert.equal(guestAccess.copy({ source: { gmfn: 0xa0, domid: DOMID_SELF, offset: 0 }, dest: { gmfn: 0x20, domid: DOMID_SELF, offset: 0 }, len: 4 }), GNTST_bad_page);
  assert.equal(guestAccess.copy({ source: { gmfn: 0x21, domid: GUEST, offset: 0 }, dest: { gmfn: 0x20, domid: DOMID_SELF, offset: 0 }, len: 4 }), GNTST_permission_denied, 'raw frames only as DOMID_SELF');
});
