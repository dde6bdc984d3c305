import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeHighest, placeLowest } from './placement.js';

const MiB = 1 << 20;
// Low RAM, a reserved kilobyte, RAM from 1 MiB to 64 MiB, and a reserved range above it.
const e820 = [
  { addr: 0, size: 0x9fc00, type: 1 },
  { addr: 0x9fc00, size: 0x400, type: 2 },
  { addr: MiB, size: 63 * MiB, type: 1 },
  { addr: 0xfc000000, size: MiB, type: 2 },
];

test('placeHighest: top of the highest RAM entry under the ceiling, page-aligned, stepping below taken ranges', () => {
  assert.equal(placeHighest(5000, { e820, taken: [], floor: MiB, ceiling: 2 ** 32 }), 64 * MiB - 0x2000);
  assert.equal(placeHighest(4096, { e820, taken: [], floor: MiB, ceiling: 16 * MiB + 100 }), 16 * MiB - 0x1000);
  // A taken range at the top pushes it below; a second one right under it pushes further.
  const taken = [
    { start: 60 * MiB, end: 64 * MiB },
    { start: 59 * MiB + 0x800, end: 60 * MiB },
  ];
  assert.equal(placeHighest(0x1000, { e820, taken, floor: MiB, ceiling: 2 ** 32 }), 59 * MiB - 0x1000);
  // Reserved entries are never used; nothing fits above the floor → undefined.
  assert.equal(placeHighest(0x1000, { e820, taken: [], floor: 64 * MiB, ceiling: 2 ** 32 }), undefined);
  assert.equal(placeHighest(64 * MiB, { e820, taken: [], floor: 0, ceiling: 2 ** 32 }), undefined);
  // Below 1 MiB only when the floor allows it, and never in the reserved kilobyte.
  assert.equal(placeHighest(0x1000, { e820, taken: [], floor: 0, ceiling: MiB }), 0x9e000);
});

test('placeLowest: first page-aligned gap at or above the floor, after taken ranges', () => {
  assert.equal(placeLowest(100, { e820, taken: [], floor: 16 * MiB + 1, ceiling: 2 ** 32 }), 16 * MiB + 0x1000);
  const taken = [{ start: 16 * MiB, end: 16 * MiB + 0x1800 }];
  assert.equal(placeLowest(0x1000, { e820, taken, floor: 16 * MiB, ceiling: 2 ** 32 }), 16 * MiB + 0x2000);
  assert.equal(placeLowest(0x1000, { e820, taken: [], floor: 64 * MiB - 0x800, ceiling: 2 ** 32 }), undefined);
  // The low entry comes first when the floor is 0.
  assert.equal(placeLowest(0x1000, { e820, taken: [{ start: 0, end: 0x1000 }], floor: 0, ceiling: 2 ** 32 }), 0x1000);
});
