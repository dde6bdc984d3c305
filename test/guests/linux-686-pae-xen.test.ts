// Debian's unmodified 686-pae kernel as a Xen PV-on-HVM guest (issue 5): with the
// Xen interface presented (CPUID leaves, hypercall page, hypercalls), Linux finds
// Xen by itself, places shared_info, registers its vcpu_info, takes the 2-level
// event-channel ABI and reports /sys/hypervisor/type = xen — exactly as on Xen.
// With XENFEAT_hvm_callback_vector it takes event upcalls on vector 0xF3, injected
// straight into the vCPU. Xen's PV time (XENFEAT_hvm_safe_pvclock) is advertised
// too, but Linux 6.1 starts its Xen clocksource and clockevent from
// x86_init.timers.setup_percpu_clockev, which native_smp_prepare_cpus skips in PIC
// mode (no LAPIC and no MADT/MP table: direct boot here). The second test boots the
// same kernel through the firmware (hvmloader's ACPI tables, LAPIC + IOAPIC), as
// every Xen HVM guest has them, and checks the Xen clocksource there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GuestSession } from '../../src/toolstack/harness.js';
import { guestsMissing, guestDir, startGuest, BOOT_TIMEOUT_MS, fact } from './guest-cache.js';

const missing = guestsMissing();

test('686-pae detects Xen HVM and boots as a paravirtualized kernel on it', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 60_000 }, async () => {
  const g = await startGuest('default-pae.cfg', 'test-686-pae-xen', 'console=ttyS0 nokaslr cryptomgr.notests guest.test=dmesg,time guest.shell', ['xen_interface = 1', 'on_poweroff="destroy"', 'on_crash="destroy"']);
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 120_000 });
    const out = g.output;
    assert.equal(fact(out, 'hypervisor'), 'xen', '/sys/hypervisor/type');
    // /sys/hypervisor/version/{major,minor,extra}: what xen_version advertises (4.17.0).
    assert.equal(fact(out, 'hypervisor.version'), '4.17.0');
    assert.match(fact(out, 'cpu.flags'), /\bhypervisor\b/);
    assert.match(out, /Hypervisor detected: Xen HVM/);
    assert.match(out, /Xen version 4\.17\./);
    assert.match(out, /Booting paravirtualized kernel on Xen HVM/);
    assert.match(out, /xen:events: Using 2-level ABI/);
    assert.match(out, /TEST dmesg PASS/);
    // Event upcalls on the vector callback (no LAPIC here: injected directly, never EOId).
    assert.match(out, /Xen HVM callback vector for event delivery is enabled/);
    assert.match(out, /TEST time PASS/, 'sleep 1 takes about a second of uptime');
    // busybox sh's prompt ("/ # "; a terminal query or a late kernel line may follow it).
    await g.waitForSerial('# ', { timeoutMs: 120_000 });
    g.type('poweroff -f\n');
    const exit = await g.waitForExit({ timeoutMs: 120_000 });
    assert.equal(exit.reason, 'poweroff', `${exit.reason}: ${exit.detail}`);
  } finally {
    await g.destroy();
  }
});

const cdMissing = missing ?? (existsSync(join(guestDir, 'cd-686-pae.iso')) ? null : `test guest ${join(guestDir, 'cd-686-pae.iso')} is missing: run bash guests/build.sh`);

test('686-pae through the firmware uses the Xen clocksource and clockevent (VIRQ_TIMER)', { skip: cdMissing ?? false, timeout: BOOT_TIMEOUT_MS + 300_000 }, async () => {
  // The CD's /init runs cdrom,platform,dmesg (platform prints the clocksource facts) and leaves a shell.
  const g = await GuestSession.start(join(guestDir, 'cd-pae.cfg'), ['name="test-686-pae-xen-time"', 'on_poweroff="destroy"', 'on_reboot="destroy"', 'on_crash="destroy"']);
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 600_000 });
    const out = g.output;
    assert.match(out, /Booting paravirtualized kernel on Xen HVM/);
    assert.match(out, /Xen HVM callback vector for event delivery is enabled/);
    assert.match(out, /clocksource: Switched to clocksource xen/);
    assert.match(out, /Xen: using vcpuop timer interface/, 'the "xen" clockevent: VCPUOP_set_singleshot_timer + VIRQ_TIMER');
    assert.equal(fact(out, 'clocksource'), 'xen', '/sys/devices/system/clocksource/clocksource0/current_clocksource');
    assert.match(fact(out, 'clocksource.available'), /\bxen\b/);
    // sleep 1 ends on a Xen single-shot timer: about one second of the Xen clock; and
    // the wallclock (shared_info wc_* + system time) is the host's UTC.
    await g.waitForSerial('# ', { timeoutMs: 120_000 });
    g.type(`b=$(cut -d' ' -f1 /proc/uptime); sleep 1; a=$(cut -d' ' -f1 /proc/uptime); echo "FACT sleep1=$(awk -v a=$b -v b=$a 'BEGIN { print b - a }')"; echo "FACT date=$(date +%s)"\n`);
    await g.waitForSerial(/^FACT date=\d+/m, { timeoutMs: 120_000 });
    const slept = Number(fact(g.output, 'sleep1'));
    assert.ok(slept >= 0.9 && slept < 5, `sleep 1 took ${slept} s of uptime`);
    const skew = Number(fact(g.output, 'date')) - Date.now() / 1000;
    assert.ok(Math.abs(skew) < 600, `guest date is ${skew.toFixed(0)} s off the host's`);
  } finally {
    await g.destroy();
  }
});

if (cdMissing && !missing) console.error(`\n*** SKIPPED the firmware Xen time test: ${cdMissing} ***\n`);
if (missing) console.error(`\n*** SKIPPED real-guest tests: ${missing} ***\n`);
