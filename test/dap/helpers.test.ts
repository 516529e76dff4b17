/** Pure helpers of the debugger: value formatting, role decoding, the regex C resolver, the schedule cursor. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { accessBits, decodeRoleWord, formatScalar, hex, roleSummary, spteSummary } from '../../src/debug/format';
import { parseCFunctions, pointCalls, pointLine, alternateFiles } from '../../src/debug/fallback-resolver';
import { ScheduleCursor, pointMatches } from '../../src/debug/schedule-cursor';
import { createFakeEngine } from './fixtures/fake-engine';

test('hex and scalar formatting follow kernel habits', () => {
  assert.equal(hex(0x7f0000000000), '0x7f0000000000');
  assert.equal(hex(null), 'NULL');
  assert.equal(formatScalar('gfn', 16), '0x10');
  assert.equal(formatScalar('base_gfn', 4096), '0x1000');
  assert.equal(formatScalar('npages', 4096), '4096');
  assert.equal(formatScalar('root_count', 2), '2');
});

test('decodeRoleWord reads union kvm_mmu_page_role', () => {
  const r = decodeRoleWord(0x781);
  assert.equal(r.level, 1);
  assert.equal(r.direct, 1);
  assert.equal(r.access, 7);
  assert.equal(r.invalid, 0);
  assert.equal(decodeRoleWord('0xf84').invalid, 1);
  assert.equal(decodeRoleWord(0x4 | (1 << 17)).guest_mode, 1);
  assert.equal(decodeRoleWord(0x4 | (1 << 16)).ad_disabled, 1);
  assert.equal(accessBits(7), 'XWU');
  assert.equal(roleSummary({ level: 4, direct: false, access: 3, invalid: true, quadrant: 2 }), 'L4 indirect acc=XW q2 invalid');
});

test('spteSummary shows the bits and the target', () => {
  const base = { index: 0, value: '0x1234067', present: true, writable: true, accessed: true, dirty: false, huge: false, mmio: false };
  assert.equal(spteSummary({ ...base, leaf: true, pfn: 0x1234 }), '0x1234067 P W A leaf pfn=0x1234');
  assert.equal(spteSummary({ ...base, leaf: false, child: 7 }), '0x1234067 P W A -> sp#7');
  assert.equal(spteSummary({ ...base, present: false, mmio: true, leaf: true }), '0x1234067 MMIO');
});

test('the regex resolver finds kernel-style definitions, FNAME() templates and call sites', () => {
  const src = [
    'static int FNAME(fetch)(struct kvm_vcpu *vcpu,',
    '\t\t\t struct guest_walker *gw)',
    '{',
    '\tint r = kvm_mmu_get_child_sp(vcpu);',
    '\tcond_resched_lock(&vcpu->kvm->mmu_lock);',
    '\treturn FNAME(gpte_changed)(vcpu, gw, 1);',
    '}',
    '',
    'static inline bool is_x(void) { return true; }',
    'void kvm_mmu_free_roots(struct kvm *kvm)',
    '{',
    '}',
  ].join('\n');
  const parsed = parseCFunctions(src);
  assert.deepEqual(parsed.functions.map((f) => [f.name, f.line, f.end]), [
    ['FNAME(fetch)', 1, 7],
    ['is_x', 9, 9],
    ['kvm_mmu_free_roots', 10, 12],
  ]);
  const fetch = parsed.functions[0]!;
  assert.equal(pointLine(parsed, fetch, 'calls kvm_mmu_get_child_sp'), 4);
  assert.equal(pointLine(parsed, fetch, 'calls FNAME(gpte_changed)'), 6);
  assert.equal(pointLine(parsed, fetch, 'before yield'), 5);
  assert.equal(pointLine(parsed, fetch, 'entry'), undefined);
  assert.equal(pointLine(parsed, fetch, 'kvm_mmu_get_child_sp'), 4);
  assert.equal(pointCalls('calls kvm_flush_remote_tlbs', 'kvm_flush_remote_tlbs'), true);
  assert.equal(pointCalls('flush_workqueue(tdp_mmu_zap_wq)', 'flush_workqueue'), true);
  assert.equal(pointCalls('before yield', 'flush_workqueue'), false);
  assert.deepEqual(alternateFiles('arch/x86/kvm/mmu/mmu.c').slice(0, 2), ['arch/x86/kvm/mmu/mmu.c', 'arch/x86/kvm/mmu.c']);
});

test('the schedule cursor follows explicit slices, then finishes the remaining threads in order', () => {
  const engine = createFakeEngine({
    config: { era: '6.1', mmu: 'tdp', vcpus: 1, memslots: [{ id: 0, baseGfn: 0, npages: 16, hva: 0x1000 }] },
    threads: [
      { id: 'vcpu0', kind: 'vcpu', vcpu: 0, ops: [{ op: 'enter_guest' }, { op: 'page_fault', gfn: 1 }, { op: 'enter_guest' }] },
      { id: 'ioctl', kind: 'ioctl', ops: [{ op: 'zap_all_fast' }] },
    ],
  });
  const cursor = new ScheduleCursor(engine, { kind: 'explicit', slices: [{ thread: 'ioctl', until: { point: 'yield' } }, { thread: 'vcpu0', until: { steps: 2 } }] }, ['vcpu0', 'ioctl']);
  const order: string[] = [];
  for (let t = cursor.next(); t !== undefined; t = cursor.next()) {
    cursor.advance(engine.step(t));
    order.push(t);
  }
  assert.deepEqual(order, ['ioctl', 'vcpu0', 'vcpu0', 'vcpu0', 'ioctl']);
  assert.ok(pointMatches('kvm_zap_obsolete_pages:yield', 'yield'));
});
