; tsxen's Xen hypercall fuzz guest (nasm, ELF32, Multiboot v1, linked at 1 MiB by kernel.ld;
; with builders.inc, rings.inc, bystander.inc and checks.inc: nasm -i <this folder>/).
;
; Command line (Multiboot §3.3, all keys optional but seed/calls/errnos):
;   seed=N       xorshift32 seed (decimal or 0x hex; 0 becomes 1)
;   calls=N      hypercalls to make in the fuzz phase
;   errnos=a,b,c the Xen errno values (positive) a negative result may carry
;   foreign=N    the id of another live domain (the bystander), for the checks that
;                name a foreign domain (default 0x1234, then answered as no domain)
;   bystander    run as the bystander instead: fill 8 MiB at 16 MiB from the seed,
;                print its FNV-1a hash, wait for a byte on COM1, hash it again
;
; Fuzz mode: finds Xen through CPUID (xen-abi.md §1: leaves 0x40000000 + k*0x100,
; "XenVMMXenVMM", EAX - base >= 2), writes the hypercall page's address to the MSR
; that leaf base+2 names (§2.2; stub N at page + 32*N), turns paging on and makes
; `calls` hypercalls, 32-bit convention (EAX op; EBX, ECX, EDX, ESI, EDI), with ops,
; sub-ops and arguments from the PRNG. Every result must be >= 0 or minus one of
; the given errnos; calls and violations are counted per op and printed. Then a
; fixed list of bad-argument calls is checked against the exact value Xen gives,
; the guest's own code and a guard page are re-hashed, and the guest ends through
; isa-debug-exit (port 0xF4): value 0 when everything passed, 1 otherwise
; (2: no Xen found, 3: an exception, 4: bad command line). All text goes to the
; debugcon port 0xE9.
;
; Linear memory once paging is on (RAM is 64 MiB; anything not listed is unmapped):
;   0x00100000  kernel image: code + rodata read-only (CR0.WP=1), data/bss read-write
;   0x00400000  scratch, 64 KiB of random bytes: where most argument pointers point
;   0x00500000  the gfn list reservation ops read (next page unmapped)
;   0x00502000  the multicall list (next page unmapped)
;   0x00800000  window: page 0 = the last RAM page, pages 1-3 = beyond RAM,
;               page 4 = the LAPIC's MMIO page, page 5 = the IOAPIC's,
;               page 6 = the xenstore ring, page 7 = the PV console ring
; dom0's side is fuzzed too: one call in 32 is preceded by scribbling on the xenstore
; or console ring page (random words, or a well-formed xenstore request of a random
; type and payload) and an EVTCHNOP_send on its port, so dom0's xenstored and console
; backend read what a hostile guest wrote.
; Guest frames the fuzz hands Xen as gfns (add_to_physmap, remove_from_physmap,
; reservations, vcpu_info and vcpu time areas, map_grant_ref host addresses) are only
; from a sacrificial region (gfns 0x1000-0x1FFF, 16-32 MiB, nothing lives there)
; or beyond RAM, so memory ops cannot pull the guest's own code or stack away.
;
; Left out because they would legitimately end or freeze the guest on Xen:
; SCHEDOP_shutdown, SCHEDOP_remote_shutdown, SCHEDOP_watchdog (kills the domain when
; it expires), SCHEDOP_block, SCHEDOP_poll without a timeout (every poll here has an
; absolute timeout of 1 ns, already past), VCPUOP_down and VCPUOP_send_nmi (an NMI
; cannot be masked), multicall entries other than xen_version, yield, evtchn send
; and an unknown op. Pointers to the code page are given only to families that
; cannot move frames; the guest runs with interrupts off throughout, so a random
; HVM_PARAM_CALLBACK_IRQ never injects anything.

bits 32

MB_MAGIC      equ 0x1BADB002
MB_FLAGS      equ 0x00000003
BOOT_MAGIC    equ 0x2BADB002
MBI_FLAGS     equ 0
MBI_CMDLINE   equ 16
INFO_CMDLINE  equ 1 << 2

DEBUGCON      equ 0xE9
DEBUG_EXIT    equ 0xF4
COM1          equ 0x3F8

SCRATCH       equ 0x00400000
SCRATCH_SIZE  equ 0x10000
GFNLIST       equ 0x00500000
MCLIST        equ 0x00502000
WINDOW        equ 0x00800000
RAM_END       equ 0x04000000
S1_GFN        equ 0x1000            ; sacrificial gfns 0x1000-0x1FFF
BEYOND_GFN    equ 0x4000            ; first gfn past 64 MiB of RAM
BYSTANDER_AT  equ 0x01000000        ; the bystander's filled region
BYSTANDER_LEN equ 0x00800000

DOMID_SELF    equ 0x7FF0
ANY_NONNEG    equ 0x7FFFFFFF        ; check table: any result >= 0
FOREIGN       equ 0xF0F0
IDT_VECTORS   equ 0x30                ; exceptions, then the remapped 8259 IRQs            ; check templates: replaced by foreign= at @0
NO_STATUS     equ 0xFFFFFFFF

; hypercall numbers (xen/include/public/xen.h)
HC_memory_op  equ 12
HC_multicall  equ 13
HC_xen_version equ 17
HC_console_io equ 18
HC_grant_table_op equ 20
HC_vcpu_op    equ 24
HC_sched_op   equ 29
HC_event_channel_op equ 32
HC_physdev_op equ 33
HC_hvm_op     equ 34

extern ro_end
extern image_end

section .multiboot
align 4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)

section .text
global _start
_start:
        cli
        mov esp, stack_top
        cmp eax, BOOT_MAGIC
        jne bad_cmdline
        mov ebp, ebx
        lgdt [gdt_desc]
        jmp 0x08:.reload
.reload:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        call install_idt

        ; command line
        test dword [ebp + MBI_FLAGS], INFO_CMDLINE
        jz bad_cmdline
        mov eax, [ebp + MBI_CMDLINE]
        mov [cmdline], eax
        mov esi, key_seed
        call find_key
        test esi, esi
        jz bad_cmdline
        call parse_num
        test eax, eax
        jnz .seed_ok
        inc eax
.seed_ok:
        mov [rng], eax
        mov esi, key_bystander
        call find_key
        test esi, esi
        jnz bystander_main
        mov esi, key_calls
        call find_key
        test esi, esi
        jz bad_cmdline
        call parse_num
        mov [n_calls], eax
        mov dword [foreign_domid], 0x1234
        mov esi, key_foreign
        call find_key
        test esi, esi
        jz .no_foreign
        call parse_num
        mov [foreign_domid], eax
.no_foreign:
        mov esi, key_errnos
        call find_key
        test esi, esi
        jz bad_cmdline
.errno_next:
        call parse_num
        cmp eax, 128
        jae .errno_skip
        mov byte [errno_ok + eax], 1
.errno_skip:
        cmp byte [esi], ','
        jne .errno_done
        inc esi
        jmp .errno_next
.errno_done:
        mov esi, msg_hello
        call puts
        call find_xen
        call setup_paging
        call setup_areas
        call find_rings
        ; fingerprints of what no hypercall may change
        mov esi, 0x100000
        mov ecx, ro_end
        sub ecx, esi
        call fnv1a
        mov [text_hash], eax
        mov esi, guard_page
        mov ecx, 4096
        call fnv1a
        mov [guard_hash], eax

        call fuzz
        call print_summary
        call print_rings
        call run_checks
        call check_cpuid_domid
        call check_integrity

        cmp dword [fail_count], 0
        jne .failed
        cmp dword [total_viol], 0
        jne .failed
        mov esi, msg_pass
        call puts
        xor eax, eax
        jmp debug_exit
.failed:
        mov esi, msg_fail
        call puts
        mov eax, [fail_count]
        add eax, [total_viol]
        call put_dec
        call newline
        mov eax, 1
        jmp debug_exit

bad_cmdline:
        mov esi, msg_badcmd
        call puts
        mov eax, 4
        ; fall through

; eax = value for isa-debug-exit (status (value << 1) | 1)
debug_exit:
        mov dx, DEBUG_EXIT
        out dx, eax
.hang:
        cli
        hlt
        jmp .hang

; ---------------------------------------------------------------- Xen discovery

find_xen:
        mov esi, 0x40000000
.scan:
        mov eax, esi
        xor ecx, ecx
        cpuid
        cmp ebx, 0x566e6558             ; "XenV"
        jne .next
        cmp ecx, 0x65584d4d             ; "MMXe"
        jne .next
        cmp edx, 0x4d4d566e             ; "nVMM"
        jne .next
        sub eax, esi
        cmp eax, 2
        jae .found
.next:
        add esi, 0x100
        cmp esi, 0x40010000
        jb .scan
        mov esi, msg_noxen
        call puts
        mov eax, 2
        jmp debug_exit
.found:
        mov [xen_base], esi
        push esi
        mov esi, msg_xen
        call puts
        mov eax, [esp]
        inc eax
        cpuid
        push eax
        shr eax, 16
        call put_dec
        mov al, '.'
        call putc
        pop eax
        and eax, 0xFFFF
        call put_dec
        mov esi, msg_msr
        call puts
        pop esi
        lea eax, [esi + 2]
        xor ecx, ecx
        cpuid
        mov [hc_msr], ebx
        mov eax, ebx
        call put_hex
        call newline
        ; install the hypercall page (xen-abi.md §2.2)
        mov ecx, [hc_msr]
        mov eax, hc_page
        xor edx, edx
        wrmsr
        cmp byte [hc_page + 32 * HC_xen_version], 0xB8
        jne .nopage
        cmp dword [hc_page + 32 * HC_xen_version + 1], HC_xen_version
        jne .nopage
        ret
.nopage:
        mov esi, msg_nopage
        call puts
        mov eax, 2
        jmp debug_exit

; eax = op, ebx/ecx/edx/esi/edi = arguments; returns eax. Clobbers everything but ebp/esp
; (Xen may clobber argument registers). Through the hypercall page, except op 23 (iret),
; whose stub is ud2 in Xen's page (xen-abi.md §2.2): that one goes straight to VMCALL.
hypercall:
        cmp eax, 23
        je hypercall_vmcall
        shl eax, 5
        add eax, hc_page
        call eax
        ret

; The same call made with the instruction itself: Xen traps VMCALL and VMMCALL alike.
hypercall_vmcall:
        vmcall
        ret

hypercall_vmmcall:
        vmmcall
        ret

; ---------------------------------------------------------------- memory set-up

setup_paging:
        mov edi, page_dir
        xor eax, eax
        mov ecx, 4 * 1024
        rep stosd                       ; page_dir, pt0, pt1, pt2 are consecutive
        ; pt0: the image, code + rodata read-only
        mov eax, 0x100000
.img:
        cmp eax, image_end
        jae .img_done
        mov edx, eax
        or edx, 1
        cmp eax, ro_end
        jb .ro
        or edx, 2
.ro:
        mov ecx, eax
        shr ecx, 12
        mov [pt0 + ecx * 4], edx
        add eax, 4096
        jmp .img
.img_done:
        ; pt1: scratch, the gfn list, the multicall list
        xor ecx, ecx
.scr:
        mov eax, ecx
        shl eax, 12
        add eax, SCRATCH | 3
        mov [pt1 + ecx * 4], eax
        inc ecx
        cmp ecx, SCRATCH_SIZE / 4096
        jb .scr
        mov eax, gfnlist_page
        or eax, 3
        mov [pt1 + ((GFNLIST - 0x400000) >> 12) * 4], eax
        mov eax, mc_page
        or eax, 3
        mov [pt1 + ((MCLIST - 0x400000) >> 12) * 4], eax
        ; pt2: the window past RAM and onto MMIO
        mov dword [pt2 + 0], (RAM_END - 0x1000) | 3
        mov dword [pt2 + 4], RAM_END | 3
        mov dword [pt2 + 8], (RAM_END + 0x1000) | 3
        mov dword [pt2 + 12], (RAM_END + 0x2000) | 3
        mov dword [pt2 + 16], 0xFEE00000 | 0x13
        mov dword [pt2 + 20], 0xFEC00000 | 0x13
        mov eax, pt0
        or eax, 3
        mov [page_dir + 0], eax
        mov eax, pt1
        or eax, 3
        mov [page_dir + 4], eax
        mov eax, pt2
        or eax, 3
        mov [page_dir + 8], eax
        mov eax, page_dir
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80010000              ; PG | WP: read-only pages hold at CPL 0 too
        mov cr0, eax
        jmp .flush
.flush:
        ret

setup_areas:
        ; scratch: random bytes
        mov edi, SCRATCH
        mov ecx, SCRATCH_SIZE / 4
.fill:
        call rand
        stosd
        loop .fill
        ; gfn list: safe gfns only
        mov edi, GFNLIST
        mov ecx, 1024
.gfns:
        call safe_gfn
        stosd
        loop .gfns
        ; multicall list: xen_version(XENVER_version) everywhere
        mov edi, MCLIST
        mov ecx, 4096 / 32
.mc:
        mov dword [edi], HC_xen_version
        mov dword [edi + 4], 0
        mov dword [edi + 8], 0
        mov dword [edi + 12], 0
        add edi, 32
        loop .mc
        ; guard page: a pattern nothing may touch
        mov edi, guard_page
        mov ecx, 1024
.guard:
        call rand
        stosd
        loop .guard
        ; builders by op
        mov edi, builder_tab
        mov eax, b_other
        mov ecx, 64
        rep stosd
        mov dword [builder_tab + HC_memory_op * 4], b_memory
        mov dword [builder_tab + HC_multicall * 4], b_multicall
        mov dword [builder_tab + HC_xen_version * 4], b_xen_version
        mov dword [builder_tab + HC_console_io * 4], b_console
        mov dword [builder_tab + HC_grant_table_op * 4], b_grant
        mov dword [builder_tab + HC_vcpu_op * 4], b_vcpu
        mov dword [builder_tab + HC_sched_op * 4], b_sched
        mov dword [builder_tab + HC_event_channel_op * 4], b_evtchn
        mov dword [builder_tab + HC_physdev_op * 4], b_physdev
        mov dword [builder_tab + HC_hvm_op * 4], b_hvm
        ret

%include "rings.inc"

; ---------------------------------------------------------------- fuzz loop

fuzz:
.loop:
        mov eax, [total_calls]
        cmp eax, [n_calls]
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
        call rand
        mov [SCRATCH + edx], eax
        ; the op: mostly the implemented families, sometimes any of 0..63
        call rand
        mov edx, eax
        and edx, 15
        cmp edx, 13
        jae .any
        shr eax, 4
        and eax, 15
        movzx eax, byte [family_tab + eax]
        jmp .have
.any:
        shr eax, 8
        and eax, 63
.have:
        mov [cur_op], eax
        xor ecx, ecx
.pre:
        call fill_dword
        mov [hc_args + ecx * 4], eax
        inc ecx
        cmp ecx, 5
        jb .pre
        mov eax, [cur_op]
        call [builder_tab + eax * 4]
        call rand
        and al, 7
        mov [entry_sel], al
        mov eax, [cur_op]
        mov ebx, [hc_args + 0]
        mov ecx, [hc_args + 4]
        mov edx, [hc_args + 8]
        mov esi, [hc_args + 12]
        mov edi, [hc_args + 16]
        ; one call in eight by VMCALL, one by VMMCALL, the rest through the page
        test byte [entry_sel], 7
        jz .by_vmcall
        cmp byte [entry_sel], 1
        je .by_vmmcall
        call hypercall
        jmp .returned
.by_vmcall:
        call hypercall_vmcall
        jmp .returned
.by_vmmcall:
        call hypercall_vmmcall
.returned:
        mov [last_rc], eax
        mov ecx, [cur_op]
        inc dword [op_calls + ecx * 4]
        inc dword [total_calls]
        test eax, eax
        js .negative
        inc dword [op_ok + ecx * 4]
        jmp .loop
.negative:
        neg eax
        cmp eax, 128
        jae .violation
        cmp byte [errno_ok + eax], 0
        jne .loop
.violation:
        inc dword [op_viols + ecx * 4]
        inc dword [total_viol]
        call log_violation
        jmp .loop
.done:
        ret

log_violation:
        cmp dword [viol_logged], 16
        jae .quiet
        inc dword [viol_logged]
        mov esi, msg_viol
        call puts
        mov eax, [cur_op]
        call put_dec
        xor ebx, ebx
.arg:
        mov esi, msg_arg
        call puts
        mov eax, [hc_args + ebx * 4]
        call put_hex
        inc ebx
        cmp ebx, 5
        jb .arg
        mov esi, msg_rc
        call puts
        mov eax, [last_rc]
        call put_dec
        call newline
.quiet:
        ret

%include "builders.inc"

; ---------------------------------------------------------------- results

print_summary:
        xor ebx, ebx
.op:
        cmp dword [op_calls + ebx * 4], 0
        je .next
        mov esi, msg_op
        call puts
        mov eax, ebx
        call put_dec
        mov esi, msg_calls
        call puts
        mov eax, [op_calls + ebx * 4]
        call put_dec
        mov esi, msg_oks
        call puts
        mov eax, [op_ok + ebx * 4]
        call put_dec
        mov esi, msg_viols
        call puts
        mov eax, [op_viols + ebx * 4]
        call put_dec
        call newline
.next:
        inc ebx
        cmp ebx, 64
        jb .op
        mov esi, msg_total
        call puts
        mov eax, [total_calls]
        call put_dec
        mov esi, msg_viols
        call puts
        mov eax, [total_viol]
        call put_dec
        call newline
        ret

; The fixed list: each entry's template is copied to chkarg (zeroed first) unless its
; length is 0, the call is made, and the result (and a GNTST status) compared.
CK_NAME   equ 0
CK_OP     equ 40
CK_A1     equ 44
CK_A2     equ 48
CK_A3     equ 52
CK_WANT   equ 56
CK_TMPL   equ 60
CK_LEN    equ 64
CK_STOFF  equ 68
CK_STWANT equ 72
CK_SIZE   equ 76

run_checks:
        mov ebp, check_table
.next:
        cmp ebp, check_table_end
        jae .done
        mov ecx, [ebp + CK_LEN]
        test ecx, ecx
        jz .call
        mov edi, chkarg
        xor eax, eax
        push ecx
        mov ecx, 32
        rep stosd
        pop ecx
        mov esi, [ebp + CK_TMPL]
        mov edi, chkarg
        rep movsb
        cmp word [chkarg], FOREIGN     ; a domid field at @0 naming the foreign domain
        jne .call
        mov eax, [foreign_domid]
        mov [chkarg], ax
.call:
        mov eax, [ebp + CK_OP]
        mov ebx, [ebp + CK_A1]
        mov ecx, [ebp + CK_A2]
        mov edx, [ebp + CK_A3]
        xor esi, esi
        xor edi, edi
        call hypercall
        mov [chk_rc], eax
        mov byte [chk_ok], 1
        mov edx, [ebp + CK_WANT]
        cmp edx, ANY_NONNEG
        jne .exact
        test eax, eax
        jns .status
        jmp .bad
.exact:
        cmp eax, edx
        jne .bad
.status:
        mov ecx, [ebp + CK_STOFF]
        cmp ecx, NO_STATUS
        je .print
        movsx eax, word [chkarg + ecx]
        cmp eax, [ebp + CK_STWANT]
        je .print
.bad:
        mov byte [chk_ok], 0
        inc dword [fail_count]
.print:
        mov esi, msg_check
        call puts
        lea esi, [ebp + CK_NAME]
        call puts
        mov esi, msg_rc
        call puts
        mov eax, [chk_rc]
        call put_dec
        mov esi, msg_want
        call puts
        mov eax, [ebp + CK_WANT]
        cmp eax, ANY_NONNEG
        jne .want_dec
        mov esi, msg_nonneg
        call puts
        jmp .want_done
.want_dec:
        call put_dec
.want_done:
        mov ecx, [ebp + CK_STOFF]
        cmp ecx, NO_STATUS
        je .verdict
        mov esi, msg_status
        call puts
        mov ecx, [ebp + CK_STOFF]
        movsx eax, word [chkarg + ecx]
        call put_dec
        mov esi, msg_want
        call puts
        mov eax, [ebp + CK_STWANT]
        call put_dec
.verdict:
        mov esi, msg_ok
        cmp byte [chk_ok], 0
        jne .v
        mov esi, msg_bad
.v:
        call puts
        add ebp, CK_SIZE
        jmp .next
.done:
        ret

; CPUID base+4 reports the domain id (ECX, with EAX bit 4 XEN_HVM_CPUID_DOMID_PRESENT,
; xen-abi.md §1); it must be the id Xen resolves DOMID_SELF to, which EVTCHNOP_status
; shows as the remote domain of a port from alloc_unbound(SELF, remote SELF).
check_cpuid_domid:
        mov eax, [xen_base]
        add eax, 4
        xor ecx, ecx
        cpuid
        test eax, 0x10
        jnz .present
        mov ecx, -1
.present:
        mov [chk_rc], ecx
        mov edi, chkarg
        xor eax, eax
        mov ecx, 32
        rep stosd
        mov dword [chkarg], DOMID_SELF | (DOMID_SELF << 16)
        mov eax, HC_event_channel_op
        mov ebx, 6                      ; EVTCHNOP_alloc_unbound {dom @0, remote_dom @2, OUT port @4}
        mov ecx, chkarg
        call hypercall
        mov edx, -1
        test eax, eax
        js .have
        mov eax, [chkarg + 4]
        mov dword [chkarg], DOMID_SELF  ; EVTCHNOP_status {dom @0, port @4, OUT status @8, vcpu @12, dom @16}
        mov [chkarg + 4], eax
        mov eax, HC_event_channel_op
        mov ebx, 5
        mov ecx, chkarg
        call hypercall
        mov edx, -1
        test eax, eax
        js .have
        movzx edx, word [chkarg + 16]
.have:
        mov [chk_want], edx
        mov esi, msg_check
        call puts
        mov esi, msg_cpuid_domid
        call puts
        mov esi, msg_rc
        call puts
        mov eax, [chk_rc]
        call put_dec
        mov esi, msg_want
        call puts
        mov eax, [chk_want]
        call put_dec
        mov esi, msg_ok
        mov eax, [chk_rc]
        cmp eax, [chk_want]
        je .v
        inc dword [fail_count]
        mov esi, msg_bad
.v:
        call puts
        ret

check_integrity:
        mov esi, msg_integrity
        call puts
        mov esi, 0x100000
        mov ecx, ro_end
        sub ecx, esi
        call fnv1a
        mov esi, msg_ok_word
        cmp eax, [text_hash]
        je .t
        inc dword [fail_count]
        mov esi, msg_changed
.t:
        call puts
        mov esi, msg_guard
        call puts
        mov esi, guard_page
        mov ecx, 4096
        call fnv1a
        mov esi, msg_ok_word
        cmp eax, [guard_hash]
        je .g
        inc dword [fail_count]
        mov esi, msg_changed
.g:
        call puts
        call newline
        ret

; FNV-1a of ecx bytes at esi -> eax
fnv1a:
        mov eax, 0x811c9dc5
        test ecx, ecx
        jz .done
.l:
        movzx edx, byte [esi]
        xor eax, edx
        imul eax, eax, 0x01000193
        inc esi
        dec ecx
        jnz .l
.done:
        ret

%include "bystander.inc"

; ---------------------------------------------------------------- command line

; esi = key (NUL-terminated); returns esi just after its first occurrence in the
; command line, or 0
find_key:
        mov edi, [cmdline]
.scan:
        xor ecx, ecx
.cmp:
        mov al, [esi + ecx]
        test al, al
        jz .found
        cmp al, [edi + ecx]
        jne .next
        inc ecx
        jmp .cmp
.found:
        lea esi, [edi + ecx]
        ret
.next:
        cmp byte [edi], 0
        je .none
        inc edi
        jmp .scan
.none:
        xor esi, esi
        ret

; esi -> decimal or 0x hex number; returns eax, esi after it
parse_num:
        xor eax, eax
        cmp byte [esi], '0'
        jne .dec
        cmp byte [esi + 1], 'x'
        jne .dec
        add esi, 2
.hex:
        movzx edx, byte [esi]
        sub edx, '0'
        cmp edx, 9
        jbe .hexd
        movzx edx, byte [esi]
        or edx, 0x20
        sub edx, 'a'
        cmp edx, 5
        ja .done
        add edx, 10
.hexd:
        shl eax, 4
        add eax, edx
        inc esi
        jmp .hex
.dec:
        movzx edx, byte [esi]
        sub edx, '0'
        cmp edx, 9
        ja .done
        imul eax, eax, 10
        add eax, edx
        inc esi
        jmp .dec
.done:
        ret

; ---------------------------------------------------------------- debugcon output

putc:
        out DEBUGCON, al
        ret

puts:
        push eax
.l:
        lodsb
        test al, al
        jz .done
        out DEBUGCON, al
        jmp .l
.done:
        pop eax
        ret

newline:
        mov al, 10
        out DEBUGCON, al
        ret

; eax signed decimal
put_dec:
        push ebx
        push ecx
        push edx
        test eax, eax
        jns .pos
        push eax
        mov al, '-'
        out DEBUGCON, al
        pop eax
        neg eax
.pos:
        mov ebx, 10
        xor ecx, ecx
.div:
        xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .div
.out:
        pop eax
        add al, '0'
        out DEBUGCON, al
        loop .out
        pop edx
        pop ecx
        pop ebx
        ret

; eax as 8 hex digits
put_hex:
        push ecx
        push edx
        mov edx, eax
        mov ecx, 8
.l:
        rol edx, 4
        mov eax, edx
        and eax, 15
        mov al, [hex_digits + eax]
        out DEBUGCON, al
        loop .l
        pop edx
        pop ecx
        ret

; ---------------------------------------------------------------- exceptions

install_idt:
        xor ecx, ecx
.l:
        mov eax, [exc_stubs + ecx * 4]
        mov edx, eax
        and eax, 0xFFFF
        or eax, 0x08 << 16
        and edx, 0xFFFF0000
        or edx, 0x8E00                  ; present, DPL 0, 32-bit interrupt gate
        mov [idt + ecx * 8], eax
        mov [idt + ecx * 8 + 4], edx
        inc ecx
        cmp ecx, 32
        jb .l
        mov eax, irq_any
        mov edx, eax
        and eax, 0xFFFF
        or eax, 0x08 << 16
        and edx, 0xFFFF0000
        or edx, 0x8E00
.irq:
        mov [idt + ecx * 8], eax
        mov [idt + ecx * 8 + 4], edx
        inc ecx
        cmp ecx, IDT_VECTORS
        jb .irq
        lidt [idt_desc]
        ret

%assign v 0
%rep 32
exc_stub %+ v:
        push dword v
        jmp exc_common
%assign v v + 1
%endrep

; [esp] = vector, then the CPU's frame (error code first for 8, 10-14, 17)
exc_common:
        mov esi, msg_exc
        call puts
        mov eax, [esp]
        call put_dec
        mov ebx, 1
.frame:
        mov al, ' '
        call putc
        mov eax, [esp + ebx * 4]
        call put_hex
        inc ebx
        cmp ebx, 4
        jbe .frame
        mov esi, msg_cr2
        call puts
        mov eax, cr2
        call put_hex
        call newline
        mov eax, 3
        jmp debug_exit

section .rodata

family_tab:
        db HC_memory_op, HC_memory_op, HC_xen_version, HC_hvm_op, HC_hvm_op, HC_vcpu_op
        db HC_sched_op, HC_event_channel_op, HC_event_channel_op, HC_event_channel_op
        db HC_grant_table_op, HC_grant_table_op, HC_grant_table_op, HC_physdev_op
        db HC_console_io, HC_multicall

exc_stubs:
%assign v 0
%rep 32
        dd exc_stub %+ v
%assign v v + 1
%endrep

hex_digits:     db "0123456789abcdef"
xs_alphabet:    db "/local/domain/0127@-_.xyzdevc", 0, 0, 0
msg_rings:      db "xenstore port, console port: ", 0
msg_xs_ring:    db "xenstore ring req_cons=", 0
msg_rsp_prod:   db " rsp_prod=", 0
msg_cons_ring:  db "console ring out_cons=", 0
key_seed:       db "seed=", 0
key_calls:      db "calls=", 0
key_errnos:     db "errnos=", 0
key_foreign:    db "foreign=", 0
key_bystander:  db "bystander", 0
msg_hello:      db "xen-fuzz guest", 10, 0
msg_xen:        db "xen ", 0
msg_msr:        db " hypercall page msr ", 0
msg_noxen:      db "no Xen CPUID leaves", 10, 0
msg_nopage:     db "hypercall page not filled", 10, 0
msg_badcmd:     db "bad command line (need seed=, calls=, errnos=)", 10, 0
msg_viol:       db "violation op=", 0
msg_arg:        db " ", 0
msg_rc:         db " rc=", 0
msg_want:       db " want=", 0
msg_nonneg:     db ">=0", 0
msg_status:     db " status=", 0
msg_ok:         db " ok", 10, 0
msg_bad:        db " FAIL", 10, 0
msg_op:         db "op ", 0
msg_calls:      db " calls=", 0
msg_oks:        db " ok=", 0
msg_viols:      db " violations=", 0
msg_total:      db "fuzz calls=", 0
msg_check:      db "check ", 0
msg_integrity:  db "integrity code=", 0
msg_cpuid_domid: db "cpuid_domid", 0
msg_guard:      db " guard=", 0
msg_ok_word:    db "ok", 0
msg_changed:    db "CHANGED", 0
msg_pass:       db "result pass", 10, 0
msg_fail:       db "result fail ", 0
msg_exc:        db "exception ", 0
msg_cr2:        db " cr2=", 0
msg_bystander:  db "bystander guest", 10, 0
msg_by_ready:   db "bystander ready hash=", 0
msg_by_final:   db "bystander final hash=", 0

%include "checks.inc"

section .data
align 8
gdt:
        dq 0
        dq 0x00CF9A000000FFFF           ; 0x08 flat code
        dq 0x00CF92000000FFFF           ; 0x10 flat data
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt
idt_desc:
        dw IDT_VECTORS * 8 - 1
        dd idt

section .bss
alignb 4096
page_dir:       resb 4096
pt0:            resb 4096
pt1:            resb 4096
pt2:            resb 4096
hc_page:        resb 4096
gfnlist_page:   resb 4096
mc_page:        resb 4096
chkarg:         resb 4096
guard_page:     resb 4096
stack:          resb 16384
stack_top:
idt:            resb IDT_VECTORS * 8
builder_tab:    resd 64
op_calls:       resd 64
op_viols:       resd 64
op_ok:          resd 64
hc_args:        resd 5
errno_ok:       resb 128
rng:            resd 1
n_calls:        resd 1
foreign_domid:  resd 1
store_port:     resd 1
cons_port:      resd 1
ring_port_arg:  resd 1
ring_mapped:    resb 2
cmdline:        resd 1
xen_base:       resd 1
hc_msr:         resd 1
cur_op:         resd 1
last_rc:        resd 1
total_calls:    resd 1
total_viol:     resd 1
viol_logged:    resd 1
fail_count:     resd 1
text_hash:      resd 1
guard_hash:     resd 1
by_hash:        resd 1
chk_rc:         resd 1
chk_want:       resd 1
chk_ok:         resb 1
ptr_scratch:    resb 1
entry_sel:      resb 1
