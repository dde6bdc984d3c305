// The system parts driven by the real core: a tiny kernel (nasm) builds a GDT, IDT,
// TSS and 32-bit page tables, turns on paging with WP, enters ring 3 with IRET,
// and the user program takes a demand-paging #PF (handler installs the PTE, no
// INVLPG), makes an INT 0x80 and a SYSENTER system call, and finally executes CLI
// at CPL 3, whose #GP stops the machine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, machine, runToExit } from './emu-test-machine.test.js';

const KERNEL = `
  lgdt [gdtr]
  jmp 0x08:reload
reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, 0x9000
  mov dword [0x3000 + 4], 0x9000      ; TSS.ESP0
  mov dword [0x3000 + 8], 0x10        ; TSS.SS0
  mov ax, 0x28
  ltr ax
  ; IDT at 0x4000: #GP, #PF (DPL 0), INT 0x80 (DPL 3), all 32-bit interrupt gates
  mov ecx, 13
  mov eax, gp_handler
  mov edx, 0x8e00
  call setgate
  mov ecx, 14
  mov eax, pf_handler
  call setgate
  mov ecx, 0x80
  mov eax, int80_handler
  mov edx, 0xee00
  call setgate
  lidt [idtr]
  ; SYSENTER MSRs: CS 0x08 (SS 0x10), user CS 0x1b / SS 0x23 on SYSEXIT
  xor edx, edx
  mov ecx, 0x174
  mov eax, 0x08
  wrmsr
  mov ecx, 0x175
  mov eax, 0x8800
  wrmsr
  mov ecx, 0x176
  mov eax, sysenter_entry
  wrmsr
  ; page tables: PD 0x10000; PT 0x11000 identity-maps 0-1 MiB (supervisor);
  ; PT 0x12000: 0x400000 user code (read-only, phys 0x20000), 0x401000 user stack (phys 0x21000)
  mov edi, 0x11000
  mov eax, 0x003
fill:
  mov [edi], eax
  add edi, 4
  add eax, 0x1000
  cmp edi, 0x11400
  jne fill
  mov dword [0x10000], 0x11007
  mov dword [0x10004], 0x12007
  mov dword [0x12000], 0x20005
  mov dword [0x12004], 0x21007
  ; copy the user program to phys 0x20000
  mov esi, user_code
  mov edi, 0x20000
  mov ecx, user_end - user_code
  rep movsb
  mov eax, 0x10000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000                  ; PG WP
  mov cr0, eax
  ; the kernel may not write the user's read-only code page (WP=1): expect #PF
  mov dword [expect_pf_kernel], 1
  mov byte [0x400000], 0x90
after_kernel_pf:
  ; enter ring 3 (DS/ES must hold user selectors: IRET outward nulls DPL-0 data segments)
  mov ax, 0x23
  mov ds, ax
  mov es, ax
  push 0x23
  push 0x401ff0
  push 0x2
  push 0x1b
  push 0x400000
  iret

setgate:
  lea edi, [0x4000 + ecx*8]
  mov [edi], ax
  mov word [edi + 2], 0x08
  mov [edi + 4], dx
  shr eax, 16
  mov [edi + 6], ax
  ret

pf_handler:
  push eax
  inc dword [pf_count]
  mov eax, cr2
  mov [pf_cr2], eax
  mov eax, [esp + 4]
  mov [pf_err], eax
  cmp dword [expect_pf_kernel], 1
  jne .user
  mov dword [expect_pf_kernel], 0
  mov dword [esp + 8], after_kernel_pf  ; skip the faulting store
  jmp .done
.user:
  mov dword [0x12008], 0x22007        ; map 0x402000 -> 0x22000, no INVLPG
.done:
  pop eax
  add esp, 4
  iret

int80_handler:
  add eax, 100
  push ecx
  mov ecx, [esp + 8]                  ; frame: EIP CS EFLAGS ESP SS above the saved ECX
  mov [int80_cs], ecx
  mov ecx, [esp + 20]
  mov [int80_ss], ecx
  pop ecx
  iret

sysenter_entry:
  add eax, 200
  mov [sysenter_esp], esp
  sysexit

gp_handler:
  pop dword [gp_err]
  pop dword [gp_eip]
  pop dword [gp_cs]
  hlt

user_code:
  mov dword [0x402000], 0x11111111    ; not present: demand-paged by pf_handler
  mov eax, 1
  int 0x80
  mov [0x401f00], eax
  mov ecx, esp
  call .here
.here:
  pop edx
  add edx, .after - .here
  mov eax, 2
  sysenter
.after:
  mov [0x401f04], eax
  cli                                 ; CPL 3 > IOPL 0: #GP(0)
user_end:

align 4
gdt:
  dq 0
  dq 0x00cf9a000000ffff               ; 0x08 kernel code
  dq 0x00cf92000000ffff               ; 0x10 kernel data
  dq 0x00cffa000000ffff               ; 0x18 user code
  dq 0x00cff2000000ffff               ; 0x20 user data
  dq 0x0000890030000067               ; 0x28 32-bit TSS at 0x3000
gdtr:
  dw 6 * 8 - 1
  dd gdt
idtr:
  dw 256 * 8 - 1
  dd 0x4000
align 4
pf_count: dd 0
pf_cr2: dd 0
pf_err: dd 0
expect_pf_kernel: dd 0
int80_cs: dd 0
int80_ss: dd 0
sysenter_esp: dd 0
gp_err: dd 0
gp_eip: dd 0
gp_cs: dd 0
`;

test('a tiny kernel: paging with WP, ring 3 via IRET, demand paging, INT 0x80, SYSENTER/SYSEXIT, #GP from CPL 3', () => {
  const image = assemble(KERNEL, 32);
  const m = machine(image, 'flat32');
  const exit = runToExit(m.vcpu, 20);
  assert.deepEqual(exit, { kind: 'hlt', interruptsEnabled: false });
  // The data block follows the GDT (48 bytes), GDTR and IDTR (6 each): 60 bytes, already 4-aligned.
  const base = 0x1000 + findGdt(image) + 60;
  const word = (i: number) => m.memory.readU32(base + 4 * i);
  const [pfCount, pfCr2, pfErr, , int80Cs, int80Ss, sysenterEsp, gpErr, gpEip, gpCs] = Array.from({ length: 10 }, (_, i) => word(i));
  assert.equal(pfCount, 2, 'one kernel WP fault, one user demand fault');
  assert.equal(pfCr2, 0x402000);
  assert.equal(pfErr, 6, 'user write, not present');
  assert.equal(m.memory.readU32(0x22000), 0x11111111, 'the retried store landed in the new page');
  assert.equal(m.memory.readU8(0x20000), 0xc7, 'user code untouched by the kernel store that faulted (WP)');
  assert.equal(m.memory.readU32(0x21f00), 101, 'INT 0x80 result');
  assert.equal(int80Cs, 0x1b);
  assert.equal(int80Ss, 0x23);
  assert.equal(m.memory.readU32(0x21f04), 202, 'SYSENTER result came back through SYSEXIT');
  assert.equal(sysenterEsp, 0x8800);
  assert.equal(gpErr, 0);
  assert.equal(gpCs, 0x1b);
  assert.equal(m.memory.readU8(gpEip - 0x400000 + 0x20000), 0xfa, '#GP points at the CLI');
  const cpu = m.vcpu.cpu;
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[1], 0x08);
  // The PTEs used got A (and D for the written pages) set by the walks.
  assert.equal(m.memory.readU32(0x12008) & 0x60, 0x60);
  assert.equal(m.memory.readU32(0x12000) & 0x60, 0x20, 'code page: accessed, never dirty');
});

/** Offset of the GDT in the image (its kernel-code descriptor is a unique 8-byte pattern). */
function findGdt(image: Uint8Array): number {
  const pattern = [0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0];
  for (let i = 8; i + 8 <= image.length; i++) {
    if (pattern.every((b, k) => image[i + k] === b)) return i - 8;
  }
  throw new Error('GDT not found in the image');
}

const PAE_KERNEL = `
  lgdt [gdtr]
  jmp 0x08:reload
reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x9000
  mov dword [0x3000 + 4], 0x9000
  mov dword [0x3000 + 8], 0x10
  mov ax, 0x28
  ltr ax
  mov eax, pf_handler                 ; IDT[14] at 0x4000 + 14 * 8
  mov [0x4000 + 14 * 8], ax
  mov word [0x4000 + 14 * 8 + 2], 0x08
  mov word [0x4000 + 14 * 8 + 4], 0x8e00
  shr eax, 16
  mov [0x4000 + 14 * 8 + 6], ax
  lidt [idtr]
  ; PAE tables: PDPT at 0x10020 (32-byte aligned, not page aligned), PD 0x11000, PT 0x12000
  mov dword [0x10020], 0x11001
  mov dword [0x11000], 0x000083       ; 0-2 MiB: one 2 MiB supervisor page
  mov dword [0x11010], 0x12007        ; 4-6 MiB: page table
  mov dword [0x12000], 0x20005        ; 0x400000: user code, read-only
  mov dword [0x12008], 0x21007        ; 0x401000: user data, writable...
  mov dword [0x1200c], 0x80000000     ; ...and execute-disable
  mov esi, user_code
  mov edi, 0x20000
  mov ecx, user_end - user_code
  rep movsb
  mov ecx, 0xc0000080                 ; EFER.NXE
  xor edx, edx
  mov eax, 0x800
  wrmsr
  mov eax, cr4
  or eax, 0x20                        ; PAE
  mov cr4, eax
  mov eax, 0x10020
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000
  mov cr0, eax
  mov ax, 0x23
  mov ds, ax
  mov es, ax
  push 0x23
  push 0x401ff0
  push 0x2
  push 0x1b
  push 0x400000
  iret

pf_handler:
  mov eax, cr2
  mov [pf_cr2], eax
  pop dword [pf_err]
  pop dword [pf_eip]
  hlt

user_code:
  mov byte [0x401000], 0xc3           ; a RET in a no-execute page
  mov eax, 0x401000
  call eax
user_end:

align 4
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0x00cffa000000ffff
  dq 0x00cff2000000ffff
  dq 0x0000890030000067
gdtr:
  dw 6 * 8 - 1
  dd gdt
idtr:
  dw 256 * 8 - 1
  dd 0x4000
align 4
pf_cr2: dd 0
pf_err: dd 0
pf_eip: dd 0
`;

test('a tiny PAE kernel: cached PDPTEs from a 32-byte-aligned CR3, 2 MiB pages, EFER.NXE and an execute-disable fault', () => {
  const image = assemble(PAE_KERNEL, 32);
  const m = machine(image, 'flat32');
  assert.deepEqual(runToExit(m.vcpu, 20), { kind: 'hlt', interruptsEnabled: false });
  const base = 0x1000 + findGdt(image) + 60;
  const [cr2, err, eip] = [0, 1, 2].map((i) => m.memory.readU32(base + 4 * i));
  assert.equal(m.memory.readU8(0x21000), 0xc3, 'the data write went through');
  assert.equal(cr2, 0x401000);
  assert.equal(eip, 0x401000, 'the fetch faulted, not the CALL');
  assert.equal(err, 0x15, 'present | user | instruction fetch');
  const cpu = m.vcpu.cpu;
  assert.equal(cpu.pdpte[0], 0x11001);
  assert.equal(m.memory.readU32(0x11000) & 0x20, 0x20, '2 MiB PDE accessed');
});
