// The validated domain configuration: what the user asked for, resolved and checked
// (Firecracker's vmm_config idea). xl.cfg settings come in, a DomainConfig or ONE
// ConfigError naming file, line, key and value comes out. Nothing here starts a domain.

import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CfgSyntaxError } from './xl-cfg-lexer.js';
import { OVERRIDE_FILE, type CfgSetting, type CfgSettings, type CfgValue } from './xl-cfg-parser.js';
import { parseBzImage } from '../firmware/linux-boot/bzimage.js';
import { LinuxBootError } from '../firmware/linux-boot/linux-boot-error.js';
import { parsePvhKernel } from '../firmware/pvh/pvh-kernel.js';
import { PvhError } from '../firmware/pvh/pvh-error.js';
import { parseDiskList, type DiskConfig } from './disk-config.js';
import { kernelKind } from './kernel-kind.js';
import { CPUID_FLAGS } from '../hypervisor/cpuid-policy.js';
import {
  checkBiosOverride, checkVideoram, DEFAULT_VIDEORAM_MIB, parseBootOrder, parseFirmwareKey, parseVga, seabiosFile,
  SEABIOS_DIR, STDVGA_BIOS_FILE, SYSTEM_BIOS_FILE, type FirmwareConfig,
} from './firmware-config.js';

export type { DiskConfig } from './disk-config.js';
export type { FirmwareConfig } from './firmware-config.js';

/** What happens when the guest powers off, reboots or crashes (xl.cfg on_*). */
export type LifecycleAction = 'destroy' | 'restart' | 'preserve';

export type SerialConfig = { kind: 'pty' } | { kind: 'file'; path: string } | { kind: 'stdio' } | { kind: 'none' };

/** COM1..COM4: the UARTs a guest can have (domain.ts wires them at 0x3F8, 0x2F8, 0x3E8, 0x2E8). */
export const MAX_SERIAL_PORTS = 4;
/** I/O base of COMn+1, for the debugcon overlap check (the PC's standard assignments). */
export const COM_BASES: readonly number[] = [0x3f8, 0x2f8, 0x3e8, 0x2e8];

export type DebugconOutput = { kind: 'file'; path: string } | { kind: 'stdio' } | { kind: 'log' };

export interface DebugconConfig {
  port: number;
  output: DebugconOutput;
}

/** A Multiboot module: the file and the string the kernel sees (the whole entry, path first, as GRUB passes it). */
export interface ModuleConfig {
  path: string;
  cmdline: string;
}

/** QEMU's isa-debug-exit: a write of V to the port ends tsxen with status (V << 1) | 1. */
export interface DebugExitConfig {
  iobase: number;
  size: number;
}

export interface DomainConfig {
  /** hvm: a PC (firmware, bzImage or Multiboot kernel); pvh: an ELF kernel entered through Xen's PVH ABI. */
  type: 'hvm' | 'pvh';
  name: string;
  memoryMiB: number;
  maxmemMiB: number;
  vcpus: number;
  /** How the guest starts: kernel= a bzImage, kernel= a Multiboot kernel, no kernel (SeaBIOS), or type="pvh" with an ELF kernel. */
  boot: 'linux' | 'multiboot' | 'firmware' | 'pvh';
  /** Absolute paths (relative ones in the file are relative to the file's directory). Absent for firmware boot. */
  kernel?: string;
  ramdisk?: string;
  cmdline: string;
  /** Multiboot modules (tsxen's `modules`), in order. */
  modules: ModuleConfig[];
  /** Firmware boot only. */
  firmware?: FirmwareConfig;
  /** IDE drives (xl `disk`). */
  disks: DiskConfig[];
  /** Emulated graphics card: default "stdvga" for firmware boot, "none" for a kernel. */
  vga: 'stdvga' | 'none';
  videoramMiB: number;
  debugExit?: DebugExitConfig;
  /**
   * One device per UART, COM1 first (xl.cfg `serial`, a string or a list). Trailing
   * "none" entries are dropped, so `serials.length` is the number of UARTs the guest
   * gets; a "none" before another device stays (its UART exists, output discarded) so
   * later ports keep their addresses.
   */
  serials: SerialConfig[];
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  debugcon: DebugconConfig[];
  /** xl xen_platform_pci (default 1). */
  xenPlatformPci: boolean;
  /** tsxen xen_interface: the Xen interface for a direct-boot guest (undefined = the default). */
  xenInterface?: boolean;
  cpuBackend: 'auto' | 'kvm' | 'emu';
  /** xl cpuid (libxl string format): the flags set to 0 after "host". */
  cpuidHidden: string[];
}

/** One bad setting: `file:line: key: what is wrong`. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly key: string,
    readonly detail: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${key}: ${detail}` : `${file}: ${key}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export interface ValidateOptions {
  /** Display name of the config file, for messages. */
  file: string;
  /** Directory that relative paths are relative to. */
  baseDir: string;
  /** Host RAM in MiB (os.totalmem()); tests pass their own. */
  hostMemoryMiB: number;
  /** Called once per setting tsxen does not know (not fatal). */
  warn: (message: string) => void;
  /** Where bios-256k.bin and vgabios-stdvga.bin are (default /usr/share/seabios; tests pass their own). */
  seabiosDir?: string;
}

/** Guests below this do not boot a useful Linux; xl's own floor is lower, ours is practical. */
export const MIN_MEMORY_MIB = 32;
/** Guest RAM must end below the PCI/firmware MMIO hole at 0xF0000000 (3840 MiB). */
export const MAX_MEMORY_MIB = 3840;
/** RAM the host keeps for itself and for tsxen's own heap. */
export const HOST_MEMORY_MARGIN_MIB = 512;

const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'preserve'] as const;
// xl.cfg(5) actions that tsxen parses but cannot do yet.
const UNSUPPORTED_ACTIONS = ['coredump-destroy', 'coredump-restart', 'rename-restart', 'soft-reset'];

const DEBUGCON_DEFAULT_PORT = 0xe9;

// Keys xl knows that tsxen reads. Anything else draws a warning.
const KNOWN_KEYS = new Set([
  'type', 'builder', 'name', 'memory', 'maxmem', 'vcpus', 'kernel', 'ramdisk', 'cmdline', 'extra', 'root',
  'serial', 'on_poweroff', 'on_reboot', 'on_crash', 'debugcon', 'cpu_backend', 'cpuid',
  'disk', 'boot', 'bios_path_override', 'vga', 'videoram', 'acpi', 'apic', 'firmware', 'isa_debug_exit', 'modules', 'xen_interface', 'xen_platform_pci',
]);

/** QEMU's isa-debug-exit as test kernels use it (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`). */
const DEBUG_EXIT_DEFAULT = { iobase: 0xf4, size: 4 };

export function validateDomainConfig(settings: CfgSettings, opts: ValidateOptions): DomainConfig {
  const where = (s: CfgSetting): string => s.file;
  const err = (s: CfgSetting, detail: string): never => {
    throw new ConfigError(where(s), s.line, s.key, detail);
  };
  const missing = (key: string, detail: string): never => {
    throw new ConfigError(opts.file, 0, key, detail);
  };
  for (const s of settings.values()) {
    if (!KNOWN_KEYS.has(s.key)) opts.warn(`${where(s)}:${s.line}: warning: unknown key "${s.key}" ignored`);
  }
  const get = (key: string): CfgSetting | undefined => settings.get(key);
  const str = (s: CfgSetting): string => (s.value.kind === 'string' ? s.value.value : err(s, `expected a string, got ${show(s.value)}`));
  // xl reads numbers from quoted strings too (xlu_cfg_get_long uses strtol on the atom).
  const num = (s: CfgSetting): number => {
    const v = s.value;
    if (v.kind === 'number') return v.value;
    if (v.kind === 'string') {
      const n = /^\s*(0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\s*$/.test(v.value) ? Number(v.value.trim().replace(/^0([0-7]+)$/, '0o$1')) : NaN;
      if (Number.isSafeInteger(n)) return n;
    }
    return err(s, `expected a number, got ${show(v)}`);
  };
  const path = (s: CfgSetting): string => {
    const p = str(s);
    if (p === '') err(s, 'empty path');
    return resolvePath(s, p, opts.baseDir);
  };

  // type / builder
  let type = 'hvm';
  const builder = get('builder');
  if (builder) {
    const b = str(builder);
    if (b !== 'hvm') err(builder, `"${b}" is not supported (only the legacy "hvm"; use type = "hvm")`);
  }
  const typeSetting = get('type');
  if (typeSetting) {
    type = str(typeSetting);
    if (type === 'pv') err(typeSetting, '"pv" is not supported: tsxen runs HVM guests only');
    if (type !== 'hvm' && type !== 'pvh') err(typeSetting, `expected "hvm" or "pvh", got "${type}"`);
  }

  const nameSetting = get('name') ?? missing('name', 'a domain name must be specified (name = "...")');
  const name = str(nameSetting);
  // xl refuses names it cannot use as xenstore keys / file names; so do we.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) err(nameSetting, `"${name}" is not a valid domain name (letters, digits, "_", "." and "-", at most 64)`);

  // memory
  const memSetting = get('memory');
  const memoryMiB = memSetting ? num(memSetting) : 128;
  const hostLimit = opts.hostMemoryMiB - HOST_MEMORY_MARGIN_MIB;
  if (memSetting) {
    if (memoryMiB < MIN_MEMORY_MIB) err(memSetting, `${memoryMiB} MiB is too little (at least ${MIN_MEMORY_MIB} MiB)`);
    if (memoryMiB > MAX_MEMORY_MIB) err(memSetting, `${memoryMiB} MiB is more than fits below the MMIO hole (at most ${MAX_MEMORY_MIB} MiB)`);
    if (memoryMiB > hostLimit)
      err(memSetting, `${memoryMiB} MiB is more than this host can give (at most ${hostLimit} MiB: ${opts.hostMemoryMiB} MiB total minus ${HOST_MEMORY_MARGIN_MIB} MiB kept for the host)`);
  } else if (memoryMiB > hostLimit) {
    missing('memory', `the default ${memoryMiB} MiB is more than this host can give (at most ${hostLimit} MiB)`);
  }
  const maxmemSetting = get('maxmem');
  let maxmemMiB = memoryMiB;
  if (maxmemSetting) {
    maxmemMiB = num(maxmemSetting);
    if (maxmemMiB < memoryMiB) err(maxmemSetting, `${maxmemMiB} MiB is less than memory (${memoryMiB} MiB)`);
    if (maxmemMiB > memoryMiB) {
      opts.warn(`${where(maxmemSetting)}:${maxmemSetting.line}: warning: maxmem: ballooning is not supported; the guest gets memory = ${memoryMiB} MiB`);
      maxmemMiB = memoryMiB;
    }
  }

  const vcpuSetting = get('vcpus');
  const vcpus = vcpuSetting ? num(vcpuSetting) : 1;
  if (vcpuSetting && vcpus < 1) err(vcpuSetting, `expected at least 1, got ${vcpus}`);
  if (vcpuSetting && vcpus > 1) err(vcpuSetting, `${vcpus} vCPUs are not yet supported (only 1)`);

  // kernel: a bzImage, a Multiboot kernel, or none (firmware boot).
  const kernelSetting = get('kernel');
  let kernel: string | undefined;
  let boot: DomainConfig['boot'] = 'firmware';
  if (type === 'pvh' && !kernelSetting) {
    err(typeSetting!, 'a PVH guest boots an ELF kernel: kernel = "vmlinux" is missing (PVH has no firmware)');
  }
  if (kernelSetting) {
    kernel = path(kernelSetting);
    const kernelBytes = readGuestFile(kernelSetting, kernel, err);
    boot = type === 'pvh' ? 'pvh' : kernelKind(kernelBytes);
    if (boot === 'pvh') {
      // Xen's PVH ABI (docs/misc/pvh.pandoc): an ELF with the PHYS32_ENTRY note; a bzImage is named as such.
      try {
        parsePvhKernel(kernelBytes, kernel);
      } catch (e) {
        if (!(e instanceof PvhError)) throw e;
        err(kernelSetting, e.message);
      }
    } else if (boot === 'linux') {
      try {
        parseBzImage(kernelBytes, kernel);
      } catch (e) {
        if (!(e instanceof LinuxBootError)) throw e;
        err(kernelSetting, e.message);
      }
    }
  }
  const ramdiskSetting = get('ramdisk');
  let ramdisk: string | undefined;
  if (ramdiskSetting) {
    if (boot !== 'linux' && boot !== 'pvh') err(ramdiskSetting, boot === 'multiboot' ? 'a Multiboot kernel takes modules = [ ... ], not a ramdisk' : 'a ramdisk needs a kernel (kernel = "vmlinuz")');
    ramdisk = path(ramdiskSetting);
    checkReadable(ramdiskSetting, ramdisk, err);
  }
  const modulesSetting = get('modules');
  const modules: ModuleConfig[] = [];
  if (modulesSetting) {
    if (boot !== 'multiboot') err(modulesSetting, 'modules are for a Multiboot kernel (kernel= is not one)');
    const items = modulesSetting.value.kind === 'list' ? modulesSetting.value.items : [modulesSetting.value];
    for (const item of items) {
      if (item.kind !== 'string' || item.value.trim() === '') err(modulesSetting, `expected strings like "PATH ARGS...", got ${show(item)}`);
      const text = (item as { value: string }).value.trim();
      const file = text.split(/\s+/)[0];
      const p = resolvePath(modulesSetting, file, opts.baseDir);
      checkReadable(modulesSetting, p, err);
      modules.push({ path: p, cmdline: text });
    }
  }

  // cmdline; xl's rule: cmdline wins over root/extra, otherwise "root=R EXTRA".
  const cmdlineSetting = get('cmdline');
  const root = get('root');
  const extra = get('extra');
  let cmdline: string;
  if (cmdlineSetting) {
    cmdline = str(cmdlineSetting);
    if (root || extra) opts.warn(`${where(cmdlineSetting)}:${cmdlineSetting.line}: warning: ignoring root= and extra= in favour of cmdline=`);
  } else {
    const parts: string[] = [];
    if (root) parts.push(`root=${str(root)}`);
    if (extra) parts.push(str(extra));
    cmdline = parts.join(' ');
  }

  const serialSetting = get('serial');
  const serials = serialSetting ? parseSerial(serialSetting, opts, err) : [{ kind: 'pty' } as SerialConfig];

  const action = (key: 'on_poweroff' | 'on_reboot' | 'on_crash', dflt: LifecycleAction): LifecycleAction => {
    const s = get(key);
    if (!s) return dflt;
    const a = str(s);
    if ((LIFECYCLE_ACTIONS as readonly string[]).includes(a)) return a as LifecycleAction;
    if (UNSUPPORTED_ACTIONS.includes(a)) err(s, `"${a}" is not supported (use destroy, restart or preserve)`);
    return err(s, `expected destroy, restart or preserve, got "${a}"`);
  };
  // xl.cfg(5) defaults: poweroff → destroy, reboot → restart, crash → destroy.
  const onPoweroff = action('on_poweroff', 'destroy');
  const onReboot = action('on_reboot', 'restart');
  const onCrash = action('on_crash', 'destroy');

  const debugconSetting = get('debugcon');
  const debugcon = debugconSetting ? parseDebugcon(debugconSetting, serials.length, opts, err) : [];

  const backendSetting = get('cpu_backend');
  let cpuBackend: 'auto' | 'kvm' | 'emu' = 'auto';
  if (backendSetting) {
    const b = str(backendSetting);
    if (b !== 'auto' && b !== 'emu' && b !== 'kvm') err(backendSetting, `expected "auto", "emu" or "kvm", got "${b}"`);
    cpuBackend = b as 'auto' | 'kvm' | 'emu';
  }
  const cpuidSetting = get('cpuid');
  const cpuidHidden = cpuidSetting ? parseCpuid(str(cpuidSetting), (detail) => err(cpuidSetting, detail)) : [];

  // Drives, graphics and firmware (xl.cfg(5), xl-disk-configuration(5)).
  const diskSetting = get('disk');
  if (type === 'pvh' && diskSetting) err(diskSetting, 'a PVH guest has no emulated IDE controller (PV block devices come later; use type = "hvm")');
  const disks = diskSetting
    ? parseDiskList(diskSetting.value.kind === 'list' ? diskSetting.value.items : [diskSetting.value], (p) => resolvePath(diskSetting, p, opts.baseDir), (d) => err(diskSetting, d))
    : [];
  const vgaSetting = get('vga');
  const vga = vgaSetting ? parseVga(str(vgaSetting), (d) => err(vgaSetting, d)) : boot === 'firmware' ? 'stdvga' : 'none';
  const videoramSetting = get('videoram');
  const videoramMiB = videoramSetting ? checkVideoram(num(videoramSetting), (d) => err(videoramSetting, d)) : DEFAULT_VIDEORAM_MIB;
  const flag = (key: 'acpi' | 'apic' | 'xen_platform_pci'): boolean => {
    const s = get(key);
    if (!s) return true;
    const n = num(s);
    if (n !== 0 && n !== 1) err(s, `expected 0 or 1, got ${n}`);
    return n === 1;
  };
  const acpi = flag('acpi');
  // PVH (like Xen's): no firmware and no emulated PCI devices, so no platform PCI device;
  // the UARTs stay, as tsxen's debugging aid (console=ttyS0), and PV devices come through xenstore.
  const platformSetting = get('xen_platform_pci');
  if (type === 'pvh' && platformSetting && num(platformSetting) !== 0) err(platformSetting, 'a PVH guest has no PCI bus (remove it or set 0)');
  const xenPlatformPci = type === 'pvh' ? false : flag('xen_platform_pci');
  if (type === 'pvh' && vga === 'stdvga') err(vgaSetting!, 'a PVH guest has no emulated graphics card (use "none")');
  // tsxen extension: present the Xen interface (CPUID leaves, hypercalls) to a direct-boot
  // guest too; firmware boot always has it (SeaBIOS's Xen path), as every Xen HVM guest.
  const xenSetting = get('xen_interface');
  let xenInterface: boolean | undefined;
  if (xenSetting) {
    const n = num(xenSetting);
    if (n !== 0 && n !== 1) err(xenSetting, `expected 0 or 1, got ${n}`);
    xenInterface = n === 1;
    if (type === 'pvh' && !xenInterface) err(xenSetting, 'a PVH guest needs the Xen interface (its memory map, hypercalls and event channels come from it)');
  }
  // PVH implies the Xen interface (pvh.pandoc: hypercall page and params as for HVM guests).
  if (type === 'pvh') xenInterface = true;
  const apic = flag('apic');
  const bootSetting = get('boot');
  const bootOrder = bootSetting ? parseBootOrder(str(bootSetting), (d) => err(bootSetting, d)) : 'cd';
  const firmwareSetting = get('firmware');
  if (firmwareSetting) parseFirmwareKey(str(firmwareSetting), (d) => err(firmwareSetting, d));
  const overrideSetting = get('bios_path_override');
  let firmware: FirmwareConfig | undefined;
  if (boot === 'firmware') {
    const dir = opts.seabiosDir ?? SEABIOS_DIR;
    let bios: string;
    if (overrideSetting) {
      bios = path(overrideSetting);
      checkBiosOverride(bios, (d) => err(overrideSetting, d));
    } else {
      bios = seabiosFile(dir, SYSTEM_BIOS_FILE, (d) => missing('firmware', d));
    }
    const vgaBios = vga === 'stdvga' ? seabiosFile(dir, STDVGA_BIOS_FILE, (d) => missing('vga', d)) : null;
    firmware = { bios, override: overrideSetting !== undefined, vgaBios, bootOrder, acpi, apic };
  } else if (overrideSetting) {
    err(overrideSetting, 'is for firmware boot only (remove kernel= to boot the BIOS)');
  }

  const exitSetting = get('isa_debug_exit');
  const debugExit = exitSetting ? parseDebugExit(str(exitSetting), serials.length, debugcon, (d) => err(exitSetting, d)) : undefined;

  return {
    type: type as DomainConfig['type'], name, memoryMiB, maxmemMiB, vcpus, boot, ...(kernel !== undefined ? { kernel } : {}), ...(ramdisk !== undefined ? { ramdisk } : {}), cmdline, modules,
    ...(firmware ? { firmware } : {}), disks, vga, videoramMiB, ...(debugExit ? { debugExit } : {}),
    serials, onPoweroff, onReboot, onCrash, debugcon, cpuBackend, cpuidHidden, xenPlatformPci, ...(xenInterface !== undefined ? { xenInterface } : {}),
  };
}

/**
 * tsxen extension `isa_debug_exit = "iobase=0xf4,iosize=0x04"` (QEMU's device
 * properties); an empty string takes those values. The port range must not overlap
 * a COM port or a debugcon port.
 */
function parseDebugExit(text: string, uarts: number, debugcon: DebugconConfig[], fail: (d: string) => never): DebugExitConfig {
  let { iobase, size } = DEBUG_EXIT_DEFAULT;
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(iobase|iosize)=(0x[0-9a-fA-F]+|[0-9]+)$/.exec(part);
    if (!m) fail(`"${text}": unknown part "${part}" (expected iobase=N, iosize=N)`);
    const n = Number(m![2]);
    if (m![1] === 'iobase') iobase = n;
    else size = n;
  }
  if (![1, 2, 4].includes(size)) fail(`"${text}": iosize must be 1, 2 or 4, got ${size}`);
  if (iobase + size > 0x10000) fail(`"${text}": iobase must be 0..0x${(0x10000 - size).toString(16)}, got ${hexPort(iobase)}`);
  const overlaps = (base: number, len: number): boolean => iobase < base + len && base < iobase + size;
  const com = COM_BASES.slice(0, uarts).findIndex((base) => overlaps(base, 8));
  if (com >= 0) fail(`"${text}": ports ${hexPort(iobase)}-${hexPort(iobase + size - 1)} overlap COM${com + 1}`);
  const dc = debugcon.find((d) => overlaps(d.port, 1));
  if (dc) fail(`"${text}": ports ${hexPort(iobase)}-${hexPort(iobase + size - 1)} overlap debugcon port ${hexPort(dc.port)}`);
  return { iobase, size };
}

/**
 * xl.cfg(5) `serial`: one device per UART, COM1 first; a string is a one-entry list.
 * Each is "pty", "file:PATH" (relative to the config's directory), "stdio" or "none".
 * Trailing "none" entries are dropped (no UART); an empty list is no serial at all.
 */
function parseSerial(s: CfgSetting, opts: ValidateOptions, err: (s: CfgSetting, d: string) => never): SerialConfig[] {
  const isList = s.value.kind === 'list';
  const entries = s.value.kind === 'list' ? s.value.items : [s.value];
  if (entries.length > MAX_SERIAL_PORTS) err(s, `more than ${MAX_SERIAL_PORTS} serial devices (COM1-COM${MAX_SERIAL_PORTS}), got ${entries.length}`);
  const out: SerialConfig[] = [];
  entries.forEach((entry, i) => {
    // A single string keeps the message it always had; list entries name their port.
    const com = isList ? `COM${i + 1}: ` : '';
    if (entry.kind !== 'string') err(s, `${com}expected a string, got ${show(entry)}`);
    const text = (entry as { value: string }).value;
    let device: SerialConfig;
    if (text === 'pty' || text === 'stdio' || text === 'none') device = { kind: text };
    else if (text.startsWith('file:') && text.length > 5) device = { kind: 'file', path: resolvePath(s, text.slice(5), opts.baseDir) };
    else return err(s, `${com}expected "pty", "file:PATH", "stdio" or "none", got "${text}"`);
    // Two ports on one stdout or one file would interleave bytes beyond repair (QEMU
    // refuses a second stdio chardev for the same reason).
    const twin = out.findIndex((d) => d.kind === device.kind && (d.kind === 'stdio' || (d.kind === 'file' && device.kind === 'file' && d.path === device.path)));
    if (twin >= 0) err(s, `${com}"${text}" is already COM${twin + 1}'s`);
    out.push(device);
  });
  while (out.length > 0 && out[out.length - 1].kind === 'none') out.pop();
  return out;
}

/**
 * tsxen extension: `debugcon = [ "port=0xe9,file=PATH", "port=0x402,stdio" ]`. Each
 * entry is comma-separated `port=N` (default 0xe9) and at most one output: `file=PATH`
 * (relative to the config's directory), `stdio` (the tsxen process's stdout) or `log`
 * (lines in the domain log, the default). A single string is a one-entry list.
 */
function parseDebugcon(s: CfgSetting, uarts: number, opts: ValidateOptions, err: (s: CfgSetting, d: string) => never): DebugconConfig[] {
  const entries = s.value.kind === 'list' ? s.value.items : [s.value];
  const out: DebugconConfig[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'string') err(s, `expected strings like "port=0xe9,file=PATH", got ${show(entry)}`);
    const text = (entry as { value: string }).value;
    let port = DEBUGCON_DEFAULT_PORT;
    let output: DebugconOutput | undefined;
    for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const eq = part.indexOf('=');
      const k = eq < 0 ? part : part.slice(0, eq);
      const v = eq < 0 ? '' : part.slice(eq + 1);
      if (k === 'port' && eq > 0) {
        port = /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v) ? Number(v) : NaN;
        if (!(port >= 0 && port <= 0xffff)) err(s, `"${text}": port must be 0..0xffff, got "${v}"`);
      } else if ((k === 'file' && eq > 0 && v !== '') || (eq < 0 && (k === 'stdio' || k === 'log'))) {
        if (output) err(s, `"${text}": more than one output`);
        output = k === 'file' ? { kind: 'file', path: resolvePath(s, v, opts.baseDir) } : { kind: k as 'stdio' | 'log' };
      } else {
        err(s, `"${text}": unknown part "${part}" (expected port=N, file=PATH, stdio or log)`);
      }
    }
    // Each UART decodes 8 ports from its base (16550A registers 0-7).
    const com = COM_BASES.slice(0, uarts).findIndex((base) => port >= base && port < base + 8);
    if (com >= 0) err(s, `"${text}": port ${hexPort(port)} is COM${com + 1}'s`);
    if (out.some((d) => d.port === port)) err(s, `"${text}": port ${hexPort(port)} is listed twice`);
    out.push({ port, output: output ?? { kind: 'log' } });
  }
  return out;
}

/** Paths in a file are relative to its directory; on the command line, to the current one. */
function resolvePath(s: CfgSetting, p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(s.file === OVERRIDE_FILE ? process.cwd() : baseDir, p);
}

const hexPort = (p: number): string => '0x' + p.toString(16);

function show(v: CfgValue): string {
  if (v.kind === 'string') return JSON.stringify(v.value);
  if (v.kind === 'number') return v.text;
  return `a list of ${v.items.length}`;
}

function checkReadable(s: CfgSetting, p: string, err: (s: CfgSetting, d: string) => never): void {
  let isFile = false;
  try {
    isFile = statSync(p).isFile();
    accessSync(p, fsConstants.R_OK);
  } catch (e) {
    err(s, `cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!isFile) err(s, `${p} is not a regular file`);
}

function readGuestFile(s: CfgSetting, p: string, err: (s: CfgSetting, d: string) => never): Uint8Array {
  checkReadable(s, p, err);
  try {
    return readFileSync(p);
  } catch (e) {
    return err(s, `cannot read ${p}: ${(e as Error).message}`);
  }
}

/** Turns a CfgSyntaxError or ConfigError into the one-line message the CLI prints. */
export function isConfigProblem(e: unknown): e is ConfigError | CfgSyntaxError {
  return e instanceof ConfigError || e instanceof CfgSyntaxError;
}

/**
 * xl.cfg(5) cpuid, libxl string format: "host" then ",<flag>=<value>" items. tsxen's CPU
 * shows a fixed set (cpuid-policy.ts), so a flag can only be hidden ("=0"); "=1" or a
 * flag tsxen does not know is an error naming it.
 */
export function parseCpuid(text: string, fail: (detail: string) => never): string[] {
  const [head, ...items] = text.split(',').map((x) => x.trim());
  if (head !== 'host') fail(`expected the libxl format "host,<flag>=0,...", got "${text}" (the xend list format is not supported)`);
  const hidden: string[] = [];
  for (const item of items) {
    const m = /^([a-z0-9_]+)=([01xk])$/.exec(item);
    if (!m) fail(`"${item}" is not <flag>=0`);
    const [, name, value] = m!;
    if (!(name in CPUID_FLAGS)) fail(`unknown CPUID flag "${name}" (known: ${Object.keys(CPUID_FLAGS).join(', ')})`);
    if (value !== '0') fail(`${name}=${value}: tsxen can only hide a flag (=0); its CPU shows a fixed set`);
    if (!hidden.includes(name)) hidden.push(name);
  }
  return hidden;
}
