// The host tools the differential tests rely on (Debian packages `nasm` and
// `gcc-multilib`), with their outputs cached outside git in
// ${TSXEN_CACHE:-~/.cache/tsxen}/cpu-tests/, keyed by a hash of their input.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cacheDir = join(process.env.TSXEN_CACHE ?? join(homedir(), '.cache', 'tsxen'), 'cpu-tests');

function ensureCacheDir(): void {
  mkdirSync(cacheDir, { recursive: true });
}

function hashOf(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Write atomically so parallel test processes never see half a file. */
function writeCached(path: string, content: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

function requireTool(name: string, pkg: string): void {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (r.error) throw new Error(`${name} not found: the CPU differential tests need it (apt-get install ${pkg})`);
}

/** The source of the host runner, found from the compiled test (dist/test/cpu) or the source tree. */
function runnerSourcePath(): string {
  for (const rel of ['../../../test/cpu/host-runner.c', './host-runner.c']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('test/cpu/host-runner.c not found');
}

/** Path of the compiled host runner, rebuilt when host-runner.c changes. */
export function hostRunnerBinary(): string {
  const source = readFileSync(runnerSourcePath());
  const bin = join(cacheDir, `host-runner-${hashOf(source)}`);
  if (existsSync(bin)) return bin;
  requireTool('gcc', 'gcc-multilib');
  ensureCacheDir();
  const srcCopy = join(cacheDir, `host-runner-${process.pid}.c`);
  writeFileSync(srcCopy, source);
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-m32', '-O1', '-no-pie', '-fno-pie', '-o', tmp, srcCopy], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the host runner failed (needs gcc-multilib):\n${r.stderr}`);
  renameSync(tmp, bin);
  return bin;
}

/**
 * Assemble many snippets (nasm, `bits 32`) in one nasm run. Each snippet may use
 * nasm local labels (`.loop`) but no global ones. Returns the machine code of
 * each snippet, in order.
 */
export async function assembleSnippets(snippets: readonly string[], prelude = ''): Promise<Uint8Array[]> {
  const lines = ['bits 32', prelude];
  snippets.forEach((s, i) => {
    lines.push(`dd snip_end_${i} - snip_beg_${i}`, `snip_beg_${i}:`, s, `snip_end_${i}:`);
  });
  const source = lines.join('\n') + '\n';
  const out = join(cacheDir, `snippets-${hashOf(source)}.bin`);
  let bin: Uint8Array;
  if (existsSync(out)) {
    bin = readFileSync(out);
  } else {
    requireTool('nasm', 'nasm');
    ensureCacheDir();
    const src = join(cacheDir, `snippets-${process.pid}-${hashOf(source)}.asm`);
    writeFileSync(src, source);
    const tmp = `${out}.${process.pid}.tmp`;
    const { code, stderr } = await runProcess('nasm', ['-f', 'bin', '-o', tmp, src], new Uint8Array());
    if (code !== 0) throw new Error(`nasm failed:\n${explainNasmErrors(stderr.toString(), source)}`);
    renameSync(tmp, out);
    bin = readFileSync(out);
  }
  const result: Uint8Array[] = [];
  let off = 0;
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  for (let i = 0; i < snippets.length; i++) {
    const len = view.getUint32(off, true);
    result.push(bin.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  if (off !== bin.length) throw new Error(`assembled snippet stream has ${bin.length - off} stray bytes`);
  return result;
}

/** Quote the offending source lines under nasm's messages. */
function explainNasmErrors(stderr: string, source: string): string {
  const src = source.split('\n');
  return stderr
    .split('\n')
    .slice(0, 20)
    .map((line) => {
      const m = /:(\d+): /.exec(line);
      return m ? `${line}\n    > ${src[Number(m[1]) - 1] ?? ''}` : line;
    })
    .join('\n');
}

export function runProcess(cmd: string, args: string[], input: Uint8Array): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
