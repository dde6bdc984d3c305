// ACPI resource descriptors (ACPI 6.x §6.4) for ResourceTemplate() buffers:
// _CRS of the PCI root bridge and of the ISA keyboard and mouse nodes.

import { AmlError, buffer, le, type Aml } from './encoding.js';

/** Small item "End Tag" (§6.4.2.9); checksum byte 0 means "treat as correct". */
const END_TAG = [0x79, 0x00];

/** ResourceTemplate() { descriptors }: a Buffer ending with the end tag. */
export function resourceTemplate(...descriptors: ReadonlyArray<readonly number[]>): Aml {
  return buffer(descriptors.flat().concat(END_TAG));
}

/** IO(Decode16, min, max, alignment, length) (§6.4.2.5). */
export function io(min: number, max: number, alignment: number, length: number): number[] {
  checkRange('IO', min, max, 0xffff);
  return [0x47, 0x01, ...le(min, 2), ...le(max, 2), alignment & 0xff, length & 0xff];
}

/** IRQNoFlags() { irqs }: edge, active high, exclusive (§6.4.2.1, 2-byte form). */
export function irqNoFlags(...irqs: number[]): number[] {
  let mask = 0;
  for (const irq of irqs) {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) throw new AmlError(`IRQ ${irq} is not an ISA IRQ`);
    mask |= 1 << irq;
  }
  return [0x22, ...le(mask, 2)];
}

/** Address-space resource type (§6.4.3.5.1). */
const SPACE_MEMORY = 0;
const SPACE_IO = 1;
const SPACE_BUS = 2;
/** General flags: MinFixed | MaxFixed, positive decode, resource producer. */
const FIXED_PRODUCER = 0x0c;

function wordAddressSpace(type: number, typeFlags: number, min: number, max: number): number[] {
  checkRange('WordAddressSpace', min, max, 0xffff);
  // Fields: granularity, min, max, translation offset, length.
  return [0x88, 0x0d, 0x00, type, FIXED_PRODUCER, typeFlags, ...le(0, 2), ...le(min, 2), ...le(max, 2), ...le(0, 2), ...le(max - min + 1, 2)];
}

/** WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count). */
export function wordBusNumber(min: number, max: number): number[] {
  return wordAddressSpace(SPACE_BUS, 0, min, max);
}

/** WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length). */
export function wordIo(min: number, max: number): number[] {
  return wordAddressSpace(SPACE_IO, 0x03, min, max);
}

/** Memory caching in DWordMemory's type-specific flags, bits 2:1. */
export type MemoryCaching = 'non-cacheable' | 'cacheable' | 'write-combining' | 'prefetchable';
const CACHING_BITS: Record<MemoryCaching, number> = { 'non-cacheable': 0, cacheable: 1, 'write-combining': 2, prefetchable: 3 };

/** DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, caching, ReadWrite, 0, min, max, 0, length). */
export function dwordMemory(min: number, max: number, caching: MemoryCaching): number[] {
  checkRange('DWordMemory', min, max, 0xffffffff);
  const typeFlags = (CACHING_BITS[caching] << 1) | 0x01;
  return [0x87, 0x17, 0x00, SPACE_MEMORY, FIXED_PRODUCER, typeFlags, ...le(0, 4), ...le(min, 4), ...le(max, 4), ...le(0, 4), ...le(max - min + 1, 4)];
}

function checkRange(what: string, min: number, max: number, limit: number): void {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min || max > limit) {
    throw new AmlError(`${what}: bad range ${min}..${max}`);
  }
}
