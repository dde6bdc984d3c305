/*
 * Host side of tsxen's instruction-level differential tests: runs code snippets
 * on the host CPU (32-bit user mode, CPL 3) and reports the machine state after
 * them, so the TypeScript harness can compare tsxen's software CPU with silicon.
 *
 * Build: gcc -m32 -O1 -no-pie -fno-pie host-runner.c (the harness does it).
 *
 * Memory layout (identical in the emu rig, src/cpu/emu/test-rig.ts):
 *   CODE_ADDR   snippet bytes, followed here by a JMP back to the runner
 *   DATA_ADDR   64-byte data buffer the snippet may read and write
 *   STACK_TOP   initial ESP; the window [STACK_WINDOW, +STACK_WINDOW_LEN) is
 *               zeroed before and captured after each case
 *
 * stdin, per case (little endian):
 *   u32 code_len, u8 code[code_len], u32 regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI;
 *   ESP is ignored: it is always STACK_TOP), u32 eflags, u8 data[64]
 * stdout, per case:
 *   i32 vector (-1 = ran to the end), i32 error code (-1 = none),
 *   u32 regs[8], u32 eip, u32 eflags, u8 data[64], u8 stack[STACK_WINDOW_LEN]
 * On a fault, registers/EIP/EFLAGS are those at the faulting instruction (from
 * the signal context), the vector is the hardware trap number the kernel saw.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include <unistd.h>

#define CODE_ADDR 0x00200000u
#define CODE_LEN 0x4000u
#define DATA_ADDR 0x00210000u
#define DATA_LEN 64u
#define STACK_PAGE 0x00220000u
#define STACK_TOP 0x00220F00u
#define STACK_WINDOW 0x00220E00u
#define STACK_WINDOW_LEN 0x140u
/* Room the runner needs after the snippet: a 5-byte JMP rel32. */
#define TAIL_LEN 5u

/* Shared with the assembly trampoline below (absolute addressing: -no-pie). */
uint32_t tr_in_regs[8];
uint32_t tr_in_eflags;
uint32_t tr_out_regs[8];
uint32_t tr_out_eflags;
uint32_t tr_host_esp;
uint32_t tr_code_addr = CODE_ADDR;

void run_snippet(void);
void snippet_exit(void);

/*
 * run_snippet: save the C callee-saved registers and ESP, load EFLAGS (through
 * the C stack, so the snippet's stack window stays zero), switch to the snippet
 * stack, load the general registers (MOV changes no flag), jump to the code. snippet_exit: store every register, go back to the C stack, then PUSHFD
 * (so the snippet's stack window is untouched), reset EFLAGS (the C ABI needs
 * DF=0; AC=1 would fault on misaligned C accesses) and FNINIT (no x87 state left).
 */
__asm__(
    ".text\n"
    ".globl run_snippet\n"
    "run_snippet:\n"
    "  push %ebp\n"
    "  push %ebx\n"
    "  push %esi\n"
    "  push %edi\n"
    "  mov %esp, tr_host_esp\n"
    "  pushl tr_in_eflags\n"
    "  popfl\n"
    "  mov $0x00220F00, %esp\n"
    "  mov tr_in_regs+0, %eax\n"
    "  mov tr_in_regs+4, %ecx\n"
    "  mov tr_in_regs+8, %edx\n"
    "  mov tr_in_regs+12, %ebx\n"
    "  mov tr_in_regs+20, %ebp\n"
    "  mov tr_in_regs+24, %esi\n"
    "  mov tr_in_regs+28, %edi\n"
    "  jmp *tr_code_addr\n"
    ".globl snippet_exit\n"
    "snippet_exit:\n"
    "  mov %eax, tr_out_regs+0\n"
    "  mov %ecx, tr_out_regs+4\n"
    "  mov %edx, tr_out_regs+8\n"
    "  mov %ebx, tr_out_regs+12\n"
    "  mov %esp, tr_out_regs+16\n"
    "  mov %ebp, tr_out_regs+20\n"
    "  mov %esi, tr_out_regs+24\n"
    "  mov %edi, tr_out_regs+28\n"
    "  mov tr_host_esp, %esp\n"
    "  pushfl\n"
    "  popl tr_out_eflags\n"
    "  pushl $0x202\n"
    "  popfl\n"
    "  fninit\n"
    "  pop %edi\n"
    "  pop %esi\n"
    "  pop %ebx\n"
    "  pop %ebp\n"
    "  ret\n");

static sigjmp_buf fault_jump;
static volatile int32_t fault_vector;
static volatile int32_t fault_error;
static volatile uint32_t fault_eip;

/* Record where and how the snippet faulted, then abandon it. */
static void on_fault(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)info;
  ucontext_t *uc = (ucontext_t *)context;
  greg_t *g = uc->uc_mcontext.gregs;
  fault_vector = (int32_t)g[REG_TRAPNO];
  fault_error = (int32_t)g[REG_ERR];
  fault_eip = (uint32_t)g[REG_EIP];
  tr_out_regs[0] = (uint32_t)g[REG_EAX];
  tr_out_regs[1] = (uint32_t)g[REG_ECX];
  tr_out_regs[2] = (uint32_t)g[REG_EDX];
  tr_out_regs[3] = (uint32_t)g[REG_EBX];
  tr_out_regs[4] = (uint32_t)g[REG_UESP];
  tr_out_regs[5] = (uint32_t)g[REG_EBP];
  tr_out_regs[6] = (uint32_t)g[REG_ESI];
  tr_out_regs[7] = (uint32_t)g[REG_EDI];
  tr_out_eflags = (uint32_t)g[REG_EFL];
  siglongjmp(fault_jump, 1);
}

static void map_fixed(uint32_t addr, uint32_t len, int prot) {
  void *p = mmap((void *)(uintptr_t)addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)(uintptr_t)addr) {
    fprintf(stderr, "host-runner: cannot map 0x%08x+0x%x\n", addr, len);
    exit(2);
  }
}

static int read_exact(void *buf, size_t len) {
  return fread(buf, 1, len, stdin) == len;
}

/* Vectors that push an error code (SDM vol. 3A Table 6-1). */
static int has_error_code(int32_t v) {
  return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

int main(void) {
  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    perror("host-runner: sigaltstack");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  map_fixed(CODE_ADDR, CODE_LEN, PROT_READ | PROT_WRITE | PROT_EXEC);
  map_fixed(DATA_ADDR, 0x1000, PROT_READ | PROT_WRITE);
  map_fixed(STACK_PAGE, 0x1000, PROT_READ | PROT_WRITE);
  uint8_t *code = (uint8_t *)(uintptr_t)CODE_ADDR;
  uint8_t *data = (uint8_t *)(uintptr_t)DATA_ADDR;
  uint8_t *window = (uint8_t *)(uintptr_t)STACK_WINDOW;
  static uint8_t outbuf[2 * 4 + 8 * 4 + 2 * 4 + DATA_LEN + STACK_WINDOW_LEN];

  for (;;) {
    uint32_t len;
    if (!read_exact(&len, 4)) break;
    if (len == 0 || len > CODE_LEN - TAIL_LEN) {
      fprintf(stderr, "host-runner: bad code length %u\n", len);
      return 2;
    }
    memset(code, 0xCC, CODE_LEN);
    if (!read_exact(code, len) || !read_exact(tr_in_regs, 32) || !read_exact(&tr_in_eflags, 4) || !read_exact(data, DATA_LEN)) {
      fprintf(stderr, "host-runner: truncated case\n");
      return 2;
    }
    /* JMP rel32 from the end of the snippet back into the runner. */
    volatile uint32_t tail = CODE_ADDR + len;
    code[len] = 0xE9;
    uint32_t rel = (uint32_t)(uintptr_t)snippet_exit - (tail + 5);
    memcpy(code + len + 1, &rel, 4);
    memset(window, 0, STACK_WINDOW_LEN);
    tr_in_regs[4] = STACK_TOP;

    int32_t vector = -1, error = -1;
    uint32_t eip = tail;
    if (sigsetjmp(fault_jump, 1) == 0) {
      run_snippet();
    } else {
      /* The C ABI needs DF=0 and a clean x87 stack again; the kernel cleared DF. */
      __asm__ volatile("fninit");
      vector = fault_vector;
      error = has_error_code(vector) ? fault_error : -1;
      eip = fault_eip;
    }
    uint8_t *o = outbuf;
    memcpy(o, &vector, 4), o += 4;
    memcpy(o, &error, 4), o += 4;
    memcpy(o, tr_out_regs, 32), o += 32;
    memcpy(o, &eip, 4), o += 4;
    memcpy(o, &tr_out_eflags, 4), o += 4;
    memcpy(o, data, DATA_LEN), o += DATA_LEN;
    memcpy(o, window, STACK_WINDOW_LEN), o += STACK_WINDOW_LEN;
    if (fwrite(outbuf, 1, sizeof outbuf, stdout) != sizeof outbuf) return 2;
  }
  return fflush(stdout) == 0 ? 0 : 2;
}
