; tsxen's 64-bit Xen hypercall fuzz guest (nasm -f bin, with builders.inc, checks.inc,
; rings.inc and output.inc: nasm -i <this folder>/). A Multiboot (a.out kludge) image that enters
; long mode itself, runs from the upper canonical half and makes its hypercalls from
; 64-bit code through the hypercall page (RAX = number; RDI RSI RDX R10 R8), so Xen's
; long-mode paths answer: x86_64 struct layouts, 64-bit guest handles.
;
; Command line (Multiboot §3.3):
;   seed=N       xorshift64 seed (decimal or 0x hex; 0 becomes 1)
;   calls=N      hypercalls in the fuzz phase
;   errnos=a,b   the Xen errno values (positive, < 128) a negative result may carry
;   foreign=N    the id of another live domain (the bystander), for the checks naming it
;
; The fuzz: ops mostly from the HVM families (12 13 17 18 20 24 29 32 33 34), sub-ops
; mostly valid, arguments per slot from a palette (builders.inc): a 64-byte slot of the
; scratch window (random bytes, half the time plausible fields), a low identity address,
; the read-only boot page, the end of RAM, LAPIC/IOAPIC MMIO through the direct map, the
; edges of the canonical hole, unmapped upper-half addresses, 0, random 64-bit values.
; One call in 32 carries random bits above 31 in RAX (entering the stub past its
; `mov eax, imm32`), and some use an unknown 32-bit number (64 and up, bit 31 too):
; Xen answers both -ENOSYS, counted apart (rax_high, rax_unknown). Every result must be >= 0 or minus one
; of the given errnos; calls and violations are counted per op and printed, then a
; fixed list of bad 64-bit arguments is checked against Xen's exact answers (checks.inc),
; what no hypercall may write is hashed again, and the guest ends through isa-debug-exit
; (0xF4): 0 all passed, 1 something failed, 2 no Xen, 3 an exception, 4 bad command line.
; All text goes to the debugcon port 0xE9.
;
; Physical layout (RAM is 64 MiB). The image sits at 36 MiB so its frame numbers
; (0x2400-0x24FF) lie far from every value a hypercall writes back into the scratch
; (ports < 4096, grant frames in the sacrificial range, small counts) and then reads
; again as a gfn: no memory op can be steered onto the guest's own code or tables.
;   0x02400000  the image: boot page, code, data, page tables, IDT, hypercall page, stack
;   0x02800000  scratch, 64 KiB of random bytes; 0x02810000 gfn list; 0x02811000 multicall list
;   gfns 0x1000-0x13FF (+ order 9) sacrificial: the only RAM frames handed to Xen as gfns
; Linear layout: the first GiB identity-mapped and again at DIRECT_MAP (2 MiB pages, as
; Linux's direct map); KERNEL_HI aliases it for code; MMIO at DIRECT_MAP + 0xFEC00000 and
; + 0xFEE00000; WINDOW (4 KiB pages, each area followed by an unmapped page):
;   +0x00000 scratch (16 pages)   +0x10000 -      +0x11000 gfn list    +0x12000 -
;   +0x13000 multicall list       +0x14000 -      +0x15000 the boot page, READ-ONLY
;   +0x16000 -                    +0x17000 the last RAM page, then 3 pages beyond RAM
;   +0x1B000 -                    +0x1C000 a zeroed page of the image, READ-ONLY, which
;   +0x1D000 -                             only the fixed checks hand out
;   +0x1E000 the xenstore ring    +0x1F000 -      +0x20000 the console ring  +0x21000 -
; dom0's side is fuzzed too: one iteration in 32 first scribbles on the xenstore or
; console ring (random words, or a well-formed xenstore request of a random type and
; payload) and sends on its port (rings.inc).
; Handles the fuzz makes point only into WINDOW, low memory, MMIO, the hole or unmapped
; space; the image is reachable only through random 64-bit values.
;
; Left out as on Xen they legitimately end or freeze the guest (as xen-fuzz does):
; SCHEDOP_shutdown, remote_shutdown, watchdog, block, and SCHEDOP_poll except from a
; scratch struct whose timeout is 1 ns (already past); VCPUOP_down and send_nmi.
; Interrupts stay off throughout, so a random HVM_PARAM_CALLBACK_IRQ injects nothing.
;
; Facts: Multiboot 0.6.96 §3.1; SDM vol. 3A §9.8.5 (entering IA-32e mode), §4.5
; (4-level paging), §6.14.1 (64-bit IDT gates); reference/xen-abi.md §2-§9.

bits 32
org 0x2400000
%include "long-mode.inc"
default rel

MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ 0x00010000              ; a.out kludge: the address fields below
KERNEL_HI       equ 0xffffffff80000000      ; code alias (PML4[511], PDPT[510])
DIRECT_MAP      equ 0xffff888000000000      ; PML4[273]: PDPT[0] RAM, [1] WINDOW, [3] MMIO
WINDOW          equ DIRECT_MAP + 0x40000000
W_SCRATCH       equ WINDOW
W_GFNLIST       equ WINDOW + 0x11000
W_MCLIST        equ WINDOW + 0x13000
W_RO            equ WINDOW + 0x15000
W_RAM_END       equ WINDOW + 0x17000
W_RO_CHECK      equ WINDOW + 0x1C000
W_UNMAPPED      equ WINDOW + 0x10000
SCRATCH         equ 0x02800000
SCRATCH_SIZE    equ 0x10000
GFNLIST         equ 0x02810000
MCLIST          equ 0x02811000
RAM_END         equ 0x04000000
S1_GFN          equ 0x1000
BEYOND_GFN      equ 0x4000
DOMID_SELF      equ 0x7FF0
DEBUG_EXIT      equ 0xF4

; hypercall numbers (xen/include/public/xen.h)
HC_memory_op    equ 12
HC_multicall    equ 13
HC_xen_version  equ 17
HC_console_io   equ 18
HC_grant_table_op equ 20
HC_vcpu_op      equ 24
HC_sched_op     equ 29
HC_event_channel_op equ 32
HC_physdev_op   equ 33
HC_hvm_op       equ 34
HIGH_BUCKET     equ 64                      ; the per-op counters' slot for RAX-high calls
UNKNOWN_BUCKET  equ 65                      ; ... and for unknown 32-bit numbers (64 and up)

%define HI(x) (KERNEL_HI + (x))

; ---------------------------------------------------------------- the boot page
; Runs once, at boot, from its identity address; afterwards the fuzz hands it to Xen
; through WINDOW's read-only mapping, as "the guest's own code page".
image_start:
mb_header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd mb_header, image_start, 0, 0, start32

start32:
  cli
  mov esp, boot_stack_top
  mov [mbi_ptr], ebx
  mov [boot_magic], eax
  ; PML4[0] -> identity PDPT, [273] -> direct-map PDPT, [511] -> the high PDPT
  mov dword [pml4], pdpt_lo + 3
  mov dword [pml4 + 273 * 8], pdpt_dm + 3
  mov dword [pml4 + 511 * 8], pdpt_hi + 3
  mov dword [pdpt_lo], pd + 3
  mov dword [pdpt_dm], pd + 3
  mov dword [pdpt_dm + 8], pd_w + 3
  mov dword [pdpt_dm + 3 * 8], pd_mmio + 3
  mov dword [pdpt_hi + 510 * 8], pd + 3
  mov dword [pd_w], pt_w + 3
  ; the first GiB in 2 MiB pages; the LAPIC and IOAPIC pages uncached (PCD)
  IDENTITY_PD_2M pd
  mov dword [pd_mmio + 502 * 8], 0xFEC00000 | 0x93
  mov dword [pd_mmio + 503 * 8], 0xFEE00000 | 0x93
  ; WINDOW's 4 KiB pages (absent entries stay 0)
  xor ecx, ecx
.scratch:
  mov eax, ecx
  shl eax, 12
  add eax, SCRATCH | 3
  mov [pt_w + ecx * 8], eax
  inc ecx
  cmp ecx, 16
  jb .scratch
  mov dword [pt_w + 0x11 * 8], GFNLIST | 3
  mov dword [pt_w + 0x13 * 8], MCLIST | 3
  mov dword [pt_w + 0x15 * 8], image_start + 1        ; present, not writable
  mov dword [pt_w + 0x17 * 8], (RAM_END - 0x1000) | 3
  mov dword [pt_w + 0x18 * 8], RAM_END | 3
  mov dword [pt_w + 0x19 * 8], (RAM_END + 0x1000) | 3
  mov dword [pt_w + 0x1A * 8], (RAM_END + 0x2000) | 3
  mov dword [pt_w + 0x1C * 8], ro_check_page + 1      ; present, not writable
  ENTER_LONG_MODE pml4, gdtr, start64

bits 64
start64:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov rax, HI(main)
  jmp rax

boot_end:
  times 4096 - (boot_end - image_start) db 0  ; zeros: a struct read from here has index 0
ro_check_page:
  times 4096 db 0
code_start:

; ---------------------------------------------------------------- main
main:
  mov rsp, HI(stack_top)
  call setup_idt
  cmp dword [boot_magic], 0x2BADB002
  jne bad_cmdline
  call parse_cmdline
  lea rsi, [msg_hello]
  call puts
  call find_xen
  call setup_areas
  call find_rings
  lea rsi, [code_start]
  mov ecx, ro_end - code_start
  call fnv1a
  mov [code_hash], rax
  lea rsi, [image_start]
  mov ecx, code_start - image_start
  call fnv1a
  mov [ro_hash], rax
  call tables_hash
  mov [tables_hash_v], rax

  call fuzz
  call print_summary
  call print_rings
  call run_checks
  call check_integrity

  cmp qword [fail_count], 0
  jne .failed
  cmp qword [total_viol], 0
  jne .failed
  lea rsi, [msg_pass]
  call puts
  xor eax, eax
  jmp debug_exit
.failed:
  lea rsi, [msg_fail]
  call puts
  mov rax, [fail_count]
  add rax, [total_viol]
  call put_dec
  call newline
  mov eax, 1
  jmp debug_exit

bad_cmdline:
  lea rsi, [msg_badcmd]
  call puts
  mov eax, 4
debug_exit:                                 ; eax = value (status (value << 1) | 1)
  out DEBUG_EXIT, eax
.hang:
  cli
  hlt
  jmp .hang

; ---------------------------------------------------------------- command line
parse_cmdline:
  mov eax, [mbi_ptr]
  test dword [rax], 1 << 2                  ; MBI flags: cmdline present
  jz bad_cmdline
  mov eax, [rax + 16]
  mov [cmdline], rax
  lea rsi, [key_seed]
  call find_key
  test rsi, rsi
  jz bad_cmdline
  call parse_num
  test rax, rax
  jnz .seed
  inc eax
.seed:
  mov [rng], rax
  lea rsi, [key_calls]
  call find_key
  test rsi, rsi
  jz bad_cmdline
  call parse_num
  mov [n_calls], rax
  mov qword [foreign_domid], 0x1234
  lea rsi, [key_foreign]
  call find_key
  test rsi, rsi
  jz .errnos
  call parse_num
  mov [foreign_domid], rax
.errnos:
  lea rsi, [key_errnos]
  call find_key
  test rsi, rsi
  jz bad_cmdline
.next:
  call parse_num
  cmp rax, 128
  jae .skip
  lea rdx, [errno_ok]
  mov byte [rdx + rax], 1
.skip:
  cmp byte [rsi], ','
  jne .done
  inc rsi
  jmp .next
.done:
  ret

; rsi = key (NUL-terminated) -> rsi just after its first occurrence, or 0
find_key:
  mov rdi, [cmdline]
.scan:
  xor ecx, ecx
.cmp:
  mov al, [rsi + rcx]
  test al, al
  jz .found
  cmp al, [rdi + rcx]
  jne .next
  inc ecx
  jmp .cmp
.found:
  lea rsi, [rdi + rcx]
  ret
.next:
  cmp byte [rdi], 0
  je .none
  inc rdi
  jmp .scan
.none:
  xor esi, esi
  ret

; rsi -> decimal or 0x hex number; returns rax, rsi after it
parse_num:
  xor eax, eax
  cmp byte [rsi], '0'
  jne .dec
  cmp byte [rsi + 1], 'x'
  jne .dec
  add rsi, 2
.hex:
  movzx edx, byte [rsi]
  sub edx, '0'
  cmp edx, 9
  jbe .hexd
  movzx edx, byte [rsi]
  or edx, 0x20
  sub edx, 'a'
  cmp edx, 5
  ja .end
  add edx, 10
.hexd:
  shl rax, 4
  add rax, rdx
  inc rsi
  jmp .hex
.dec:
  movzx edx, byte [rsi]
  sub edx, '0'
  cmp edx, 9
  ja .end
  imul rax, rax, 10
  add rax, rdx
  inc rsi
  jmp .dec
.end:
  ret

; ---------------------------------------------------------------- Xen
; CPUID leaves 0x40000000 + k*0x100 (xen-abi.md §1), then the hypercall page through
; the MSR leaf base+2 names (§2.2), written from 64-bit code.
find_xen:
  mov esi, 0x40000000
.scan:
  mov eax, esi
  xor ecx, ecx
  cpuid
  cmp ebx, 'XenV'
  jne .next
  cmp ecx, 'MMXe'
  jne .next
  cmp edx, 'nVMM'
  jne .next
  sub eax, esi
  cmp eax, 2
  jae .found
.next:
  add esi, 0x100
  cmp esi, 0x40010000
  jb .scan
  lea rsi, [msg_noxen]
  call puts
  mov eax, 2
  jmp debug_exit
.found:
  lea eax, [rsi + 2]
  xor ecx, ecx
  cpuid
  mov ecx, ebx
  mov eax, hypercall_page
  xor edx, edx
  wrmsr
  cmp byte [hypercall_page + 32 * HC_xen_version], 0xB8
  jne .nopage
  cmp dword [hypercall_page + 32 * HC_xen_version + 1], HC_xen_version
  jne .nopage
  ret
.nopage:
  lea rsi, [msg_nopage]
  call puts
  mov eax, 2
  jmp debug_exit

; rax = hypercall number (all 64 bits), arguments from hc_args; returns rax.
; A number 0..127 other than 23 (iret, whose stub is ud2) goes through its stub; any
; other value enters a stub past its `mov eax, imm32` (+5) so RAX reaches Xen whole.
hcall:
  mov rdi, [hc_args]
  mov rsi, [hc_args + 8]
  mov rdx, [hc_args + 16]
  mov r10, [hc_args + 24]
  mov r8, [hc_args + 32]
  mov rcx, rax
  cmp rax, 127
  ja .raw
  cmp eax, 23
  je .raw
  shl ecx, 5
  mov r9, HI(hypercall_page)
  add rcx, r9
  call rcx
  ret
.raw:
  and ecx, 127
  cmp ecx, 23
  jne .stub
  xor ecx, ecx
.stub:
  shl ecx, 5
  mov r9, HI(hypercall_page + 5)
  add rcx, r9
  call rcx
  ret

; ---------------------------------------------------------------- areas
setup_areas:
  ; scratch: random bytes
  mov edi, SCRATCH
  mov ecx, SCRATCH_SIZE / 8
.fill:
  call rand
  mov [rdi], rax
  add rdi, 8
  loop .fill
  ; gfn list: safe gfns only (u64 xen_pfn_t)
  mov edi, GFNLIST
  mov ecx, 512
.gfns:
  call safe_gfn
  mov [rdi], rax
  add rdi, 8
  loop .gfns
  ; multicall list: xen_version(XENVER_version, 0) everywhere (64-byte entries)
  mov edi, MCLIST
  mov ecx, 64
.mc:
  mov qword [rdi], HC_xen_version
  mov qword [rdi + 16], 0
  mov qword [rdi + 24], 0
  add rdi, 64
  loop .mc
  ; builders by op
  lea rdi, [builder_tab]
  mov rax, HI(b_other)
  mov ecx, 64
  rep stosq
  lea rdi, [builder_tab]
%macro BUILDER 2
  mov rax, HI(%2)
  mov [rdi + %1 * 8], rax
%endmacro
  BUILDER HC_memory_op, b_memory
  BUILDER HC_multicall, b_multicall
  BUILDER HC_xen_version, b_xen_version
  BUILDER HC_console_io, b_console
  BUILDER HC_grant_table_op, b_grant
  BUILDER HC_vcpu_op, b_vcpu
  BUILDER HC_sched_op, b_sched
  BUILDER HC_event_channel_op, b_evtchn
  BUILDER HC_physdev_op, b_physdev
  BUILDER HC_hvm_op, b_hvm
  ret

; ---------------------------------------------------------------- the fuzz loop
fuzz:
.loop:
  mov rax, [total_calls]
  cmp rax, [n_calls]
  jae .done
  ; sometimes hand dom0 a scribbled ring first
  call rand
  test al, 31
  jnz .no_ring
  call ring_poke
.no_ring:
  ; keep the scratch random where Xen wrote results
  call rand
  mov edx, eax
  and edx, SCRATCH_SIZE - 4
  shr rax, 32
  mov [SCRATCH + rdx], eax
  ; the op: mostly a family, sometimes any of 0..63
  call rand
  mov edx, eax
  and edx, 15
  cmp edx, 13
  jae .any
  shr eax, 4
  and eax, 15
  lea rdx, [family_tab]
  movzx eax, byte [rdx + rax]
  jmp .have
.any:
  shr rax, 8
  test al, 7
  jz .unknown
  shr eax, 3
  and eax, 63
.have:
  mov [cur_op], rax
  mov [cur_rax], rax
  mov [cur_bucket], rax
  jmp .args
.unknown:                                   ; a 32-bit number no hypercall has (bit 31 too)
  shr rax, 3
  mov eax, eax
  bts eax, 6
  mov [cur_rax], rax
  mov qword [cur_op], 0                     ; random arguments (b_other)
  mov qword [cur_bucket], UNKNOWN_BUCKET
.args:
  xor ebx, ebx
.pre:
  call fill_qword
  lea rdx, [hc_args]
  mov [rdx + rbx * 8], rax
  inc ebx
  cmp ebx, 5
  jb .pre
  mov rax, [cur_op]
  lea rdx, [builder_tab]
  call [rdx + rax * 8]
  ; one call in 32: random bits above 31 in RAX
  call rand
  test al, 31
  jnz .call
  shr rax, 5
  shl rax, 32
  bts rax, 32 + 20                          ; never all zero
  or rax, [cur_op]
  mov [cur_rax], rax
  mov qword [cur_bucket], HIGH_BUCKET
.call:
  mov rax, [cur_rax]
  call hcall
  mov [last_rc], rax
  mov rcx, [cur_bucket]
  lea rdx, [op_calls]
  inc qword [rdx + rcx * 8]
  inc qword [total_calls]
  cmp rax, -38
  jne .classify
  lea rdx, [op_enosys]
  inc qword [rdx + rcx * 8]
.classify:
  test rax, rax
  js .negative
  lea rdx, [op_ok]
  inc qword [rdx + rcx * 8]
  jmp .loop
.negative:
  neg rax
  cmp rax, 128
  jae .violation
  lea rdx, [errno_ok]
  cmp byte [rdx + rax], 0
  jne .loop
.violation:
  lea rdx, [op_viols]
  inc qword [rdx + rcx * 8]
  inc qword [total_viol]
  call log_violation
  jmp .loop
.done:
  ret

log_violation:
  cmp qword [viol_logged], 16
  jae .quiet
  inc qword [viol_logged]
  lea rsi, [msg_viol]
  call puts
  mov rax, [cur_rax]
  call put_hex
  xor ebx, ebx
.arg:
  mov al, ' '
  call putc
  lea rdx, [hc_args]
  mov rax, [rdx + rbx * 8]
  call put_hex
  inc ebx
  cmp ebx, 5
  jb .arg
  lea rsi, [msg_rc]
  call puts
  mov rax, [last_rc]
  call put_dec
  call newline
.quiet:
  ret

print_summary:
  xor ebx, ebx
.op:
  lea rdx, [op_calls]
  cmp qword [rdx + rbx * 8], 0
  je .next
  lea rsi, [msg_op]
  call puts
  mov rax, rbx
  call put_dec
  call print_counts
  call newline
.next:
  inc ebx
  cmp ebx, HIGH_BUCKET
  jb .op
  ; the numbers that are no hypercall: Xen answers them all -ENOSYS
  lea rsi, [msg_high]
  call puts
  call print_counts
  call print_enosys
  inc ebx
  lea rsi, [msg_unknown]
  call puts
  call print_counts
  call print_enosys
  lea rsi, [msg_total]
  call puts
  mov rax, [total_calls]
  call put_dec
  lea rsi, [msg_viols]
  call puts
  mov rax, [total_viol]
  call put_dec
  call newline
  ret

print_enosys:                               ; " enosys=E" of bucket rbx, a newline
  lea rsi, [msg_enosys]
  call puts
  lea rdx, [op_enosys]
  mov rax, [rdx + rbx * 8]
  call put_dec
  jmp newline

print_counts:                               ; " calls=C ok=K violations=V" of bucket rbx
  lea rsi, [msg_calls]
  call puts
  lea rdx, [op_calls]
  mov rax, [rdx + rbx * 8]
  call put_dec
  lea rsi, [msg_oks]
  call puts
  lea rdx, [op_ok]
  mov rax, [rdx + rbx * 8]
  call put_dec
  lea rsi, [msg_viols]
  call puts
  lea rdx, [op_viols]
  mov rax, [rdx + rbx * 8]
  call put_dec
  ret

; ---------------------------------------------------------------- integrity
; FNV-1a over the page tables and the IDT a qword at a time, with bits 5 and 6 (the
; accessed and dirty flags the CPU sets in paging entries, SDM vol. 3A §4.8) cleared
tables_hash:
  lea rsi, [tables_start]
  mov ecx, (tables_end - tables_start) / 8
  mov rax, 0xcbf29ce484222325
  mov r9, 0x100000001b3
  mov r10, ~0x60
.l:
  mov rdx, [rsi]
  and rdx, r10
  xor rax, rdx
  imul rax, r9
  add rsi, 8
  dec ecx
  jnz .l
  ret

; "integrity code=ok|CHANGED tables=... readonly=...": the code and constants, the
; page tables and IDT, and the two pages WINDOW maps read-only
check_integrity:
  lea rsi, [msg_integrity]
  call puts
  lea rsi, [code_start]
  mov ecx, ro_end - code_start
  call fnv1a
  lea rsi, [msg_ok_word]
  cmp rax, [code_hash]
  je .code
  inc qword [fail_count]
  lea rsi, [msg_changed]
.code:
  call puts
  lea rsi, [msg_tables]
  call puts
  call tables_hash
  lea rsi, [msg_ok_word]
  cmp rax, [tables_hash_v]
  je .tables
  inc qword [fail_count]
  lea rsi, [msg_changed]
.tables:
  call puts
  lea rsi, [msg_readonly]
  call puts
  lea rsi, [image_start]
  mov ecx, code_start - image_start
  call fnv1a
  lea rsi, [msg_ok_word]
  cmp rax, [ro_hash]
  je .readonly
  inc qword [fail_count]
  lea rsi, [msg_changed]
.readonly:
  call puts
  call newline
  ret

; FNV-1a (64-bit) of ecx bytes at rsi -> rax
fnv1a:
  mov rax, 0xcbf29ce484222325
  mov r9, 0x100000001b3
  test ecx, ecx
  jz .done
.l:
  movzx edx, byte [rsi]
  xor rax, rdx
  imul rax, r9
  inc rsi
  dec ecx
  jnz .l
.done:
  ret

%include "builders.inc"
%include "debugcon64.inc"
%include "checks.inc"
%include "rings.inc"

; ---------------------------------------------------------------- exceptions
setup_idt:                                  ; vector v -> exc_stubs + v * 16
  xor ecx, ecx
.gate:
  mov rax, HI(exc_stubs)
  mov rdx, rcx
  shl rdx, 4
  add rax, rdx
  lea rdi, [idt]
  add rdi, rdx
  call idt64_gate
  inc ecx
  cmp ecx, 256
  jb .gate
  lidt [idtr]
  ret

align 16
exc_stubs:
%assign v 0
%rep 256
  push qword v                              ; 2 bytes (v < 128) or 5
  jmp exc_common
  align 16
%assign v v + 1
%endrep

; [rsp] = vector, then the CPU's frame (an error code first for 8, 10-14, 17)
exc_common:
  lea rsi, [msg_exc]
  call puts
  mov rax, [rsp]
  call put_dec
  xor ebx, ebx
.frame:
  mov al, ' '
  call putc
  mov rax, [rsp + 8 + rbx * 8]
  call put_hex
  inc ebx
  cmp ebx, 3
  jb .frame
  lea rsi, [msg_cr2]
  call puts
  mov rax, cr2
  call put_hex
  call newline
  mov eax, 3
  jmp debug_exit

; ---------------------------------------------------------------- constants
family_tab:
  db HC_memory_op, HC_memory_op, HC_xen_version, HC_hvm_op, HC_hvm_op, HC_vcpu_op
  db HC_sched_op, HC_event_channel_op, HC_event_channel_op, HC_grant_table_op
  db HC_grant_table_op, HC_physdev_op, HC_console_io, HC_multicall, HC_multicall, HC_sched_op

key_seed:       db "seed=", 0
key_calls:      db "calls=", 0
key_errnos:     db "errnos=", 0
key_foreign:    db "foreign=", 0
msg_hello:      db "xen64-fuzz guest", 10, 0
msg_noxen:      db "no Xen CPUID leaves", 10, 0
msg_nopage:     db "hypercall page not filled", 10, 0
msg_badcmd:     db "bad command line (need seed=, calls=, errnos=)", 10, 0
msg_viol:       db "violation rax=", 0
msg_rc:         db " rc=", 0
msg_want:       db " want=", 0
msg_status:     db " status=", 0
msg_ok:         db " ok", 10, 0
msg_bad:        db " FAIL", 10, 0
msg_op:         db "op ", 0
msg_high:       db "rax_high", 0
msg_unknown:    db "rax_unknown", 0
msg_enosys:     db " enosys=", 0
msg_calls:      db " calls=", 0
msg_oks:        db " ok=", 0
msg_viols:      db " violations=", 0
msg_total:      db "fuzz calls=", 0
msg_check:      db "check ", 0
msg_integrity:  db "integrity code=", 0
msg_tables:     db " tables=", 0
msg_readonly:   db " readonly=", 0
msg_ok_word:    db "ok", 0
msg_changed:    db "CHANGED", 0
msg_pass:       db "result pass", 10, 0
msg_fail:       db "result fail ", 0
msg_exc:        db "exception ", 0
msg_cr2:        db " cr2=", 0

align 8
gdt: dq 0, 0x00209b0000000000, 0x0000930000000000 ; accessed set: the CPU never writes them
gdtr: dw 23
  dd gdt
idtr: dw 256 * 16 - 1
  dq HI(idt)
ro_end:                                     ; the boot page, code and constants end here

; ---------------------------------------------------------------- data
align 8
mbi_ptr:        dq 0
boot_magic:     dq 0
cmdline:        dq 0
rng:            dq 0
n_calls:        dq 0
foreign_domid:  dq 0
cur_op:         dq 0
cur_rax:        dq 0
cur_bucket:     dq 0
last_rc:        dq 0
total_calls:    dq 0
total_viol:     dq 0
viol_logged:    dq 0
fail_count:     dq 0
code_hash:      dq 0
tables_hash_v:  dq 0
ro_hash:        dq 0
chk_rc:         dq 0
chk_want:       dq 0
chk_name:       dq 0
chk_ok:         dq 0
ptr_scratch:    dq 0
store_port:     dq 0
cons_port:      dq 0
ring_port_arg:  dq 0
ring_mapped:    dq 0                        ; bytes: xenstore ring, console ring
hc_args:        times 5 dq 0
op_calls:       times 66 dq 0
op_ok:          times 66 dq 0
op_viols:       times 66 dq 0
op_enosys:      times 66 dq 0
builder_tab:    times 64 dq 0
errno_ok:       times 128 db 0
align 64
chkarg:         times 256 db 0             ; the fixed checks' struct
chklist:        times 512 db 0             ; ... and the buffer it names

align 4096
tables_start:
pml4:           times 4096 db 0
pdpt_lo:        times 4096 db 0
pdpt_dm:        times 4096 db 0
pdpt_hi:        times 4096 db 0
pd:             times 4096 db 0
pd_w:           times 4096 db 0
pd_mmio:        times 4096 db 0
pt_w:           times 4096 db 0
idt:            times 4096 db 0
tables_end:
hypercall_page: times 4096 db 0
                times 4096 db 0
boot_stack_top:
                times 16384 db 0
stack_top:
