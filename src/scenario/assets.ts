/**
 * Generated editor assets: the TextMate grammar (syntaxes/) and one snippet per step kind (snippets/).
 * `node <out>/src/scenario/write-schema.js .` rewrites them with the schema; a unit test keeps them in sync.
 */
import { BUG_IDS, ERAS, STEPS, type FieldType } from './vocabulary';

type Json = Record<string, unknown>;

export function buildGrammar(): Json {
  const steps = STEPS.map((s) => s.name).join('|');
  return {
    $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
    name: 'KVM MMU Lab scenario',
    scopeName: 'source.kvmmmu-scenario',
    patterns: [
      { include: '#comment' },
      { include: '#topkey' },
      { include: '#step' },
      { include: '#invariant' },
      { include: '#request' },
      { include: '#bug' },
      { include: '#point' },
      { include: '#hex' },
      { include: 'source.yaml' },
    ],
    repository: {
      comment: { match: '(^|\\s)(#.*)$', captures: { 2: { name: 'comment.line.number-sign.kvmmmu' } } },
      topkey: { match: '^(scenario|description|vm|bug|threads|schedule|expect|variants)(?=\\s*:)', name: 'keyword.control.section.kvmmmu' },
      step: { match: `(?<=[\\s\\[{,-])(${steps})(?=\\s*(:|,|\\]|\\}|$))`, name: 'entity.name.function.step.kvmmmu' },
      invariant: { match: '\\b(RM|LP|HS|AL|IT|ZC|FR|TL|RT|FZ|US|MN|AG|LK)-\\d+\\b', name: 'constant.language.invariant.kvmmmu' },
      request: { match: '\\bKVM_REQ_[A-Z_]+\\b', name: 'support.constant.request.kvmmmu' },
      bug: { match: `\\b(${BUG_IDS.join('|')})\\b`, name: 'markup.deleted.bug.kvmmmu' },
      point: { match: '(?<=["\'\\s])([a-z_][a-z0-9_]*):([a-z][\\w -]*)(?=["\'])', captures: { 1: { name: 'entity.name.function.kernel.kvmmmu' }, 2: { name: 'variable.other.point.kvmmmu' } } },
      hex: { match: '\\b0x[0-9a-fA-F]+\\b', name: 'constant.numeric.hex.kvmmmu' },
    },
  };
}

function example(type: FieldType): string {
  switch (type) {
    case 'bool':
      return 'true';
    case 'gfn':
      return '0x10';
    case 'hva':
      return '0x7f0000010000';
    case 'gva':
      return '0x1';
    case 'gpte':
      return '{ gfn: 0x20, present: true, writable: true }';
    default:
      return '1';
  }
}

export function buildSnippets(): Json {
  const snippets: Json = {
    'KVM MMU scenario': {
      prefix: 'scenario',
      description: 'A whole scenario skeleton',
      body: [
        '# ${1:What this shows.}',
        '# Seed thread: ${2:...}',
        '# Kernel functions: ${3:...}',
        'scenario: ${4:name}',
        'vm:',
        `  era: "\${5|${ERAS.join(',')}|}"`,
        '  mmu: ${6|tdp,shadow,direct-shadow,nested|}',
        '  vcpus: ${7:2}',
        '  memslots: [{ id: 0, baseGfn: 0x0, npages: 512, hva: 0x7f0000000000 }]',
        'threads:',
        '  vcpu0: [ { page_fault: { gfn: 0x10, write: true } }, enter_guest ]',
        '  ioctl: [ zap_all_fast ]',
        'schedule: sequential',
        'expect:',
        '  violations: []',
        '  at:',
        '    - after: end',
        '      assert: { "vm.mmu_valid_gen": 1 }',
        '',
      ],
    },
    'schedule slice': { prefix: 'slice', description: 'An explicit schedule slice', body: ['- { thread: ${1:ioctl}, until: ${2|done,op,"kvm_zap_obsolete_pages:yield"|} }'] },
    'assertion block': { prefix: 'at', description: 'Assertions at a named point', body: ['- after: ${1:end}', '  assert: { "${2:vm.mmu_valid_gen}": ${3:1} }'] },
  };
  for (const s of STEPS) {
    let body: string;
    if (s.name === 'wait') body = '{ wait: { ${1|requestServiced: KVM_REQ_MMU_FREE_OBSOLETE_ROOTS,threadDone: ioctl|} } }';
    else if (s.fields.length === 0) body = s.name;
    else {
      const req = s.fields.filter((f) => f.required);
      const fields = req.length ? req : s.fields.slice(0, 1);
      let i = 1;
      body = `{ ${s.name}: { ${fields.map((f) => `${f.name}: \${${i++}:${example(f.type)}}`).join(', ')} } }`;
    }
    snippets[`step ${s.name}`] = { prefix: s.name, description: `${s.name} (${s.kernel}): ${s.doc}`, body: [body] };
  }
  return snippets;
}
