/*
 * Generates fpu-host-vectors.test.ts: expected x87 results measured on the host
 * CPU (32-bit code, `gcc -m32 -O0 fpu-host-vectors.c && ./a.out > fpu-host-vectors.test.ts`).
 * Each vector is one short x87 sequence whose inputs and outputs are raw bytes,
 * replayed by fpu.test.ts through the emulated FPU. Arithmetic runs with
 * FCW.PC = double (the emulator computes in doubles); results outside double's
 * normal exponent range are skipped because the host keeps extended range.
 */
#include <stdio.h>
#include <string.h>
#include <stdint.h>

typedef struct { unsigned char b[10]; } f80;

static void hexs(const unsigned char *p, int n) {
  for (int i = n - 1; i >= 0; i--) printf("%02x", p[i]);
}

static f80 from_double(double d) {
  f80 r;
  __asm__ volatile("fldl %1; fstpt %0" : "=m"(r) : "m"(d));
  return r;
}
static f80 raw(uint16_t se, uint64_t m) {
  f80 r;
  memcpy(r.b, &m, 8);
  memcpy(r.b + 8, &se, 2);
  return r;
}

/* Register-form operations: ST(0)=a, ST(1)=b before; byte encodings avoid AT&T's fsub/fsubr swap. */
#define REGOP(bytes) do { \
  if (depth == 2) \
    __asm__ volatile("fninit; fldcw %[cw]; fldt %[b]; fldt %[a]; .byte " bytes "; fnstsw %[sw]; fnclex; fldcw %[m]; fstpt %[o1]; fstpt %[o2]; fninit" \
                     : [sw] "=m"(sw), [o1] "=m"(o1), [o2] "=m"(o2) : [cw] "m"(cw), [a] "m"(a), [b] "m"(b), [m] "m"(masked)); \
  else if (depth == 1) \
    __asm__ volatile("fninit; fldcw %[cw]; fldt %[a]; .byte " bytes "; fnstsw %[sw]; fnstenv %[env]; fnclex; fldcw %[m]; fstpt %[o1]; fstpt %[o2]; fninit" \
                     : [sw] "=m"(sw), [env] "=m"(env), [o1] "=m"(o1), [o2] "=m"(o2) : [cw] "m"(cw), [a] "m"(a), [m] "m"(masked)); \
  else \
    __asm__ volatile("fninit; fldcw %[cw]; .byte " bytes "; fnstsw %[sw]; fnstenv %[env]; fnclex; fldcw %[m]; fstpt %[o1]; fstpt %[o2]; fninit" \
                     : [sw] "=m"(sw), [env] "=m"(env), [o1] "=m"(o1), [o2] "=m"(o2) : [cw] "m"(cw), [m] "m"(masked)); \
} while (0)

static const char *regops[] = {
  "fadd", "fsub", "fsubr", "fmul", "fdiv", "fdivr", "faddp", "fsubp", "fsubrp", "fdivp", "fdivrp", "fmulp_dc",
  "fcom", "fucom", "fcompp", "fucompp", "ftst", "fxam", "fsqrt", "frndint", "fchs", "fabs", "fxtract",
  "fscale", "fprem", "fprem1", "fxch", "fsin", "fcos", "fptan", "fpatan", "fyl2x", "fyl2xp1", "f2xm1", "fsincos",
};
#define NREGOPS (int)(sizeof regops / sizeof regops[0])

static int in_double_range(f80 v) {
  int e = (v.b[9] & 0x7f) << 8 | v.b[8];
  return e == 0x7fff || (e == 0 && v.b[7] == 0 && !memcmp(v.b, "\0\0\0\0\0\0\0", 7)) || (e >= 16383 - 1022 && e <= 16383 + 1023);
}

static int depth = 2;

static void regop(int op, uint16_t cw, f80 a, f80 b, int approx, int doubleOnly) {
  uint16_t sw = 0, masked = 0x37f;
  uint16_t env[14] = {0};
  f80 o1, o2;
  switch (op) {
    case 0: REGOP("0xd8,0xc1"); break;
    case 1: REGOP("0xd8,0xe1"); break;
    case 2: REGOP("0xd8,0xe9"); break;
    case 3: REGOP("0xd8,0xc9"); break;
    case 4: REGOP("0xd8,0xf1"); break;
    case 5: REGOP("0xd8,0xf9"); break;
    case 6: REGOP("0xde,0xc1"); break;
    case 7: REGOP("0xde,0xe9"); break;
    case 8: REGOP("0xde,0xe1"); break;
    case 9: REGOP("0xde,0xf9"); break;
    case 10: REGOP("0xde,0xf1"); break;
    case 11: REGOP("0xdc,0xc9"); break;
    case 12: REGOP("0xd8,0xd1"); break;
    case 13: REGOP("0xdd,0xe1"); break;
    case 14: REGOP("0xde,0xd9"); break;
    case 15: REGOP("0xda,0xe9"); break;
    case 16: REGOP("0xd9,0xe4"); break;
    case 17: REGOP("0xd9,0xe5"); break;
    case 18: REGOP("0xd9,0xfa"); break;
    case 19: REGOP("0xd9,0xfc"); break;
    case 20: REGOP("0xd9,0xe0"); break;
    case 21: REGOP("0xd9,0xe1"); break;
    case 22: REGOP("0xd9,0xf4"); break;
    case 23: REGOP("0xd9,0xfd"); break;
    case 24: REGOP("0xd9,0xf8"); break;
    case 25: REGOP("0xd9,0xf5"); break;
    case 26: REGOP("0xd9,0xc9"); break;
    case 27: REGOP("0xd9,0xfe"); break;
    case 28: REGOP("0xd9,0xff"); break;
    case 29: REGOP("0xd9,0xf2"); break;
    case 30: REGOP("0xd9,0xf3"); break;
    case 31: REGOP("0xd9,0xf1"); break;
    case 32: REGOP("0xd9,0xf9"); break;
    case 33: REGOP("0xd9,0xf0"); break;
    case 34: REGOP("0xd9,0xfb"); break;
  }
  if (doubleOnly && (!in_double_range(o1) || !in_double_range(o2))) return;
  (void)approx;
  if (depth != 2) {
    printf("  '%s %d %04x %04x %04x ", regops[op], depth, cw, sw, env[4]);
    hexs(o1.b, 10); putchar(' '); hexs(o2.b, 10); printf("',\n");
    return;
  }
  printf("  '%s %04x ", regops[op], cw);
  hexs(a.b, 10); putchar(' '); hexs(b.b, 10);
  printf(" %04x ", sw); hexs(o1.b, 10); putchar(' '); hexs(o2.b, 10);
  printf("',\n");
}

/* FCOMI family: EFLAGS & (ZF|PF|CF). */
static void comi(int quiet, f80 a, f80 b) {
  uint16_t sw;
  uint32_t fl;
  if (quiet)
    __asm__ volatile("fninit; fldt %[b]; fldt %[a]; fucomi %%st(1), %%st; pushfl; popl %[fl]; fnstsw %[sw]; fninit"
                     : [sw] "=m"(sw), [fl] "=r"(fl) : [a] "m"(a), [b] "m"(b));
  else
    __asm__ volatile("fninit; fldt %[b]; fldt %[a]; fcomi %%st(1), %%st; pushfl; popl %[fl]; fnstsw %[sw]; fninit"
                     : [sw] "=m"(sw), [fl] "=r"(fl) : [a] "m"(a), [b] "m"(b));
  printf("  '%s ", quiet ? "fucomi" : "fcomi");
  hexs(a.b, 10); putchar(' '); hexs(b.b, 10);
  printf(" %04x %03x',\n", sw, fl & 0x8d5);
}

/* Load kinds: m80, m64, m32, i16, i32, i64, bcd; store kinds: m80, m64, m32, i16, i32, i64, bcd. */
static const char *kinds[] = { "m80", "m64", "m32", "i16", "i32", "i64", "bcd" };
static const int ksize[] = { 10, 8, 4, 2, 4, 8, 10 };

#define LOAD(insn) __asm__ volatile("fninit; fldcw %[cw]; " insn " %[in]; fnstsw %[sw]; fnclex; fstpt %[out]; fninit" \
                                    : [sw] "=m"(sw), [out] "=m"(out) : [cw] "m"(cw), [in] "m"(*(f80 *)in))
#define STORE(insn) __asm__ volatile("fninit; fldcw %[cw]; fldt %[in]; " insn " %[out]; fnstsw %[sw]; fnclex; fninit" \
                                     : [sw] "=m"(sw), [out] "=m"(*(f80 *)out) : [cw] "m"(cw), [in] "m"(*(f80 *)in))

static void conv(int load, int store, uint16_t cw, const unsigned char *inp) {
  unsigned char in[16] = {0}, out[16];
  uint16_t sw;
  memcpy(in, inp, ksize[load]);
  memset(out, 0xaa, sizeof out);
  if (load == 0) {
    switch (store) {
      case 0: STORE("fstpt"); break;
      case 1: STORE("fstpl"); break;
      case 2: STORE("fstps"); break;
      case 3: STORE("fistps"); break;
      case 4: STORE("fistpl"); break;
      case 5: STORE("fistpll"); break;
      case 6: STORE("fbstp"); break;
    }
  } else {
    switch (load) {
      case 1: LOAD("fldl"); break;
      case 2: LOAD("flds"); break;
      case 3: LOAD("filds"); break;
      case 4: LOAD("fildl"); break;
      case 5: LOAD("fildll"); break;
      case 6: LOAD("fbld"); break;
    }
  }
  printf("  '%s %s %04x ", kinds[load], kinds[store], cw);
  hexs(in, ksize[load]); putchar(' ');
  hexs(out, ksize[store]);
  printf(" %04x',\n", sw);
}


/* Memory-form arithmetic: ST(0)=a, operand bytes b of the given kind. */
#define MEMOP(insn) __asm__ volatile("fninit; fldcw %[cw]; fldt %[a]; " insn " %[b]; fnstsw %[sw]; fnclex; fldcw %[m]; fstpt %[o1]; fninit" \
                                     : [sw] "=m"(sw), [o1] "=m"(o1) : [cw] "m"(cw), [a] "m"(a), [b] "m"(*(f80 *)b), [m] "m"(masked))
static const char *memops[] = { "fadds", "faddl", "fiadds", "fiaddl", "fsubl", "fsubrl", "fmull", "fdivl", "fdivrl", "fdivs",
                                "fcoml", "fcomps", "ficoml", "fidivrs", "fisubl", "fimull" };
static const int memkind[] = { 2, 1, 3, 4, 1, 1, 1, 1, 1, 2, 1, 2, 4, 3, 4, 4 };
#define NMEMOPS (int)(sizeof memops / sizeof memops[0])

static void memop(int op, uint16_t cw, f80 a, const unsigned char *bin) {
  uint16_t sw = 0, masked = 0x37f;
  unsigned char b[16] = {0};
  f80 o1;
  memcpy(b, bin, ksize[memkind[op]]);
  switch (op) {
    case 0: MEMOP("fadds"); break;
    case 1: MEMOP("faddl"); break;
    case 2: MEMOP("fiadds"); break;
    case 3: MEMOP("fiaddl"); break;
    case 4: MEMOP("fsubl"); break;
    case 5: MEMOP("fsubrl"); break;
    case 6: MEMOP("fmull"); break;
    case 7: MEMOP("fdivl"); break;
    case 8: MEMOP("fdivrl"); break;
    case 9: MEMOP("fdivs"); break;
    case 10: MEMOP("fcoml"); break;
    case 11: MEMOP("fcomps"); break;
    case 12: MEMOP("ficoml"); break;
    case 13: MEMOP("fidivrs"); break;
    case 14: MEMOP("fisubl"); break;
    case 15: MEMOP("fimull"); break;
  }
  if (!in_double_range(o1)) return;
  printf("  '%s %04x ", memops[op], cw);
  hexs(a.b, 10); putchar(' '); hexs(b, ksize[memkind[op]]);
  printf(" %04x ", sw); hexs(o1.b, 10); printf("',\n");
}

/* State images after a fixed sequence; pointer fields are masked by the test. */
static void images(void) {
  unsigned char env[28], env16[14], sav[108], sav16[94], fxraw[512 + 16];
  unsigned char *fx = (unsigned char *)(((uintptr_t)fxraw + 15) & ~(uintptr_t)15);
  f80 snan = raw(0x7fff, 0xa000000000000001ull), unnormal = raw(0x3fff, 0x4000000000000000ull);
  double minus = -1.0;
  memset(fx, 0xaa, 512);
  /* Zero all eight physical registers first: FNINIT keeps their contents, and empty ones are saved too. */
  __asm__ volatile("fninit; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fninit");
  __asm__ volatile("fninit; fld1; fldz; fldpi; fldt %[s]; fldt %[u]; fldl %[m]; fsqrt; fnstenv %[e]; fldcw %[e]; "
                   ".byte 0x66; fnstenv %[e16]; fldcw %[e]; fxsave %[fx]; fnsave %[sv]; frstor %[sv]; .byte 0x66; fnsave %[sv16]; fninit"
                   : [e] "=m"(env), [e16] "=m"(env16), [sv] "+m"(sav), [sv16] "=m"(sav16), [fx] "=m"(*(unsigned char(*)[512])fx)
                   : [s] "m"(snan), [u] "m"(unnormal), [m] "m"(minus));
  printf("export const IMAGE_ENV32 = '"); for (int i = 0; i < 28; i++) printf("%02x", env[i]); printf("';\n");
  printf("export const IMAGE_ENV16 = '"); for (int i = 0; i < 14; i++) printf("%02x", env16[i]); printf("';\n");
  printf("export const IMAGE_SAVE32 = '"); for (int i = 0; i < 108; i++) printf("%02x", sav[i]); printf("';\n");
  printf("export const IMAGE_SAVE16 = '"); for (int i = 0; i < 94; i++) printf("%02x", sav16[i]); printf("';\n");
  printf("export const IMAGE_FXSAVE = '"); for (int i = 0; i < 160; i++) printf("%02x", fx[i]); printf("';\n");
}

/* Extended precision (FCW.PC = 11): op on two m64 values, result stored to m64 and compared with a third. */
#define EXTOP(insn) __asm__ volatile("fninit; fldcw %[cw]; fldl %[a]; " insn " %[b]; fcoml %[c]; fstl %[o]; fnstsw %[sw]; fnclex; fninit" \
                                     : [sw] "=m"(sw), [o] "=m"(o) : [cw] "m"(cw), [a] "m"(a), [b] "m"(b), [c] "m"(c))
static const char *extops[] = { "faddl", "fsubl", "fmull", "fdivl" };

static void extop(int op, uint16_t cw, double a, double b) {
  uint16_t sw;
  double o, c;
  /* c = the double-precision result, so FCOM shows whether the extended one differs */
  switch (op) { case 0: c = a + b; break; case 1: c = a - b; break; case 2: c = a * b; break; default: c = a / b; }
  switch (op) {
    case 0: EXTOP("faddl"); break;
    case 1: EXTOP("fsubl"); break;
    case 2: EXTOP("fmull"); break;
    case 3: EXTOP("fdivl"); break;
  }
  printf("  '%s %04x ", extops[op], cw);
  hexs((unsigned char *)&a, 8); putchar(' '); hexs((unsigned char *)&b, 8); putchar(' '); hexs((unsigned char *)&c, 8);
  printf(" %04x ", sw); hexs((unsigned char *)&o, 8); printf("',\n");
}

static int exp_of(f80 v) { return ((v.b[9] & 0x7f) << 8 | v.b[8]); }

int main(void) {
  double ds[] = { 0.0, -0.0, 1.0, -1.0, 1.5, 3.0, 0.1, 1.0 / 3.0, -2.5, 7.0, 1e300, -1e300, 1e-300, 4.9e-324,
                  1.7976931348623157e308, 1.0 / 0.0, -1.0 / 0.0, 123456789.0, 0.5, 2.5, 3.5, -0.5, -1.5, 1e10,
                  3.141592653589793, 2.0, 1024.0, -3.0 };
  int nd = sizeof ds / sizeof ds[0];
  f80 specials[] = {
    raw(0x7fff, 0xc000000000000000ull), /* QNaN */
    raw(0xffff, 0xc000000000000000ull), /* indefinite */
    raw(0x7fff, 0xa000000000000001ull), /* SNaN */
    raw(0x7fff, 0xe123456789abcdefull), /* QNaN with payload */
    raw(0x3fff, 0x4000000000000000ull), /* unnormal */
    raw(0x7fff, 0x4000000000000000ull), /* pseudo-NaN */
    raw(0x7fff, 0x0000000000000000ull), /* pseudo-infinity */
    raw(0x0000, 0x0000000000000001ull), /* denormal */
    raw(0x8000, 0x8000000000000000ull), /* pseudo-denormal */
    raw(0x4000, 0xc90fdaa22168c235ull), /* pi, full precision */
    raw(0x403e, 0xffffffffffffffffull), /* 2^64-1 */
    raw(0x403d, 0xfffffffffffffffeull), /* 2^63-2 (fits i64) */
    raw(0x7ffe, 0x8000000000000000ull), /* huge, beyond double */
    raw(0x0001, 0x8000000000000000ull), /* tiny normal, beyond double */
    raw(0x3c00, 0x8000000000000400ull), /* double tie: rounds to even */
    raw(0x3c00, 0x8000000000000c00ull), /* double tie: rounds up */
    raw(0x3c00, 0x8000000000000401ull), /* above the tie */
    raw(0x3fff, 0x8000008000000000ull), /* float32 tie */
    raw(0x4034, 0xc000000000000000ull), /* 3·2^52 */
    raw(0x403c, 0xde0b6b3a763ffff0ull), /* just below 10^18 */
  };
  int ns = sizeof specials / sizeof specials[0];
  f80 vals[64];
  int nv = 0;
  for (int i = 0; i < nd; i++) vals[nv++] = from_double(ds[i]);
  int firstSpecial = nv;
  for (int i = 0; i < ns; i++) vals[nv++] = specials[i];

  printf("// Generated by fpu-host-vectors.c on the project's host (AMD EPYC, 32-bit x87). Do not edit.\n");
  printf("/* eslint-disable */\n");
  printf("/** 'op cw a b sw st0 st1' (hex; 80-bit values as sign/exponent then significand). */\n");
  printf("/** COMI_VECTORS: 'insn a b sw eflags&0x8d5'; CONV_VECTORS: 'load store cw in out sw' (little-endian operands shown big-endian). */\n");

  /* Index sets into vals[]: arithmetic (doubles + NaN-like specials), small, compare. */
  /* Index sets into vals[] (ds[] positions): arithmetic, small (rounding modes, popping forms), compare. */
  int arith[] = { 0, 1, 2, 3, 4, 6, 7, 10, 12, 13, 14, 15, 16, 19, 24, 27,
                  firstSpecial + 0, firstSpecial + 2, firstSpecial + 3, firstSpecial + 4 };
  int na = sizeof arith / sizeof arith[0];
  int small[] = { 0, 2, 3, 6, 7, 19, 16 }, nsm = 7;
  int cmp[40], nc = 0;
  int cmpd[] = { 0, 1, 2, 3, 6, 15, 16, 13 };
  for (unsigned i = 0; i < sizeof cmpd / sizeof cmpd[0]; i++) cmp[nc++] = cmpd[i];
  for (int i = 0; i < ns; i++) cmp[nc++] = firstSpecial + i;
  printf("export const REG_VECTORS: string[] = [\n");
  for (int op = 0; op < NREGOPS; op++) {
    int transcendental = op >= 27 || op == 30 || op == 31 || op == 32;
    int binary = op <= 11 || op == 23 || op == 24 || op == 25 || op == 30 || op == 31 || op == 32;
    int compare = op >= 12 && op <= 15;
    int doubleOnly = op <= 11 || op == 18 || op == 19 || transcendental || op == 23 || op == 24 || op == 25;
    const int *ia = doubleOnly ? arith : cmp, *ib = ia;
    int nia = doubleOnly ? na : nc, nib = nia;
    if ((op >= 6 && op <= 11) || op == 30 || op == 31 || op == 32) { ia = ib = small; nia = nib = nsm; }
    if (!binary && !compare) { ib = small + 1; nib = 1; }
    if (op == 14 || op == 15) { ia = ib = small; nia = nib = nsm; } /* ST(1) = 1.0 */
    if (!doubleOnly && !compare) { static int all[64]; for (int i = 0; i < nv; i++) all[i] = i; ia = all; nia = nv; }
    for (int x = 0; x < nia; x++)
      for (int y = 0; y < nib; y++) {
        if (compare && op <= 13 && x % 2 && y % 2) continue;
        int rcs = (op <= 5 || op == 18 || op == 19) ? 4 : 1;
        for (int rc = 0; rc < rcs; rc++) {
          if (rc > 0 && op <= 5) {
            int sx = 0, sy = 0;
            for (int k = 0; k < nsm; k++) { sx |= small[k] == ia[x]; sy |= small[k] == ib[y]; }
            if (!sx || !sy) continue;
          }
          regop(op, 0x27f | (rc << 10), vals[ia[x]], vals[ib[y]], transcendental, doubleOnly);
        }
      }
  }
  printf("];\n");

  printf("export const COMI_VECTORS: string[] = [\n");
  for (int q = 0; q < 2; q++)
    for (int x = 0; x < nc; x++)
      for (int y = 0; y < nc; y++)
        if (x % 2 == 0 || y % 2 == 0) comi(q, vals[cmp[x]], vals[cmp[y]]);
  printf("];\n");

  printf("export const CONV_VECTORS: string[] = [\n");
  for (int store = 0; store < 7; store++)
    for (int i = 0; i < nv; i++)
      for (int rc = 0; rc < 4; rc++) conv(0, store, 0x37f | (rc << 10), vals[i].b);
  {
    uint64_t m64[] = { 0x7ff0000000000001ull, 0xfff8000000000000ull, 0x7ff4000000000000ull, 0x0000000000000001ull,
                       0x800fffffffffffffull, 0x3ff0000000000000ull, 0x7ff0000000000000ull, 0x8000000000000000ull };
    uint32_t m32[] = { 0x7f800001u, 0xffc00000u, 0x7fa00000u, 0x00000001u, 0x807fffffu, 0x3f800000u, 0xff800000u, 0x80000000u };
    uint16_t i16[] = { 0, 1, 0xffff, 0x8000, 0x7fff, 12345 };
    uint32_t i32[] = { 0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu, 123456789 };
    uint64_t i64[] = { 0, 1, 0xffffffffffffffffull, 0x8000000000000000ull, 0x7fffffffffffffffull, 0x0020000000000001ull,
                       0xfffffffffffffff1ull, 0x123456789abcdef0ull };
    unsigned char bcd[][10] = {
      { 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00 },
      { 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 },
      { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 },
      { 0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0 },
    };
    for (unsigned i = 0; i < sizeof m64 / 8; i++) conv(1, 0, 0x37f, (unsigned char *)&m64[i]);
    for (unsigned i = 0; i < sizeof m32 / 4; i++) conv(2, 0, 0x37f, (unsigned char *)&m32[i]);
    for (unsigned i = 0; i < sizeof i16 / 2; i++) conv(3, 0, 0x37f, (unsigned char *)&i16[i]);
    for (unsigned i = 0; i < sizeof i32 / 4; i++) conv(4, 0, 0x37f, (unsigned char *)&i32[i]);
    for (unsigned i = 0; i < sizeof i64 / 8; i++) conv(5, 0, 0x37f, (unsigned char *)&i64[i]);
    for (unsigned i = 0; i < sizeof bcd / 10; i++) conv(6, 0, 0x37f, bcd[i]);
  }
  printf("];\n");
  printf("/** MEM_VECTORS: 'insn cw a operand sw st0' (operand little-endian shown big-endian). */\n");
  printf("export const MEM_VECTORS: string[] = [\n");
  {
    uint64_t m64[] = { 0x3ff8000000000000ull, 0x7ff4000000000000ull, 0x0000000000000001ull, 0x0000000000000000ull,
                       0xfff0000000000000ull, 0x3fb999999999999aull };
    uint32_t m32[] = { 0x3fc00000u, 0x7fa00000u, 0x00000001u, 0x80000000u, 0x7f800000u, 0x3dcccccdu };
    uint32_t i32[] = { 3, 0xffffffffu, 0, 0x80000000u, 123456789, 7 };
    uint16_t i16[] = { 3, 0xffff, 0, 0x8000, 1234, 7 };
    int ai[] = { 0, 2, 4, 6, 15, 13, 27 };
    for (int op = 0; op < NMEMOPS; op++)
      for (unsigned x = 0; x < sizeof ai / sizeof ai[0]; x++)
        for (int y = 0; y < 6; y++) {
          const unsigned char *b = memkind[op] == 1 ? (unsigned char *)&m64[y] : memkind[op] == 2 ? (unsigned char *)&m32[y]
                                 : memkind[op] == 3 ? (unsigned char *)&i16[y] : (unsigned char *)&i32[y];
          memop(op, 0x27f, vals[ai[x]], b);
        }
  }
  printf("];\n");
  printf("/** EXT_VECTORS: 'insn cw a b c sw result' at FCW.PC = extended: a op b, FCOM with c (the double result), FST m64. */\n");
  printf("export const EXT_VECTORS: string[] = [\n");
  {
    double ev[] = { 0.1, 0.2, 0.3, 1.0 / 3.0, 3.0, 7.0, -2.5, 1e300, 1e-300, 1152921504606846976.0, 123456.789, -0.001, 1e-320, 1.7976931348623157e308 };
    int ne = sizeof ev / sizeof ev[0];
    for (int op = 0; op < 4; op++)
      for (int i = 0; i < ne; i++)
        for (int j = 0; j < ne; j++)
          for (int rc = 0; rc < 4; rc++) extop(op, 0x37f | (rc << 10), ev[i], ev[j]);
  }
  printf("];\n");
  printf("/** UNMASKED_VECTORS: REG_VECTORS format with one exception unmasked (IE ZE DE OE UE PE in turn). */\n");
  printf("export const UNMASKED_VECTORS: string[] = [\n");
  {
    int um[] = { 0, 2, 3, 4, 6, 7, 10, 12, 13, 14, 15, 16, firstSpecial + 0, firstSpecial + 2, firstSpecial + 7 };
    int nu = sizeof um / sizeof um[0];
    uint16_t cws[] = { 0x27e, 0x27b, 0x27d, 0x277, 0x26f, 0x25f };
    int ops[] = { 0, 1, 3, 4, 6, 12, 18 };
    for (unsigned c = 0; c < 6; c++)
      for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (int x = 0; x < nu; x++)
          for (int y = 0; y < nu; y++) {
            if (ops[o] == 18 && y != 1) continue;
            regop(ops[o], cws[c], vals[um[x]], vals[um[y]], 0, 1);
          }
  }
  printf("];\n");
  printf("/** UNDER_VECTORS: 'op depth cw sw tag st0 st1' with only `depth` (0 or 1) values loaded (ST(0) = 1.5), IE masked or not. */\n");
  printf("export const UNDER_VECTORS: string[] = [\n");
  for (depth = 0; depth < 2; depth++)
    for (int op = 0; op < NREGOPS; op++)
      for (int m = 0; m < 2; m++) regop(op, m ? 0x37e : 0x37f, from_double(1.5), from_double(1.0), 0, 0);
  depth = 2;
  printf("];\n");
  images();
  (void)exp_of;
  return 0;
}
