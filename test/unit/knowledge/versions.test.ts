import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compareVersions, labelsToPresence, presenceIn, presenceToLabels, SAMPLE_LABELS } from '../../../src/knowledge/versions';
import { successorChain, renamesFrom, renamesTo } from '../../../src/knowledge/aliases';

test('compareVersions orders labels with four components and release candidates', () => {
  const sorted = [...SAMPLE_LABELS].sort(() => Math.random() - 0.5).sort(compareVersions);
  assert.deepEqual(sorted, [...SAMPLE_LABELS]);
  assert.ok(compareVersions('5.17-rc5', '5.17') < 0);
  assert.ok(compareVersions('5.17', '5.17.1') < 0);
  assert.ok(compareVersions('2.6.35.6', '2.6.35') > 0);
  assert.ok(compareVersions('v6.19', '6.19.0') === 0);
  assert.ok(compareVersions('5.17-rc5', '5.17-rc7') < 0);
  assert.ok(compareVersions('6.1-rc7', '6.1') < 0);
  assert.ok(compareVersions('10.0', '9.9') > 0);
});

test('presence ranges round-trip', () => {
  assert.deepEqual(presenceToLabels('3.13.10..4.19, 5.4.59..5.10'), ['3.13.10', '4.19', '5.4.59', '5.10']);
  assert.equal(labelsToPresence(presenceToLabels('3.13.10..4.19, 5.4.59..7.1.5')), '3.13.10..4.19, 5.4.59..7.1.5');
  assert.equal(labelsToPresence(SAMPLE_LABELS), 'all');
  assert.equal(labelsToPresence(['2.6.35.6']), '2.6.35.6');
  assert.throws(() => presenceToLabels('5.3..6.19'), /unknown version/);
});

test('presenceIn: exact samples, interpolation and disagreement', () => {
  const p = '5.4.59..7.1.5';
  assert.equal(presenceIn(p, '5.4.59'), 'present');
  assert.equal(presenceIn(p, '5.2.1'), 'absent');
  assert.equal(presenceIn(p, '5.8'), 'present');
  assert.equal(presenceIn(p, '5.3'), 'uncertain');
  assert.equal(presenceIn(p, '8.0'), 'present');
  assert.equal(presenceIn(p, '2.6.20'), 'absent');
  assert.equal(presenceIn('2.6.27..5.17-rc5', '5.17'), 'uncertain');
  assert.equal(presenceIn('2.6.27..5.17-rc5', '5.17-rc5'), 'present');
  assert.equal(presenceIn('5.18.12..7.1.5', '5.18'), 'uncertain');
  assert.equal(presenceIn('5.18.12..7.1.5', '6.8.0'), 'present');
});

test('alias table works both ways and chains', () => {
  assert.equal(renamesFrom('mmu_notifier_seq')[0]?.successors[0], 'mmu_invalidate_seq');
  assert.ok(renamesTo('kvm_mmu_zap_all_fast').some((r) => r.old === 'kvm_mmu_invalidate_zap_all_pages'));
  assert.deepEqual(successorChain('mmu_notifier_retry_hva'), ['mmu_notifier_retry_hva', 'mmu_invalidate_retry_hva', 'mmu_invalidate_retry_gfn']);
  assert.deepEqual(successorChain('cr4_pae'), ['cr4_pae', 'gpte_is_8_bytes', 'has_4_byte_gpte']);
});
