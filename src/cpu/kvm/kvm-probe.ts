// `node dist/src/cpu/kvm/kvm-probe.js [--device PATH] [--choice auto|kvm|emu]`:
// prints the backend decision; exits 1 with the reason and the fix when the
// choice cannot be honoured (cpu_backend = "kvm" without a usable /dev/kvm).

import { chooseCpuBackend, kvmAvailability, KvmUnavailableError, type CpuBackendChoice } from './availability.js';

function main(argv: string[]): number {
  let devicePath: string | undefined;
  let choice: CpuBackendChoice = 'auto';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--device') devicePath = argv[++i];
    else if (argv[i] === '--choice' && ['auto', 'kvm', 'emu'].includes(argv[i + 1])) choice = argv[++i] as CpuBackendChoice;
    else {
      process.stderr.write(`usage: kvm-probe [--device PATH] [--choice auto|kvm|emu]\n`);
      return 2;
    }
  }
  try {
    const d = chooseCpuBackend(choice, () => kvmAvailability({ devicePath }));
    process.stdout.write(d.message + '\n');
    return 0;
  } catch (e) {
    if (e instanceof KvmUnavailableError) {
      process.stderr.write(`tsxen: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
