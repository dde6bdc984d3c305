; A 64-bit Xen HVM guest in miniature, for the KVM backend (issue 6): a Multiboot
; (a.out kludge) image that enters long mode itself and then uses Xen's interface
; the way a 64-bit Linux does — hypercalls from 64-bit code through the hypercall
; page (RAX = number, RDI RSI RDX R10 R8 = arguments), structs in their x86_64
; layouts, guest handles in the upper canonical half, the 64-bit shared_info
; (u64 evtchn_pending words and selector), the vector callback delivered through a
; 64-bit IDT. Each result goes out on the debug port (0xE9) as "name=<16 hex digits>".
; Then it counts "tick N" lines, so the test can save and restore it mid-way, and
; ends through isa-debug-exit (0xF4) with 0x21.
;
; Facts: Multiboot 0.6.96 §3.1; SDM vol. 3A §9.8.5 (entering IA-32e mode), §4.5
; (4-level paging), §6.14.1 (64-bit IDT gates); reference/xen-abi.md §2-§9.

bits 32
org 0x100000
%include "long-mode.inc"

MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ 0x00010000              ; a.out kludge: the address fields below
KERNEL_HI       equ 0xffffffff80000000      ; code alias (PML4[511], PDPT[510])
DIRECT_MAP      equ 0xffff888000000000      ; data alias (PML4[273]), as Linux's direct map
DOMID_SELF      equ 0x7ff0
CALLBACK_VECTOR equ 0xf3
PORTS_TO_ALLOCATE equ 70                    ; so the last port lies in the second u64 word
TICKS           equ 10

%define HI(x) ((x) + DIRECT_MAP)

; hypercall nr: call the stub through the upper-half code alias (a 64-bit RIP)
%macro HC 1
  mov rax, KERNEL_HI + hypercall_page + 32 * %1
  call rax
%endmacro

; REPORT "name", <value in rax>: "name=<16 hex digits>"
%macro REPORT 1
  [section .rodata]
  %%s: db %1, '=', 0
  __SECT__
  lea rsi, [rel %%s]
  call puts
  call put_hex
  call newline
%endmacro

section .text
mb_header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd mb_header, 0x100000, 0, 0, start32

start32:
  mov esp, stack_top
  ; PML4[0] and PML4[273] -> the identity PDPT, PML4[511] -> the high PDPT
  mov dword [pml4], pdpt_lo + 3
  mov dword [pml4 + 273 * 8], pdpt_lo + 3
  mov dword [pml4 + 511 * 8], pdpt_hi + 3
  mov dword [pdpt_lo], pd + 3
  mov dword [pdpt_hi + 510 * 8], pd + 3
  ; PD: 512 x 2 MiB, identity over the first GiB
  IDENTITY_PD_2M pd
  ENTER_LONG_MODE pml4, gdtr, start64

bits 64
start64:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  ; Run from the upper-half alias from here on, as a 64-bit kernel does.
  mov rax, KERNEL_HI + .high
  jmp rax
.high:
  mov rsp, KERNEL_HI + stack_top
  call setup_idt

  ; Xen's CPUID leaves and the hypercall page (written from 64-bit mode: the
  ; 64-bit shared_info layout is latched here).
  mov eax, 0x40000000
  cpuid
  cmp ebx, 'XenV'
  jne fail
  mov eax, 0x40000002
  cpuid
  mov ecx, ebx
  mov eax, hypercall_page
  xor edx, edx
  wrmsr

  ; xen_version(XENVER_version, NULL)
  xor edi, edi
  xor esi, esi
  HC 17
  REPORT "version"

  ; xen_version(XENVER_get_features, handle in the direct map)
  mov dword [buf], 0
  mov edi, 6
  mov rsi, HI(buf)
  HC 17
  REPORT "features_rc"
  mov eax, [buf + 4]
  REPORT "features"

  ; a non-canonical handle: -EFAULT
  mov edi, 6
  mov rsi, 0x0000800000000000
  HC 17
  REPORT "noncanonical"

  ; the number in RAX with bits above 31 (entering the stub past its MOV EAX): -ENOSYS
  mov rax, 0x100000011
  xor edi, edi
  xor esi, esi
  mov rcx, KERNEL_HI + hypercall_page + 32 * 17 + 5
  call rcx
  REPORT "rax_high"

  ; XENMEM_add_to_physmap {domid @0, size @2, space @4, idx @8, gpfn @16}: shared_info
  mov word [buf], DOMID_SELF
  mov word [buf + 2], 0
  mov dword [buf + 4], 0
  mov qword [buf + 8], 0
  mov eax, shared_info
  shr eax, 12
  mov [buf + 16], rax
  mov edi, 7
  mov rsi, HI(buf)
  HC 12
  REPORT "add_to_physmap"
  mov eax, [shared_info + 3072]             ; wc_version in the 64-bit layout
  REPORT "wc_version"
  mov eax, [shared_info + 32 + 24]          ; vcpu_info[0].time.tsc_to_system_mul
  REPORT "tsc_mul"
  movsx rax, byte [shared_info + 32 + 28]
  REPORT "tsc_shift"

  ; XENMEM_memory_map {nr_entries @0, buffer @8}
  mov dword [buf], 16
  mov rax, HI(e820)
  mov [buf + 8], rax
  mov edi, 9
  mov rsi, HI(buf)
  HC 12
  REPORT "memory_map"
  mov eax, [buf]
  REPORT "e820_entries"

  ; HVM_PARAM_CALLBACK_IRQ = vector (type 2 in bits 63:56) {domid @0, index @4, value @8}
  mov word [buf], DOMID_SELF
  mov dword [buf + 4], 0
  mov rax, (2 << 56) | CALLBACK_VECTOR
  mov [buf + 8], rax
  xor edi, edi
  mov rsi, HI(buf)
  HC 34
  REPORT "set_callback"

  ; EVTCHNOP_alloc_unbound x70 {dom @0, remote_dom @2, port @4}
  mov r12d, PORTS_TO_ALLOCATE
.alloc:
  mov word [buf], DOMID_SELF
  mov word [buf + 2], DOMID_SELF
  mov edi, 6
  mov rsi, HI(buf)
  HC 32
  test rax, rax
  jnz .alloc_done
  dec r12d
  jnz .alloc
.alloc_done:
  REPORT "alloc_unbound"
  mov r13d, [buf + 4]                       ; P, the last unbound port
  mov eax, r13d
  REPORT "port"

  ; EVTCHNOP_bind_interdomain {remote_dom @0, remote_port @4, local_port @8}
  mov word [buf], DOMID_SELF
  mov [buf + 4], r13d
  xor edi, edi
  mov rsi, HI(buf)
  HC 32
  REPORT "bind_interdomain"
  mov r14d, [buf + 8]                       ; L, bound to P

  ; EVTCHNOP_send on L raises P: the vector callback arrives in 64-bit mode (the
  ; 8259s are masked: nothing else may interrupt)
  mov al, 0xff
  out 0x21, al
  out 0xa1, al
  sti
  mov [buf], r14d
  mov edi, 4
  mov rsi, HI(buf)
  HC 32
  REPORT "send"
  mov ecx, 1000000
.wait_upcall:
  cmp qword [upcalls], 0
  jne .upcalled
  pause
  dec ecx
  jnz .wait_upcall
.upcalled:
  cli
  mov rax, [upcalls]
  REPORT "upcalls"
  mov rax, [shared_info + 8]                ; vcpu_info[0].evtchn_pending_sel (u64 @8)
  REPORT "pending_sel"
  mov eax, r13d
  shr eax, 6
  mov rax, [shared_info + 2048 + rax * 8]   ; evtchn_pending[P / 64] (u64 words)
  REPORT "pending_word"

  ; SCHEDOP_poll {ports handle @0, nr_ports @8, timeout @16} on the pending P: returns at once
  mov [poll_port], r13d
  mov rax, HI(poll_port)
  mov [buf], rax
  mov dword [buf + 8], 1
  mov qword [buf + 16], 0
  mov edi, 3
  mov rsi, HI(buf)
  HC 29
  REPORT "poll"

  ; GNTTABOP_setup_table {dom @0, nr_frames @4, status @8, frame_list @16} with u64 frames
  mov rax, 0xdeadbeefdeadbeef
  mov [frames], rax
  mov word [buf], DOMID_SELF
  mov dword [buf + 4], 1
  mov word [buf + 8], 0x7777
  mov rax, HI(frames)
  mov [buf + 16], rax
  mov edi, 2
  mov rsi, HI(buf)
  mov edx, 1
  HC 20
  REPORT "setup_table"
  movsx rax, word [buf + 8]
  REPORT "setup_status"
  mov rax, [frames]
  REPORT "grant_frame"

  ; multicall: two 64-byte entries {op @0, result @8, args @16}
  mov qword [calls], 17
  mov qword [calls + 16], 0
  mov qword [calls + 24], 0
  mov qword [calls + 64], 17
  mov qword [calls + 64 + 16], 6
  mov rax, 0x0000800000000000
  mov [calls + 64 + 24], rax
  mov rdi, HI(calls)
  mov esi, 2
  HC 13
  REPORT "multicall"
  mov rax, [calls + 8]
  REPORT "mc0"
  mov rax, [calls + 64 + 8]
  REPORT "mc1"

  ; CONSOLEIO_write(len, handle in the direct map)
  xor edi, edi
  mov esi, hello_len
  mov rdx, HI(hello)
  HC 18
  REPORT "console_io"

  lea rsi, [rel done_msg]
  call puts

  ; Count, slowly, so the test can save and restore the domain in the middle.
  xor r15d, r15d
.tick:
  inc r15d
  lea rsi, [rel tick_msg]
  call puts
  mov eax, r15d
  call put_hex
  call newline
  ; wait 200 ms of Xen system time: SCHEDOP_poll with no ports and an absolute
  ; timeout, again after an early wake-up (any interrupt may end a poll)
  call system_time_ns
  add rax, 200000000
  mov rbx, rax
.wait:
  mov qword [buf], 0
  mov dword [buf + 8], 0
  mov [buf + 16], rbx
  mov edi, 3
  mov rsi, HI(buf)
  HC 29
  inc qword [polls]
  call system_time_ns
  cmp rax, rbx
  jb .wait
  cmp r15d, TICKS
  jb .tick
  mov rax, [polls]
  REPORT "polls"
  mov al, 0x10
  out 0xf4, al
  hlt

fail:
  lea rsi, [rel fail_msg]
  call puts
  mov al, 0x7f
  out 0xf4, al
  hlt

; Xen system time now from vcpu_info[0].time (u32 version @0, u64 tsc_timestamp @8,
; u64 system_time @16, u32 tsc_to_system_mul @24, i8 tsc_shift @28; xen-abi.md §4.1):
; system_time + (((tsc - tsc_timestamp) << or >> shift) * mul >> 32)
system_time_ns:
  rdtsc
  shl rdx, 32
  or rax, rdx
  sub rax, [shared_info + 32 + 8]
  movsx ecx, byte [shared_info + 32 + 28]
  test ecx, ecx
  js .right
  shl rax, cl
  jmp .scale
.right:
  neg ecx
  shr rax, cl
.scale:
  mov ecx, [shared_info + 32 + 24]
  mul rcx
  shrd rax, rdx, 32
  add rax, [shared_info + 32 + 16]
  ret

%include "debugcon64.inc"

; ---- interrupts -----------------------------------------------------------------
setup_idt:                                  ; every vector: fault; CALLBACK_VECTOR: upcall
  xor ecx, ecx
.gate:
  mov rax, KERNEL_HI + fault
  cmp ecx, CALLBACK_VECTOR
  jne .set
  mov rax, KERNEL_HI + upcall
.set:
  mov rdx, rcx
  shl rdx, 4
  lea rdi, [rel idt]
  add rdi, rdx
  call idt64_gate
  inc ecx
  cmp ecx, 256
  jb .gate
  lidt [rel idtr]
  ret

upcall:                                     ; as Linux: clear evtchn_upcall_pending, count
  mov byte [shared_info], 0
  inc qword [upcalls]
  iretq

fault:                                      ; the word on top of the frame (RIP, or the error code)
  lea rsi, [rel fault_msg]
  call puts
  mov rax, [rsp]
  call put_hex
  call newline
  mov al, 0x7e
  out 0xf4, al
  hlt

section .rodata align=8
hello: db "hello from long mode", 10
hello_len equ $ - hello
done_msg: db "XEN64-CHECKS-DONE", 10, 0
tick_msg: db "tick=", 0
fail_msg: db "no Xen CPUID leaves", 10, 0
fault_msg: db "exception in the guest at ", 0
align 8
gdt: dq 0, 0x00209a0000000000, 0x0000920000000000
gdtr: dw 23
  dd gdt
idtr: dw 256 * 16 - 1
  dq KERNEL_HI + idt

section .data align=4096
upcalls: dq 0
polls: dq 0
poll_port: dd 0, 0
buf: times 64 db 0
frames: times 4 dq 0
calls: times 128 db 0
e820: times 16 * 20 db 0
align 4096
idt: times 4096 db 0
pml4: times 4096 db 0
pdpt_lo: times 4096 db 0
pdpt_hi: times 4096 db 0
pd: times 4096 db 0
hypercall_page: times 4096 db 0
shared_info: times 4096 db 0
times 8192 db 0
stack_top:
