// A tiny real guest for lifecycle tests on the real CPU: 32-bit code in a synthetic
// bzImage (entered at 0x100000 through the Linux boot path). It prints "READY\n" on
// COM1, then polls the UART: each received byte is echoed; "q" powers off (cli; hlt:
// every vCPU halted with interrupts off), "r" reboots (i8042 reset pulse, 0xFE to
// port 0x64), "t" triple-faults (int3 with an empty IDT).

import { makeSyntheticBzImage } from '../../firmware/linux-boot/synthetic-bzimage.js';

const COM1 = [0x66, 0xba, 0xf8, 0x03]; // mov dx, 0x3f8
const putc = (c: string): number[] => [0xb0, c.charCodeAt(0), 0xee]; // mov al, c; out dx, al

// Offsets in the comments are relative to the loop start; rel8 jumps are counted from
// the next instruction.
const ECHO_LOOP = [
  0x66, 0xba, 0xfd, 0x03, //  0: mov dx, 0x3fd (LSR)
  0xec, //                    4: in al, dx
  0xa8, 0x01, //              5: test al, 1 (data ready)
  0x74, 0xfb, //              7: jz 4
  0x66, 0xba, 0xf8, 0x03, //  9: mov dx, 0x3f8 (RBR/THR)
  0xec, //                   13: in al, dx
  0xee, //                   14: out dx, al (echo)
  0x3c, 0x71, //             15: cmp al, 'q'
  0x74, 0x0c, //             17: je 31
  0x3c, 0x72, //             19: cmp al, 'r'
  0x74, 0x0a, //             21: je 33
  0x3c, 0x74, //             23: cmp al, 't'
  0x74, 0x0c, //             25: je 39
  0xeb, 0xe3, //             27: jmp 0
  0x90, 0x90, //             29: (padding)
  0xfa, 0xf4, //             31: cli; hlt
  0xb0, 0xfe, //             33: mov al, 0xfe
  0xe6, 0x64, //             35: out 0x64, al
  0xeb, 0xfe, //             37: jmp $
  // 39: lidt [descriptor]; int3; jmp $ — appended by echoGuestCode with the address.
];

/** code32_start of the synthetic bzImage: the code runs where it is loaded. */
const LOAD_ADDRESS = 0x100000;

/** The guest's code (before the bzImage wrapper). */
export function echoGuestCode(): Uint8Array {
  const head = [...COM1, ...'READY\n'.split('').flatMap(putc), ...ECHO_LOOP];
  // An IDT with limit 0: int3 then raises #GP, whose delivery faults again (#DF), and
  // #DF's delivery faults a third time: a triple fault (Intel SDM vol 3 §6.15, #DF).
  const descriptorAt = LOAD_ADDRESS + head.length + 7 + 1 + 2;
  const lidt = [0x0f, 0x01, 0x1d, descriptorAt & 0xff, (descriptorAt >> 8) & 0xff, (descriptorAt >> 16) & 0xff, descriptorAt >>> 24];
  return new Uint8Array([...head, ...lidt, 0xcc, 0xeb, 0xfe, 0, 0, 0, 0, 0, 0]);
}

export function echoGuestBzImage(): Uint8Array {
  return makeSyntheticBzImage({ code: echoGuestCode() });
}
