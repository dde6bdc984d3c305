; tsxen's Multiboot v1 test kernel (nasm, ELF32, linked at 1 MiB by kernel.ld).
;
; Checks the loader's hand-off (Multiboot 0.6.96 §3.2: EAX = 0x2BADB002, EBX =
; info), prints its command line and its first module's command line on COM1,
; sums the first module's bytes (mod_start .. mod_end-1) and prints the sum, then
; ends the machine through isa-debug-exit at port 0xF4 with value (sum & 0x7F):
; exit status ((sum & 0x7F) << 1) | 1. Anything wrong writes 0 (status 1).
;
; Serial output, each line ending in "\n":
;   cmdline=<kernel command line>
;   module=<module 0 command line>
;   sum=<8 hex digits>

bits 32

MB_MAGIC      equ 0x1BADB002
MB_FLAGS      equ 0x00000003          ; bit 0 page-align modules, bit 1 memory info
BOOT_MAGIC    equ 0x2BADB002
COM1          equ 0x3F8
DEBUG_EXIT    equ 0xF4

; info structure (§3.3)
MBI_FLAGS     equ 0
MBI_CMDLINE   equ 16
MBI_MODS_CNT  equ 20
MBI_MODS_ADDR equ 24
INFO_CMDLINE  equ 1 << 2
INFO_MODS     equ 1 << 3

section .multiboot
align 4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)

section .text
global _start
_start:
        mov esp, stack_top
        cmp eax, BOOT_MAGIC
        jne fail
        mov ebp, ebx                    ; keep the info pointer

        ; COM1: 8N1, divisor 1 (the emulated UART does not care, real ones do)
        mov dx, COM1 + 3
        mov al, 0x80
        out dx, al
        mov dx, COM1
        mov al, 1
        out dx, al
        mov dx, COM1 + 1
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 0x03
        out dx, al

        test dword [ebp + MBI_FLAGS], INFO_CMDLINE
        jz fail
        mov esi, msg_cmdline
        call puts
        mov esi, [ebp + MBI_CMDLINE]
        call puts
        call newline

        test dword [ebp + MBI_FLAGS], INFO_MODS
        jz fail
        cmp dword [ebp + MBI_MODS_CNT], 1
        jb fail
        mov edi, [ebp + MBI_MODS_ADDR]
        mov esi, msg_module
        call puts
        mov esi, [edi + 8]
        call puts
        call newline

        ; sum of the module's bytes
        mov ecx, [edi]
        mov edx, [edi + 4]
        xor eax, eax
.sum:   cmp ecx, edx
        jae .summed
        movzx ebx, byte [ecx]
        add eax, ebx
        inc ecx
        jmp .sum
.summed:
        mov [checksum], eax
        mov esi, msg_sum
        call puts
        mov eax, [checksum]
        call puthex
        call newline

        mov eax, [checksum]
        and eax, 0x7F
        jmp exit

fail:
        xor eax, eax
exit:
        out DEBUG_EXIT, eax
        cli
.halt:  hlt
        jmp .halt

; putc: AL -> COM1, after THR empty (LSR bit 5)
putc:
        push edx
        push eax
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop eax
        mov dx, COM1
        out dx, al
        pop edx
        ret

; puts: NUL-terminated string at ESI -> COM1
puts:
        push eax
.next:  lodsb
        test al, al
        jz .done
        call putc
        jmp .next
.done:  pop eax
        ret

newline:
        push eax
        mov al, 10
        call putc
        pop eax
        ret

; puthex: EAX as 8 lower-case hex digits
puthex:
        push ecx
        push ebx
        mov ebx, eax
        mov ecx, 8
.digit: rol ebx, 4
        mov eax, ebx
        and eax, 0xF
        mov al, [hexdigits + eax]
        call putc
        loop .digit
        pop ebx
        pop ecx
        ret

section .rodata
msg_cmdline: db "cmdline=", 0
msg_module:  db "module=", 0
msg_sum:     db "sum=", 0
hexdigits:   db "0123456789abcdef"

section .bss
align 16
checksum:  resd 1
stack:     resb 4096
stack_top:
