// The pure layers (ARCHITECTURE.md "Source layout") never reach Node.js or the Node
// adapters: they must run in any JavaScript engine. The compiler already refuses Node
// types there (tsconfig.pure.json); this test also catches imports of Node built-ins
// by bare name and imports of the Node-only folders.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PURE = ['src/abi', 'src/hypervisor', 'src/cpu/emu', 'src/devices', 'src/firmware'];
const NODE_ONLY = ['src/cli', 'src/toolstack', 'src/host', 'src/console', 'src/cpu/kvm', 'src/pv'];

function sources(dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(abs, e);
    if (statSync(p).isDirectory()) out.push(...sources(relative(root, p)));
    else if (e.endsWith('.ts') && !e.endsWith('.test.ts') && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const builtins = new Set(builtinModules);
const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

test('pure layers import neither Node built-ins nor Node-only folders', () => {
  const problems: string[] = [];
  const files = PURE.flatMap(sources);
  assert.ok(files.length > 10, `expected pure sources, found ${files.length}`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const rel = relative(root, file);
      if (spec.startsWith('node:') || builtins.has(spec.split('/')[0])) problems.push(`${rel}: imports ${spec}`);
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec));
        if (NODE_ONLY.some((d) => target === d || target.startsWith(d + '/'))) problems.push(`${rel}: imports Node-only ${target}`);
      }
    }
    if (/\bprocess\.(env|argv|exit|stdout|stderr)\b|\bBuffer\.from\b|\brequire\(/.test(text)) problems.push(`${relative(root, file)}: uses a Node global`);
  }
  assert.deepEqual(problems, []);
});
