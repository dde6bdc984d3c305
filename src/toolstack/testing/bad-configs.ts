// Bad xl.cfg inputs and the one message each must give, shared by the validation
// tests and the CLI tests. The file is written as guest.cfg in a directory made by
// makeGuestDir (<dir>), and loaded with 2048 MiB of host memory where it matters.

/** Each bad input and the one message it must give (the file is written as guest.cfg). */
export const BAD_CONFIGS: Array<[name: string, cfg: string, message: string]> = [
  ['memory not a number', 'name="b"\nkernel="vmlinuz"\nmemory = "lots"\n', 'guest.cfg:3: memory: expected a number, got "lots"'],
  ['memory too small', 'name="b"\nkernel="vmlinuz"\nmemory = 16\n', 'guest.cfg:3: memory: 16 MiB is too little (at least 32 MiB)'],
  ['memory above the MMIO hole', 'name="b"\nkernel="vmlinuz"\nmemory = 4096\n', 'guest.cfg:3: memory: 4096 MiB is more than fits below the MMIO hole (at most 3840 MiB)'],
  ['memory above the host', 'name="b"\nkernel="vmlinuz"\nmemory = 3000\n', 'guest.cfg:3: memory: 3000 MiB is more than this host can give (at most 1536 MiB: 2048 MiB total minus 512 MiB kept for the host)'],
  ['maxmem below memory', 'name="b"\nkernel="vmlinuz"\nmemory=64\nmaxmem=32\n', 'guest.cfg:4: maxmem: 32 MiB is less than memory (64 MiB)'],
  ['vcpus > 1', 'name="b"\nkernel="vmlinuz"\nvcpus = 4\n', 'guest.cfg:3: vcpus: 4 vCPUs are not yet supported (only 1)'],
  ['vcpus 0', 'name="b"\nkernel="vmlinuz"\nvcpus = 0\n', 'guest.cfg:3: vcpus: expected at least 1, got 0'],
  ['missing kernel file', 'name="b"\nkernel = "nope/vmlinuz"\n', 'guest.cfg:2: kernel: cannot read <dir>/nope/vmlinuz: no such file'],
  ['kernel is a directory', 'name="b"\nkernel = "."\n', 'guest.cfg:2: kernel: <dir> is not a regular file'],
  ['kernel not a bzImage', 'name="b"\nkernel = "not-a-kernel"\n', 'guest.cfg:2: kernel: <dir>/not-a-kernel: not a Linux bzImage (boot_flag at 0x1FE is 0x0000, expected 0xaa55)'],
  ['missing ramdisk', 'name="b"\nkernel="vmlinuz"\nramdisk = "/nonexistent/initrd"\n', 'guest.cfg:3: ramdisk: cannot read /nonexistent/initrd: no such file'],
  ['no name', 'kernel="vmlinuz"\n', 'guest.cfg: name: a domain name must be specified (name = "...")'],
  ['bad name', 'name="a b"\nkernel="vmlinuz"\n', 'guest.cfg:1: name: "a b" is not a valid domain name (letters, digits, "_", "." and "-", at most 64)'],
  ['type pv', 'type = "pv"\nname="b"\nkernel="vmlinuz"\n', 'guest.cfg:1: type: "pv" is not supported: tsxen runs HVM guests only'],
  ['type pvh with a bzImage', 'type = "pvh"\nname="b"\nkernel="vmlinuz"\n', 'guest.cfg:3: kernel: <dir>/vmlinuz is a bzImage, which has no PVH entry point: PVH boots the uncompressed ELF vmlinux (extract it from the bzImage\'s payload, e.g. with Linux\'s scripts/extract-vmlinux, and give that as kernel=)'],
  ['type number', 'type = 1\nname="b"\nkernel="vmlinuz"\n', 'guest.cfg:1: type: expected a string, got 1'],
  ['builder', 'builder = "linux"\nname="b"\nkernel="vmlinuz"\n', 'guest.cfg:1: builder: "linux" is not supported (only the legacy "hvm"; use type = "hvm")'],
  ['serial', 'name="b"\nkernel="vmlinuz"\nserial = "tcp:1234"\n', 'guest.cfg:3: serial: expected "pty", "file:PATH", "stdio" or "none", got "tcp:1234"'],
  ['on_crash coredump', 'name="b"\nkernel="vmlinuz"\non_crash = "coredump-destroy"\n', 'guest.cfg:3: on_crash: "coredump-destroy" is not supported (use destroy, restart or preserve)'],
  ['on_reboot typo', 'name="b"\nkernel="vmlinuz"\non_reboot = "reboot"\n', 'guest.cfg:3: on_reboot: expected destroy, restart or preserve, got "reboot"'],
  ['cpu_backend bad', 'name="b"\nkernel="vmlinuz"\ncpu_backend = "vmx"\n', 'guest.cfg:3: cpu_backend: expected "auto", "emu" or "kvm", got "vmx"'],
  ['cpuid xend format', 'name="b"\nkernel="vmlinuz"\ncpuid = "0x1:edx=xxxxxxxx"\n', 'guest.cfg:3: cpuid: expected the libxl format "host,<flag>=0,...", got "0x1:edx=xxxxxxxx" (the xend list format is not supported)'],
  ['cpuid unknown flag', 'name="b"\nkernel="vmlinuz"\ncpuid = "host,avx512f=0"\n', 'guest.cfg:3: cpuid: unknown CPUID flag "avx512f" (known: fpu, pse, tsc, msr, pae, cx8, apic, sysenter, pge, cmov, pat, clfsh, mmx, fxsr, sse, sse2, lahfsahf, syscall, nx, lm)'],
  ['cpuid add a flag', 'name="b"\nkernel="vmlinuz"\ncpuid = "host,lm=1"\n', 'guest.cfg:3: cpuid: lm=1: tsxen can only hide a flag (=0); its CPU shows a fixed set'],
  ['cpuid not name=value', 'name="b"\nkernel="vmlinuz"\ncpuid = "host,sse"\n', 'guest.cfg:3: cpuid: "sse" is not <flag>=0'],
  ['xen_interface bad', 'name="b"\nkernel="vmlinuz"\nxen_interface = 2\n', 'guest.cfg:3: xen_interface: expected 0 or 1, got 2'],
  ['xen_platform_pci bad', 'name="b"\nkernel="vmlinuz"\nxen_platform_pci = "yes"\n', 'guest.cfg:3: xen_platform_pci: expected a number, got "yes"'],
  ['debugcon on COM1', 'name="b"\nkernel="vmlinuz"\ndebugcon = [ "port=0x3f8" ]\n', 'guest.cfg:3: debugcon: "port=0x3f8": port 0x3f8 is COM1\'s'],
  ['debugcon twice', 'name="b"\nkernel="vmlinuz"\ndebugcon = [ "log", "port=233" ]\n', 'guest.cfg:3: debugcon: "port=233": port 0xe9 is listed twice'],
  ['debugcon junk', 'name="b"\nkernel="vmlinuz"\ndebugcon = [ "speed=9600" ]\n', 'guest.cfg:3: debugcon: "speed=9600": unknown part "speed=9600" (expected port=N, file=PATH, stdio or log)'],
  ['debugcon port range', 'name="b"\nkernel="vmlinuz"\ndebugcon = "port=0x10000"\n', 'guest.cfg:3: debugcon: "port=0x10000": port must be 0..0xffff, got "0x10000"'],
  ['syntax', 'name="b"\nkernel="vmlinuz"\nmemory 512\n', 'guest.cfg:3: memory: expected "=" or "+=", got 512'],
];
