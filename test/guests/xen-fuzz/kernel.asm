; tsxen's Xen hypercall fuzz guest (nasm, ELF32, Multiboot v1, linked at 1 MiB by kernel.ld).
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

; ---------------------------------------------------------------- dom0's rings

STORE_RING    equ WINDOW + 0x6000
CONS_RING     equ WINDOW + 0x7000
; xs_wire.h struct xenstore_domain_interface
XS_REQ        equ 0
XS_RSP        equ 1024
XS_REQ_CONS   equ 2048
XS_REQ_PROD   equ 2052
XS_RSP_CONS   equ 2056
XS_RSP_PROD   equ 2060
; io/console.h struct xencons_interface
XC_OUT        equ 1024
XC_OUT_CONS   equ 3080
XC_OUT_PROD   equ 3084

; HVM params STORE_PFN (1), STORE_EVTCHN (2), CONSOLE_PFN (17), CONSOLE_EVTCHN (18):
; map the ring pages into the window (pages 6 and 7) and keep the ports.
find_rings:
        mov ebx, 1
        call get_param
        mov edi, 6
        call map_window
        mov ebx, 2
        call get_param
        mov [store_port], eax
        mov ebx, 17
        call get_param
        mov edi, 7
        call map_window
        mov ebx, 18
        call get_param
        mov [cons_port], eax
        mov eax, cr3                    ; flush the TLB for the new window pages
        mov cr3, eax
        mov esi, msg_rings
        call puts
        mov eax, [store_port]
        call put_dec
        mov al, ' '
        call putc
        mov eax, [cons_port]
        call put_dec
        call newline
        ret

; ebx = HVM param index -> eax = its low 32 bits (0 when the call fails)
get_param:
        mov dword [chkarg], DOMID_SELF
        mov [chkarg + 4], ebx
        mov dword [chkarg + 8], 0
        mov dword [chkarg + 12], 0
        mov eax, HC_hvm_op
        mov ebx, 1                      ; HVMOP_get_param
        mov ecx, chkarg
        call hypercall
        test eax, eax
        jnz .fail
        mov eax, [chkarg + 8]
        ret
.fail:
        xor eax, eax
        ret

; eax = gfn, edi = window page: map it there when it is a frame below 4 GiB
map_window:
        test eax, eax
        jz .skip
        cmp eax, 0x100000
        jae .skip
        shl eax, 12
        or eax, 3
        mov [pt2 + edi * 4], eax
        mov byte [ring_mapped + edi - 6], 1
.skip:
        ret

ring_poke:
        call rand
        test al, 1
        jz .console
        cmp byte [ring_mapped], 0
        je .done
        call rand
        test al, 7
        jnz .request
        ; random words in the request/reply buffers, and now and then anywhere on the page
        ; (indices included: xenstored then gives up on the connection, as Xen's does)
        shr eax, 3
        mov ebx, 0x7FC
        test al, 7
        jnz .scribble_area
        mov ebx, 0xFFC
.scribble_area:
        mov ecx, 8
.scribble:
        call rand
        mov edx, eax
        and edx, ebx
        call rand
        mov [STORE_RING + edx], eax
        loop .scribble
        jmp .notify_store
.request:
        ; a well-formed header {type, req_id, tx_id, len} and len payload bytes at req_prod
        mov edi, [STORE_RING + XS_REQ_PROD]
        call rand
        xor edx, edx
        mov ecx, 28
        div ecx
        mov eax, edx
        call xs_put_dword               ; type
        call rand
        call xs_put_dword               ; req_id
        call rand
        test al, 3
        jnz .tx0
        and eax, 15
        jmp .tx
.tx0:
        xor eax, eax
.tx:
        call xs_put_dword               ; tx_id
        call rand
        and eax, 63
        mov ebx, eax
        call xs_put_dword               ; len
.payload:
        test ebx, ebx
        jz .produced
        call rand
        and eax, 31
        mov al, [xs_alphabet + eax]
        call xs_put_byte
        dec ebx
        jmp .payload
.produced:
        mov [STORE_RING + XS_REQ_PROD], edi
        ; take whatever replies are there, so the server keeps answering
        mov eax, [STORE_RING + XS_RSP_PROD]
        mov [STORE_RING + XS_RSP_CONS], eax
.notify_store:
        mov eax, [store_port]
        jmp .send
.console:
        cmp byte [ring_mapped + 1], 0
        je .done
        mov ecx, 4
.cscribble:
        call rand
        mov edx, eax
        and edx, 0x7FC
        call rand
        mov [CONS_RING + XC_OUT + edx], eax
        loop .cscribble
        call rand
        test al, 63                     ; rarely a wild out_prod: the backend then gives up
        jz .cprod_any
        and eax, 0x3F00
        shr eax, 8
        add [CONS_RING + XC_OUT_PROD], eax
        jmp .notify_cons
.cprod_any:
        call rand
        mov [CONS_RING + XC_OUT_PROD], eax
.notify_cons:
        mov eax, [cons_port]
.send:
        mov [ring_port_arg], eax
        mov eax, HC_event_channel_op
        mov ebx, 4                      ; EVTCHNOP_send
        mov ecx, ring_port_arg
        call hypercall
.done:
        ret

; where dom0 left the ring indices: consumed requests and console bytes show it read them
print_rings:
        cmp byte [ring_mapped], 0
        je .cons
        mov esi, msg_xs_ring
        call puts
        mov eax, [STORE_RING + XS_REQ_CONS]
        call put_dec
        mov esi, msg_rsp_prod
        call puts
        mov eax, [STORE_RING + XS_RSP_PROD]
        call put_dec
        call newline
.cons:
        cmp byte [ring_mapped + 1], 0
        je .done
        mov esi, msg_cons_ring
        call puts
        mov eax, [CONS_RING + XC_OUT_CONS]
        call put_dec
        call newline
.done:
        ret

; the request ring byte at index edi (mod 1024) = al; edi += 1
xs_put_byte:
        push edx
        mov edx, edi
        and edx, 1023
        mov [STORE_RING + XS_REQ + edx], al
        inc edi
        pop edx
        ret

; eax as four ring bytes at edi
xs_put_dword:
        push ecx
        mov ecx, 4
.b:
        call xs_put_byte
        shr eax, 8
        loop .b
        pop ecx
        ret

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

; ---------------------------------------------------------------- argument builders
; Each sets hc_args (pre-filled with fill_dword values) for the op in cur_op.

b_other:
        ret

b_xen_version:
        mov ecx, 11
        call pick_sub
        mov [hc_args + 0], eax
        xor cl, cl
        call arg_ptr
        mov [hc_args + 4], eax
        ret

b_console:
        mov ecx, 2
        call pick_sub
        mov [hc_args + 0], eax
        call rand
        mov edx, eax
        and edx, 7
        shr eax, 3
        cmp edx, 6
        jb .small
        je .mid
        call fill_dword
        jmp .count
.small:
        and eax, 63
        jmp .count
.mid:
        and eax, 0xFFFF
.count:
        mov [hc_args + 4], eax
        xor cl, cl
        call arg_ptr
        mov [hc_args + 8], eax
        ret

b_hvm:
        call rand
        test al, 1
        jz .pick
        shr eax, 1
        and eax, 1                      ; get/set_param half the time
        jmp .have
.pick:
        mov ecx, 26
        call pick_sub
.have:
        mov [hc_args + 0], eax
        xor cl, cl
        call arg_ptr
        mov [hc_args + 4], eax
        cmp byte [ptr_scratch], 0
        je .done
        cmp dword [hc_args + 0], 1
        ja .done
        mov edi, eax                    ; xen_hvm_param: domid @0, index @4, value @8
        call rand
        test al, 3
        jz .dom
        mov dword [edi], DOMID_SELF
.dom:
        call rand
        and eax, 63
        mov [edi + 4], eax
.done:
        ret

b_evtchn:
        mov ecx, 15
        call pick_sub
        mov [hc_args + 0], eax
        xor cl, cl
        call arg_ptr
        mov [hc_args + 4], eax
        cmp byte [ptr_scratch], 0
        je .done
        mov edi, eax
        call rand
        test al, 1
        jz .done
        shr eax, 1
        and eax, 7                      ; a low port in the first field
        mov [edi], eax
.done:
        ret

b_physdev:
        mov ecx, 32
        call pick_sub
        mov [hc_args + 0], eax
        xor cl, cl
        call arg_ptr
        mov [hc_args + 4], eax
        ret

b_grant:
        mov ecx, 13
        call pick_sub
        mov [hc_args + 0], eax
        mov cl, 1
        call arg_ptr
        mov [hc_args + 4], eax
        mov edi, eax
        call rand
        mov edx, eax
        and edx, 7
        shr eax, 3
        cmp edx, 4
        jb .one
        cmp edx, 6
        jb .few
        je .none
        call fill_dword
        jmp .count
.one:
        mov eax, 1
        jmp .count
.few:
        and eax, 7
        jmp .count
.none:
        xor eax, eax
.count:
        mov [hc_args + 8], eax
        cmp byte [ptr_scratch], 0
        je .done
        cmp dword [hc_args + 0], 0      ; map_grant_ref: host_addr is a guest-physical address
        jne .done
        call safe_gfn
        shl eax, 12
        mov [edi], eax
        mov dword [edi + 4], 0
.done:
        ret

b_memory:
        mov ecx, 29
        call pick_sub
        mov ebx, eax
        call rand
        test al, 15
        jnz .no_start
        shr eax, 8
        and eax, 0xFF
        shl eax, 6                      ; a continuation start extent in cmd bits 6+
        or ebx, eax
.no_start:
        mov [hc_args + 0], ebx
        mov cl, 1
        call arg_ptr
        mov [hc_args + 4], eax
        cmp byte [ptr_scratch], 0
        je .done
        mov edi, eax
        and ebx, 63
        cmp ebx, 0
        je .reservation
        cmp ebx, 1
        je .reservation
        cmp ebx, 6
        je .reservation
        cmp ebx, 7
        je .add_to_physmap
        cmp ebx, 15
        je .remove
.done:
        ret
.reservation:
        ; xen_memory_reservation (32-bit): extent_start @0, nr_extents @4, order @8, flags @12, domid @16
        push edi
        mov edi, GFNLIST
        mov ecx, 16
.regen:
        call safe_gfn
        stosd
        loop .regen
        pop edi
        call rand
        test al, 7
        jz .list_any
        mov dword [edi], GFNLIST
.list_any:
        call rand
        test al, 3
        jz .nr_any
        shr eax, 2
        and eax, 15
        mov [edi + 4], eax
.nr_any:
        call rand
        mov edx, eax
        and edx, 7
        shr eax, 3
        cmp edx, 5
        jb .order_small
        je .order_max
        cmp edx, 6
        je .order_done                  ; template value
        mov dword [edi + 8], 0
        jmp .order_done
.order_small:
        and eax, 3
        mov [edi + 8], eax
        jmp .order_done
.order_max:
        mov dword [edi + 8], 9
.order_done:
        call rand
        test al, 3
        jz .flags_any
        mov dword [edi + 12], 0
.flags_any:
        call rand
        test al, 3
        jz .res_dom_any
        mov dword [edi + 16], DOMID_SELF
.res_dom_any:
        ret
.add_to_physmap:
        ; xen_add_to_physmap (32-bit): domid u16 @0, size u16 @2, space @4, idx @8, gpfn @12
        call rand
        test al, 3
        jz .atp_dom_any
        mov word [edi], DOMID_SELF
.atp_dom_any:
        call rand
        and eax, 15
        mov [edi + 2], ax
        call rand
        test al, 7
        jz .space_any
        shr eax, 3
        xor edx, edx
        mov ecx, 6
        div ecx
        mov [edi + 4], edx
.space_any:
        mov eax, [edi + 4]
        cmp eax, 0
        je .idx_shinfo
        cmp eax, 1
        je .idx_grant
        cmp eax, 4
        jb .idx_gfn                     ; gmfn / gmfn_range move frames: sacrificial only
        jmp .gpfn                       ; other spaces keep the template's idx
.idx_shinfo:
        call rand
        and eax, 7
        cmp eax, 1                      ; mostly 0, sometimes 1 (-EINVAL)
        sbb eax, eax
        neg eax
        mov [edi + 8], eax
        jmp .gpfn
.idx_grant:
        call rand
        mov edx, eax
        and eax, 0x7F                   ; past max_grant_frames (64) half the time
        test edx, 0xF00
        jnz .idx_set
        or eax, 0x80000000              ; XENMAPIDX_grant_table_status
.idx_set:
        mov [edi + 8], eax
        jmp .gpfn
.idx_gfn:
        call safe_gfn
        mov [edi + 8], eax
.gpfn:
        call safe_gfn
        mov [edi + 12], eax
        ret
.remove:
        ; xen_remove_from_physmap (32-bit): domid @0, gpfn @4
        call rand
        test al, 3
        jz .rm_dom_any
        mov dword [edi], DOMID_SELF
.rm_dom_any:
        call safe_gfn
        mov [edi + 4], eax
        ret

b_vcpu:
        mov ecx, 16
        call pick_sub
        cmp eax, 2                      ; VCPUOP_down
        je .is_up
        cmp eax, 11                     ; VCPUOP_send_nmi
        jne .cmd_ok
.is_up:
        mov eax, 3                      ; VCPUOP_is_up instead
.cmd_ok:
        mov [hc_args + 0], eax
        call rand
        test al, 3
        jz .vcpu_any
        mov dword [hc_args + 4], 0
.vcpu_any:
        mov cl, 1
        call arg_ptr
        mov [hc_args + 8], eax
        cmp byte [ptr_scratch], 0
        je .done
        mov edi, eax
        mov eax, [hc_args + 0]
        cmp eax, 10
        je .vcpu_info
        cmp eax, 14
        je .phys_area
        cmp eax, 15
        je .phys_area
.done:
        ret
.vcpu_info:
        ; vcpu_register_vcpu_info: u64 mfn @0, offset @8, rsvd @12
        call safe_gfn
        mov [edi], eax
        call rand
        test al, 7
        jz .hi_any
        mov dword [edi + 4], 0
.hi_any:
        call rand
        mov edx, eax
        and eax, 0xFC0
        test edx, 0x3000
        jnz .off_set
        and edx, 0xFFFF
        mov eax, edx
.off_set:
        mov [edi + 8], eax
        ret
.phys_area:
        ; vcpu_register_time_memory_area / runstate phys area: u64 guest-physical address
        call safe_gfn
        shl eax, 12
        mov edx, eax
        call rand
        and eax, 0xFC0
        or eax, edx
        mov [edi], eax
        mov dword [edi + 4], 0
        ret

b_sched:
        mov ecx, 6
        call pick_sub
        cmp eax, 1                      ; block
        je .yield
        cmp eax, 2                      ; shutdown
        je .yield
        cmp eax, 4                      ; remote_shutdown
        je .yield
        cmp eax, 6                      ; watchdog
        jne .cmd_ok
.yield:
        xor eax, eax
.cmd_ok:
        mov [hc_args + 0], eax
        mov cl, 1
        call arg_ptr
        mov [hc_args + 4], eax
        cmp dword [hc_args + 0], 3
        jne .done
        cmp byte [ptr_scratch], 0
        je .done
        ; sched_poll (32-bit): ports @0, nr_ports @4, timeout u64 @8 = 1 ns (already past)
        mov edi, eax
        call rand
        test al, 3
        jz .nr_any
        shr eax, 2
        and eax, 3
        mov [edi + 4], eax
.nr_any:
        mov dword [edi + 8], 1
        mov dword [edi + 12], 0
.done:
        ret

b_multicall:
        call rand
        mov edx, eax
        and edx, 7
        cmp edx, 6
        jb .list
        je .null
        or eax, 0x10000000
        mov [hc_args + 0], eax
        jmp .count
.null:
        mov dword [hc_args + 0], 0
        jmp .count
.list:
        mov dword [hc_args + 0], MCLIST
        ; the first four entries: {op @0, result @4, args[6] @8}
        mov edi, MCLIST
        mov ebx, 4
.entry:
        call rand
        mov edx, eax
        and edx, 3
        shr eax, 2
        cmp edx, 1
        jb .e_version
        je .e_yield
        cmp edx, 2
        je .e_send
        mov dword [edi], 63             ; unknown op
        call fill_dword
        mov [edi + 8], eax
        jmp .e_next
.e_version:
        mov dword [edi], HC_xen_version
        xor edx, edx
        mov ecx, 9
        div ecx
        mov [edi + 8], edx
        call scratch_ptr
        mov [edi + 12], eax
        jmp .e_next
.e_yield:
        mov dword [edi], HC_sched_op
        mov dword [edi + 8], 0
        jmp .e_next
.e_send:
        mov dword [edi], HC_event_channel_op
        mov dword [edi + 8], 4
        call scratch_ptr
        mov [edi + 12], eax
.e_next:
        add edi, 32
        dec ebx
        jnz .entry
.count:
        call rand
        mov edx, eax
        and edx, 7
        shr eax, 3
        cmp edx, 6
        jb .few
        je .many
        call fill_dword
        jmp .set
.few:
        and eax, 7
        jmp .set
.many:
        mov eax, 0x10000
.set:
        mov [hc_args + 4], eax
        ret

; ---------------------------------------------------------------- random values

; xorshift32 (13, 17, 5); returns eax, keeps every other register
rand:
        push edx
        mov eax, [rng]
        mov edx, eax
        shl edx, 13
        xor eax, edx
        mov edx, eax
        shr edx, 17
        xor eax, edx
        mov edx, eax
        shl edx, 5
        xor eax, edx
        mov [rng], eax
        pop edx
        ret

; A value for a struct field or register: small, DOMID_SELF, 0, a scratch pointer,
; a high number (never a mapped address), 1 or ~0. Keeps every register but eax.
fill_dword:
        push edx
        call rand
        mov edx, eax
        shr eax, 3
        and edx, 7
        cmp edx, 2
        jb .small
        je .self
        cmp edx, 4
        jb .zero
        je .scr
        cmp edx, 6
        jb .high
        je .one
        mov eax, -1
        pop edx
        ret
.small:
        and eax, 31
        pop edx
        ret
.self:
        mov eax, DOMID_SELF
        pop edx
        ret
.zero:
        xor eax, eax
        pop edx
        ret
.scr:
        and eax, SCRATCH_SIZE - 4
        add eax, SCRATCH
        pop edx
        ret
.high:
        or eax, 0x10000000
        pop edx
        ret
.one:
        mov eax, 1
        pop edx
        ret

scratch_ptr:
        call rand
        and eax, SCRATCH_SIZE - 64
        add eax, SCRATCH
        ret

; A gfn Xen may take, move or write: sacrificial, beyond RAM, or invalid.
safe_gfn:
        push edx
        call rand
        mov edx, eax
        and edx, 7
        shr eax, 8
        cmp edx, 5
        jb .s1
        je .beyond
        cmp edx, 6
        je .huge
        mov eax, -1
        pop edx
        ret
.s1:
        and eax, 0x3FF                  ; + order 9 (512 frames) stays below 0x1600
        add eax, S1_GFN
        pop edx
        ret
.beyond:
        and eax, 0x3FFF
        add eax, BEYOND_GFN
        pop edx
        ret
.huge:
        or eax, 0x100000
        pop edx
        ret

; ecx = number of valid sub-ops; returns one of them 3 times in 4, else a random value
pick_sub:
        call rand
        test al, 3
        jz .random
        shr eax, 8
        xor edx, edx
        div ecx
        mov eax, edx
        ret
.random:
        call rand
        test al, 1
        jz .byte
        ret
.byte:
        shr eax, 8
        and eax, 0xFF
        ret

; An argument pointer. cl = 0: any kind; cl = 1: never the code page nor wholly in the
; last RAM page (families whose structs name frames). Sets ptr_scratch when the
; pointer is a 64-byte slot in scratch, which then holds fill_dword values half the time.
arg_ptr:
        mov byte [ptr_scratch], 0
        call rand
        mov edx, eax
        shr edx, 4
        and eax, 15
        cmp eax, 10
        jb .scratch
        je .null
        cmp eax, 11
        je .code
        cmp eax, 12
        je .window
        cmp eax, 13
        je .mmio
        cmp eax, 14
        je .high
        and edx, 63                     ; straddles the end of scratch
        mov eax, SCRATCH + SCRATCH_SIZE
        sub eax, edx
        ret
.scratch:
        and edx, SCRATCH_SIZE - 64
        lea eax, [edx + SCRATCH]
        mov byte [ptr_scratch], 1
        push eax
        call rand
        test al, 1
        pop eax
        jz .ret
        push edi
        mov edi, eax
        call write_template
        mov eax, edi
        pop edi
.ret:
        ret
.null:
        xor eax, eax
        ret
.code:
        test cl, cl
        jnz .high
        and edx, 0x7FC
        lea eax, [edx + 0x100000]
        ret
.window:
        test cl, cl
        jnz .window_safe
        and edx, 0x3FFF
        lea eax, [edx + WINDOW]
        ret
.window_safe:
        and edx, 0x1FFF
        lea eax, [edx + WINDOW + 0xFFC]
        ret
.mmio:
        and edx, 0x1FFF
        lea eax, [edx + WINDOW + 0x4000]
        ret
.high:
        call rand
        or eax, 0x10000000
        ret

; edi = 64-byte slot: 16 fill_dword values. Keeps every register but eax.
write_template:
        push ecx
        push edi
        mov ecx, 16
.l:
        call fill_dword
        mov [edi], eax
        add edi, 4
        dec ecx
        jnz .l
        pop edi
        pop ecx
        ret

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

; ---------------------------------------------------------------- bystander

bystander_main:
        mov esi, msg_bystander
        call puts
        mov edi, BYSTANDER_AT
        mov ecx, BYSTANDER_LEN / 4
.fill:
        call rand
        stosd
        loop .fill
        mov esi, BYSTANDER_AT
        mov ecx, BYSTANDER_LEN
        call fnv1a
        mov [by_hash], eax
        mov esi, msg_by_ready
        call puts
        mov eax, [by_hash]
        call put_hex
        call newline
        ; wait for a byte on COM1 halted, woken by its IRQ 4 (vector 0x24 after the 8259
        ; remap), so the bystander takes no CPU from the fuzzer meanwhile
        call enable_com1_irq
.wait:
        cli
        mov dx, COM1 + 5                ; 16550 LSR bit 0: data ready
        in al, dx
        test al, 1
        jnz .go
        sti                             ; the STI shadow covers HLT: no wake-up is lost
        hlt
        jmp .wait
.go:
        cli
        mov dx, COM1
        in al, dx
        mov esi, BYSTANDER_AT
        mov ecx, BYSTANDER_LEN
        call fnv1a
        push eax
        mov esi, msg_by_final
        call puts
        mov eax, [esp]
        call put_hex
        call newline
        pop eax
        cmp eax, [by_hash]
        sete al
        movzx eax, al
        xor eax, 1                      ; 0 when unchanged
        jmp debug_exit

; 8259s remapped to vectors 0x20-0x2F with only IRQ 4 unmasked; the UART interrupts on
; received data (IER bit 0) through OUT2 (MCR bit 3, the PC's IRQ gate).
enable_com1_irq:
        mov al, 0x11                    ; ICW1: edge, cascade, ICW4 follows
        out 0x20, al
        out 0xA0, al
        mov al, 0x20                    ; ICW2: vector bases
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 4                       ; ICW3: slave on IRQ 2
        out 0x21, al
        mov al, 2
        out 0xA1, al
        mov al, 1                       ; ICW4: 8086 mode
        out 0x21, al
        out 0xA1, al
        mov al, 0xEF                    ; OCW1: IRQ 4 only
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        mov dx, COM1 + 1
        mov al, 1
        out dx, al
        mov dx, COM1 + 4
        mov al, 0x0B                    ; DTR, RTS, OUT2
        out dx, al
        ret

; IRQs 0-15: acknowledge and return (the wait loop reads the UART itself)
irq_any:
        push eax
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop eax
        iret

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

; ---- the fixed bad-argument list (values as Xen's common/ and arch/x86/ code answers)

%macro CHECK 10 ; name, op, a1, a2, a3, want, template, length, status offset, status want
%%e:    db %1
        times 40 - ($ - %%e) db 0
        dd %2, %3, %4, %5, %6, %7, %8, %9, %10
%endmacro

align 4
t_self:         dw DOMID_SELF, 0
t_port0:        dd 0
t_port5000:     dd 5000
t_port60:       dd 60
t_bindvcpu_free: dd 60, 0
t_bindvcpu_v9:  dd 60, 9
t_ipi_v9:       dd 9, 0
t_virq24:       dd 24, 0, 0
t_virq_timer_v9: dd 0, 9, 0
t_virq_debug:   dd 1, 0, 0
t_status_dom0:  dw 0, 0
                dd 1, 0, 0, 0, 0
t_status_nodom: dw 0x1234, 0
                dd 1, 0, 0, 0, 0
t_status_bad:   dw DOMID_SELF, 0
                dd 5000, 0, 0, 0, 0
t_unbound_dom0: dw 0, 0
                dd 0
t_unbound_nodom: dw 0x1234, 0
                dd 0
t_unbound_self: dw DOMID_SELF, 0
                dd 0
t_inter_nodom:  dw 0x1234, 0
                dd 1, 0
t_inter_badport: dw 0, 0
                dd 5000, 0
t_init_control: dd 0x1800, 0, 0, 0, 0, 0
; grant_table_op elements (32-bit layouts, xen-abi.md §6.2)
t_swap_bad:     dd 0x7fffffff, 8
                dw 0x5555, 0
t_copy_badref:  dd 0x7fffffff
                dw DOMID_SELF, 0
                dd (RAM_END >> 12) - 1
                dw DOMID_SELF, 0
                dw 16, 1                ; len, GNTCOPY_source_gref
                dw 0x5555, 0
t_copy_foreign: dd 0x100
                dw 0, 0                 ; dom0's frame named by number
                dd (RAM_END >> 12) - 1
                dw DOMID_SELF, 0
                dw 16, 0
                dw 0x5555, 0
t_copy_nodom:   dd 8
                dw 0x1234, 0
                dd (RAM_END >> 12) - 1
                dw DOMID_SELF, 0
                dw 16, 1
                dw 0x5555, 0
t_map_badref:   dd RAM_END - 0x1000, 0  ; host_addr
                dd 2                    ; GNTMAP_host_map
                dd 0x7fffffff           ; ref
                dw 0, 0x5555            ; dom 0, status
                dd 0, 0, 0
t_qsize_dom0:   dw 0, 0
                dd 0, 0
                dw 0x5555, 0
t_qsize_nodom:  dw 0x1234, 0
                dd 0, 0
                dw 0x5555, 0
t_getver_dom0:  dw 0, 0
                dd 0
t_getver_nodom: dw 0x1234, 0
                dd 0
t_setup_many:   dw DOMID_SELF, 0
                dd 65
                dw 0x5555, 0
                dd chkarg + 64
t_setver3:      dd 3
; memory_op (32-bit layouts, xen-abi.md §7)
t_atp_grant64:  dw DOMID_SELF, 0
                dd 1, 64, 0x1FF0
t_atp_granthuge: dw DOMID_SELF, 0
                dd 1, 0x7fffffff, 0x1FF0
t_atp_gstatus:  dw DOMID_SELF, 0
                dd 1, 0x80000000, 0x1FF0
t_atp_shinfo1:  dw DOMID_SELF, 0
                dd 0, 1, 0x1FF1
t_atp_dom0:     dw 0, 0
                dd 0, 0, 0x1FF1
t_atp_nodom:    dw 0x1234, 0
                dd 0, 0, 0x1FF1
t_atp_space9:   dw DOMID_SELF, 0
                dd 9, 0, 0x1FF1
t_rfp_hole:     dw DOMID_SELF, 0
                dd 0x80000
t_dom0:         dw 0, 0
t_nodom:        dw 0x1234, 0
t_decres:       dd chkarg + 32, 2, 0, 0
                dw DOMID_SELF, 0
                dd 0, 0, 0
                dd 0x80000, 0x80001
; vcpu_op, hvm_op, sched_op, xen_version
t_rvi_badgfn:   dd -1, -1, 0, 0         ; gfn ~0: its address does not map back to it
t_rvi_offpage:  dd 0x1FF2, 0, 4096, 0   ; gfn + offset names the next frame
t_rvi_ok:       dd 0x1FF2, 0, 0, 0
t_param_1000:   dw DOMID_SELF, 0
                dd 1000, 0, 0
t_param_nodom:  dw 0x1234, 0
                dd 1, 0, 0
t_param_store:  dw DOMID_SELF, 0
                dd 1, 0x1234, 0
t_poll_many:    dd chkarg + 64, 200, 1, 0
t_features1:    dd 1, 0
; naming another live domain: it exists, so XSM_TARGET refuses (-EPERM) rather than -ESRCH
t_status_foreign: dw FOREIGN, 0
                dd 1, 0, 0, 0, 0
t_unbound_foreign: dw FOREIGN, 0
                dd 0
t_qsize_foreign: dw FOREIGN, 0
                dd 0, 0
                dw 0x5555, 0
t_atp_foreign:  dw FOREIGN, 0
                dd 0, 0, 0x1FF1
t_foreign:      dw FOREIGN, 0
t_param_foreign: dw FOREIGN, 0
                dd 1, 0, 0

align 4
check_table:
        CHECK "unknown_op_63",              63, 0, 0, 0, -38, 0, 0, NO_STATUS, 0
        CHECK "pv_only_op_set_trap_table",  1, 0, 0, 0, -38, 0, 0, NO_STATUS, 0
        ; event channels (common/event_channel.c), from a clean table
        CHECK "evtchn_reset_self",          32, 10, chkarg, 0, 0, t_self, 4, NO_STATUS, 0
        CHECK "evtchn_send_port0",          32, 4, chkarg, 0, -22, t_port0, 4, NO_STATUS, 0
        CHECK "evtchn_send_port5000",       32, 4, chkarg, 0, -22, t_port5000, 4, NO_STATUS, 0
        CHECK "evtchn_close_port5000",      32, 3, chkarg, 0, -22, t_port5000, 4, NO_STATUS, 0
        CHECK "evtchn_unmask_port5000",     32, 9, chkarg, 0, -22, t_port5000, 4, NO_STATUS, 0
        CHECK "evtchn_close_free_port",     32, 3, chkarg, 0, -22, t_port60, 4, NO_STATUS, 0
        CHECK "evtchn_send_free_port",      32, 4, chkarg, 0, -22, t_port60, 4, NO_STATUS, 0
        CHECK "evtchn_bind_vcpu_free_port", 32, 8, chkarg, 0, -22, t_bindvcpu_free, 8, NO_STATUS, 0
        CHECK "evtchn_bind_vcpu_no_vcpu",   32, 8, chkarg, 0, -2, t_bindvcpu_v9, 8, NO_STATUS, 0
        CHECK "evtchn_bind_ipi_no_vcpu",    32, 7, chkarg, 0, -2, t_ipi_v9, 8, NO_STATUS, 0
        CHECK "evtchn_bind_virq_24",        32, 1, chkarg, 0, -22, t_virq24, 12, NO_STATUS, 0
        CHECK "evtchn_bind_virq_timer_v9",  32, 1, chkarg, 0, -2, t_virq_timer_v9, 12, NO_STATUS, 0
        CHECK "evtchn_bind_virq_debug",     32, 1, chkarg, 0, ANY_NONNEG, t_virq_debug, 12, NO_STATUS, 0
        CHECK "evtchn_bind_virq_debug_again", 32, 1, chkarg, 0, -17, 0, 0, NO_STATUS, 0
        CHECK "evtchn_status_dom0",         32, 5, chkarg, 0, -1, t_status_dom0, 24, NO_STATUS, 0
        CHECK "evtchn_status_no_domain",    32, 5, chkarg, 0, -3, t_status_nodom, 24, NO_STATUS, 0
        CHECK "evtchn_status_port5000",     32, 5, chkarg, 0, -22, t_status_bad, 24, NO_STATUS, 0
        CHECK "evtchn_status_mmio_arg",     32, 5, WINDOW + 0x4000, 0, -14, 0, 0, NO_STATUS, 0
        CHECK "evtchn_alloc_unbound_dom0",  32, 6, chkarg, 0, -1, t_unbound_dom0, 8, NO_STATUS, 0
        CHECK "evtchn_alloc_unbound_no_domain", 32, 6, chkarg, 0, -3, t_unbound_nodom, 8, NO_STATUS, 0
        CHECK "evtchn_bind_interdomain_no_domain", 32, 0, chkarg, 0, -3, t_inter_nodom, 12, NO_STATUS, 0
        CHECK "evtchn_bind_interdomain_port5000", 32, 0, chkarg, 0, -22, t_inter_badport, 12, NO_STATUS, 0
        CHECK "evtchn_fifo_not_offered",    32, 11, chkarg, 0, -38, t_init_control, 24, NO_STATUS, 0
        CHECK "evtchn_unknown_cmd",         32, 99, chkarg, 0, -38, t_port0, 4, NO_STATUS, 0
        CHECK "evtchn_alloc_unbound_self",  32, 6, chkarg, 0, ANY_NONNEG, t_unbound_self, 8, NO_STATUS, 0
        CHECK "evtchn_send_unbound",        32, 4, chkarg + 4, 0, 0, 0, 0, NO_STATUS, 0
        CHECK "evtchn_close_unbound",       32, 3, chkarg + 4, 0, 0, 0, 0, NO_STATUS, 0
        CHECK "evtchn_close_closed",        32, 3, chkarg + 4, 0, -22, 0, 0, NO_STATUS, 0
        ; grant tables (common/grant_table.c, HVM filter in arch/x86/hvm/hypercall.c)
        CHECK "gnttab_swap_bad_ref",        20, 11, chkarg, 1, 0, t_swap_bad, 12, 8, -3
        CHECK "gnttab_copy_bad_source_ref", 20, 5, chkarg, 1, 0, t_copy_badref, 24, 20, -3
        CHECK "gnttab_copy_foreign_frame",  20, 5, chkarg, 1, 0, t_copy_foreign, 24, 20, -8
        CHECK "gnttab_copy_no_domain",      20, 5, chkarg, 1, 0, t_copy_nodom, 24, 20, -2
        CHECK "gnttab_map_bad_ref",         20, 0, chkarg, 1, 0, t_map_badref, 32, 18, -3
        CHECK "gnttab_query_size_dom0",     20, 6, chkarg, 1, 0, t_qsize_dom0, 16, 12, -8
        CHECK "gnttab_query_size_no_domain", 20, 6, chkarg, 1, 0, t_qsize_nodom, 16, 12, -2
        CHECK "gnttab_query_size_count2",   20, 6, chkarg, 2, -22, t_qsize_nodom, 16, NO_STATUS, 0
        CHECK "gnttab_get_version_dom0",    20, 10, chkarg, 1, -1, t_getver_dom0, 8, NO_STATUS, 0
        CHECK "gnttab_get_version_no_domain", 20, 10, chkarg, 1, -3, t_getver_nodom, 8, NO_STATUS, 0
        CHECK "gnttab_setup_table_65_frames", 20, 2, chkarg, 1, 0, t_setup_many, 16, 8, -1
        CHECK "gnttab_set_version_3",       20, 8, chkarg, 1, -22, t_setver3, 4, NO_STATUS, 0
        CHECK "gnttab_unknown_cmd",         20, 99, chkarg, 1, -38, t_setver3, 4, NO_STATUS, 0
        ; frames (common/memory.c, arch/x86/mm.c)
        CHECK "memory_grant_frame_64",      12, 7, chkarg, 0, -22, t_atp_grant64, 16, NO_STATUS, 0
        CHECK "memory_grant_frame_huge",    12, 7, chkarg, 0, -22, t_atp_granthuge, 16, NO_STATUS, 0
        CHECK "memory_grant_status_frame_v1", 12, 7, chkarg, 0, -22, t_atp_gstatus, 16, NO_STATUS, 0
        CHECK "memory_shared_info_idx1",    12, 7, chkarg, 0, -22, t_atp_shinfo1, 16, NO_STATUS, 0
        CHECK "memory_add_to_physmap_dom0", 12, 7, chkarg, 0, -1, t_atp_dom0, 16, NO_STATUS, 0
        CHECK "memory_add_to_physmap_no_domain", 12, 7, chkarg, 0, -3, t_atp_nodom, 16, NO_STATUS, 0
        CHECK "memory_add_to_physmap_space9", 12, 7, chkarg, 0, -22, t_atp_space9, 16, NO_STATUS, 0
        CHECK "memory_remove_hole",         12, 15, chkarg, 0, -2, t_rfp_hole, 8, NO_STATUS, 0
        CHECK "memory_current_reservation_dom0", 12, 3, chkarg, 0, -1, t_dom0, 4, NO_STATUS, 0
        CHECK "memory_current_reservation_no_domain", 12, 3, chkarg, 0, -3, t_nodom, 4, NO_STATUS, 0
        CHECK "memory_decrease_beyond_ram", 12, 1, chkarg, 0, 0, t_decres, 40, NO_STATUS, 0
        CHECK "memory_unknown_cmd",         12, 63, chkarg, 0, -38, t_self, 4, NO_STATUS, 0
        ; (Xen's do_vcpu_op refuses these before its "already registered" -EBUSY)
        CHECK "vcpu_register_info_bad_frame", 24, 10, 0, chkarg, -22, t_rvi_badgfn, 16, NO_STATUS, 0
        CHECK "vcpu_register_info_offset_4096", 24, 10, 0, chkarg, -22, t_rvi_offpage, 16, NO_STATUS, 0
        CHECK "vcpu_register_info_no_vcpu", 24, 10, 9, chkarg, -2, t_rvi_ok, 16, NO_STATUS, 0
        CHECK "vcpu_unknown_cmd",           24, 99, 0, chkarg, -38, t_rvi_ok, 16, NO_STATUS, 0
        ; hvm_op (arch/x86/hvm/hvm.c)
        CHECK "hvm_get_param_1000",         34, 1, chkarg, 0, -22, t_param_1000, 16, NO_STATUS, 0
        CHECK "hvm_get_param_no_domain",    34, 1, chkarg, 0, -3, t_param_nodom, 16, NO_STATUS, 0
        CHECK "hvm_set_param_store_pfn",    34, 0, chkarg, 0, -1, t_param_store, 16, NO_STATUS, 0
        CHECK "hvm_unknown_op",             34, 99, chkarg, 0, -38, t_param_store, 16, NO_STATUS, 0
        ; sched_op, xen_version, console_io, physdev_op
        CHECK "sched_poll_200_ports",       29, 3, chkarg, 0, -22, t_poll_many, 16, NO_STATUS, 0
        CHECK "sched_unknown_cmd",          29, 99, chkarg, 0, -38, t_poll_many, 16, NO_STATUS, 0
        CHECK "xen_version_version",        17, 0, 0, 0, ANY_NONNEG, 0, 0, NO_STATUS, 0
        CHECK "xen_version_features_idx1",  17, 6, chkarg, 0, -22, t_features1, 8, NO_STATUS, 0
        CHECK "xen_version_null_arg",       17, 1, 0x10, 0, -14, 0, 0, NO_STATUS, 0
        CHECK "xen_version_readonly_code",  17, 1, 0x100000, 0, -14, 0, 0, NO_STATUS, 0
        CHECK "xen_version_across_ram_end", 17, 1, WINDOW + 0xFF8, 0, -14, 0, 0, NO_STATUS, 0
        CHECK "xen_version_mmio_arg",       17, 1, WINDOW + 0x4000, 0, -14, 0, 0, NO_STATUS, 0
        CHECK "xen_version_unknown_cmd",    17, 99, 0, 0, -38, 0, 0, NO_STATUS, 0
        CHECK "console_io_read",            18, 1, 16, chkarg, -1, 0, 0, NO_STATUS, 0
        ; do_console_io asks XSM before looking at cmd: a domU's unknown cmd is -EPERM
        CHECK "console_io_unknown_cmd",     18, 99, 0, 0, -1, 0, 0, NO_STATUS, 0
        CHECK "physdev_unknown_cmd",        33, 99, chkarg, 0, -38, 0, 0, NO_STATUS, 0
        ; another live domain (foreign=)
        CHECK "evtchn_status_foreign",      32, 5, chkarg, 0, -1, t_status_foreign, 24, NO_STATUS, 0
        CHECK "evtchn_alloc_unbound_foreign", 32, 6, chkarg, 0, -1, t_unbound_foreign, 8, NO_STATUS, 0
        CHECK "gnttab_query_size_foreign",  20, 6, chkarg, 1, 0, t_qsize_foreign, 16, 12, -8
        CHECK "memory_add_to_physmap_foreign", 12, 7, chkarg, 0, -1, t_atp_foreign, 16, NO_STATUS, 0
        CHECK "memory_current_reservation_foreign", 12, 3, chkarg, 0, -1, t_foreign, 4, NO_STATUS, 0
        CHECK "hvm_get_param_foreign",      34, 1, chkarg, 0, -1, t_param_foreign, 16, NO_STATUS, 0
check_table_end:

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
