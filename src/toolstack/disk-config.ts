// xl.cfg `disk` (xl-disk-configuration(5)): each DISKSPEC is comma-separated
// positional parameters TARGET, FORMAT, VDEV, ACCESS, keyword parameters
// (`format=`, `vdev=`, `access=`, `devtype=`, and `target=` which must come last and
// takes the rest of the string, commas included) and the flag `cdrom`
// (= devtype=cdrom). An empty parameter means its default. The deprecated spellings
// `raw:PATH` (format prefix) and `hdc:cdrom` (devtype suffix) are read too, and so is
// xend's `,hdc:cdrom,r` for an empty drive. tsxen has IDE only: raw images on
// hda-hdd (hda/hdb primary master/slave, hdc/hdd secondary).

import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import type { DiskSpec } from '../hypervisor/domain-spec.js';

export type DiskConfig = DiskSpec;

const IDE_VDEVS = ['hda', 'hdb', 'hdc', 'hdd'] as const;
const KNOWN_FORMATS = ['raw', 'qcow', 'qcow2', 'vhd', 'qed'];
/** A drive's sector: 512 bytes on an ATA disk, 2048 on a CD (MMC); an image is whole sectors. */
const MIN_BYTES = { disk: 512, cdrom: 2048 } as const;

type Fail = (detail: string) => never;

/** One DISKSPEC string; `resolve` makes a path absolute; `fail` throws the key's ConfigError. */
export function parseDiskSpec(text: string, resolvePath: (p: string) => string, fail: Fail): DiskConfig {
  const bad = (detail: string): never => fail(`"${text}": ${detail}`);
  const named = new Map<string, string>();
  const positional: string[] = [];
  let cdromFlag = false;
  const setOnce = (key: string, value: string): void => {
    if (named.has(key)) bad(`${key} is given twice`);
    named.set(key, value);
  };

  let rest = text;
  for (;;) {
    // target= swallows the remainder of the spec, commas and all.
    const lead = rest.replace(/^\s+/, '');
    if (lead.startsWith('target=')) {
      setOnce('target', lead.slice('target='.length));
      break;
    }
    const comma = rest.indexOf(',');
    const part = (comma < 0 ? rest : rest.slice(0, comma)).trim();
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    const eq = part.indexOf('=');
    if (eq > 0) {
      const key = part.slice(0, eq).trim();
      if (!['format', 'vdev', 'access', 'devtype'].includes(key)) bad(`unknown parameter "${key}" (tsxen knows format, vdev, access, devtype, target)`);
      setOnce(key, part.slice(eq + 1).trim());
    } else if (part === 'cdrom') {
      cdromFlag = true;
    } else {
      positional.push(part);
    }
    if (comma < 0) break;
  }
  if (positional.length > 4) bad(`too many positional parameters (TARGET,FORMAT,VDEV,ACCESS), got ${positional.length}`);

  // The deprecated form `[FORMAT:]TARGET,VDEV[:cdrom],ACCESS` has no FORMAT position:
  // seen by a format prefix on the target, or (xend's empty CD `,hdc:cdrom,r`) by a
  // colon in the second parameter.
  const formatPrefix = /^([a-z0-9]+):/.exec(positional[0] ?? '');
  const deprecated = (formatPrefix !== null && KNOWN_FORMATS.includes(formatPrefix[1])) || (positional.length >= 2 && positional[1].includes(':'));
  if (deprecated && positional.length <= 3) positional.splice(1, 0, '');

  const names = ['target', 'format', 'vdev', 'access'];
  positional.forEach((value, i) => {
    if (value === '') return;
    if (named.has(names[i])) bad(`${names[i]} is given twice`);
    named.set(names[i], value);
  });

  let target = named.get('target') ?? '';
  let format = named.get('format') ?? '';
  // Deprecated `raw:PATH`: a known format name as a prefix of the target.
  const prefix = /^([a-z0-9]+):(.+)$/.exec(target);
  if (prefix && KNOWN_FORMATS.includes(prefix[1]) && format === '') {
    format = prefix[1];
    target = prefix[2];
  }
  if (format === '') format = 'raw';
  if (format !== 'raw') bad(`format "${format}" is not supported (only raw)`);

  let vdev = named.get('vdev') ?? '';
  let devtype = named.get('devtype') ?? '';
  // Deprecated `hdc:cdrom`.
  const suffix = /^(.*):cdrom$/.exec(vdev);
  if (suffix) {
    vdev = suffix[1];
    if (devtype !== '' && devtype !== 'cdrom') bad(`vdev says cdrom but devtype is "${devtype}"`);
    devtype = 'cdrom';
  }
  if (cdromFlag) devtype = 'cdrom';
  if (devtype !== '' && devtype !== 'cdrom') bad(`devtype must be "cdrom", got "${devtype}"`);
  if (vdev === '') bad('no vdev (the drive the guest sees, hda-hdd)');
  if (!(IDE_VDEVS as readonly string[]).includes(vdev)) bad(`vdev "${vdev}" is not supported (tsxen has IDE drives hda, hdb, hdc, hdd only)`);
  const isCd = devtype === 'cdrom';

  // xl: access defaults to rw, except a CD which is always read-only.
  const access = named.get('access') ?? '';
  let readOnly: boolean;
  if (access === '') readOnly = isCd;
  else if (access === 'ro' || access === 'r') readOnly = true;
  else if (access === 'rw' || access === 'w') readOnly = false;
  else return bad(`access must be ro, r, rw or w, got "${access}"`);
  if (isCd && !readOnly) bad('a CD-ROM drive is read-only (access=ro)');

  if (target === '') {
    if (!isCd) bad('no target (the image file); only a CD-ROM drive may be empty');
    return { vdev: vdev as DiskSpec['vdev'], devtype: 'cdrom', path: null, readOnly: true, format: 'raw' };
  }
  const path = resolvePath(target);
  checkImage(path, isCd ? 'cdrom' : 'disk', readOnly, bad);
  return { vdev: vdev as DiskSpec['vdev'], devtype: isCd ? 'cdrom' : 'disk', path, readOnly, format: 'raw' };
}

function checkImage(path: string, devtype: 'disk' | 'cdrom', readOnly: boolean, bad: Fail): void {
  let size = 0;
  try {
    const st = statSync(path);
    if (st.isDirectory()) bad(`${path} is a directory, not an image file`);
    if (!st.isFile()) bad(`${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    bad(code === 'ENOENT' ? `cannot open ${path}: no such file` : `cannot open ${path}: ${(e as Error).message}`);
  }
  const min = MIN_BYTES[devtype];
  if (size < min) bad(`${path} is ${size} bytes, too short for a ${devtype === 'cdrom' ? 'CD-ROM' : 'disk'} (at least ${min})`);
  // The drive reads whole sectors: a partial last one would be half a sector of nothing.
  if (size % min !== 0) bad(`${path} is ${size} bytes, not a whole number of ${min}-byte sectors`);
  try {
    accessSync(path, readOnly ? fsConstants.R_OK : fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    bad(readOnly ? `cannot read ${path}` : `${path} is not writable (use access=ro for a read-only disk)`);
  }
}

/** The whole `disk` list: one string or a list of them; each vdev at most once. */
export function parseDiskList(items: Array<{ kind: string; value?: unknown }>, resolvePath: (p: string) => string, fail: Fail): DiskConfig[] {
  const out: DiskConfig[] = [];
  for (const item of items) {
    if (item.kind !== 'string') fail('expected strings like "disk.img,raw,hda,rw"');
    const text = item.value as string;
    const disk = parseDiskSpec(text, resolvePath, fail);
    if (out.some((d) => d.vdev === disk.vdev)) fail(`"${text}": vdev ${disk.vdev} is listed twice`);
    out.push(disk);
  }
  return out;
}
