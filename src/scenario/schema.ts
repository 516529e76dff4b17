/**
 * Builds the JSON Schema (draft-07) for `*.kvmmmu.yaml`. The checked-in file schemas/kvmmmu-scenario.schema.json
 * is this function's output (a unit test keeps them equal); VS Code's YAML extension uses it through
 * `yamlValidation`, and the tests validate the bundled library with ajv against it.
 */
import { BUG_IDS, ERAS, MMU_KINDS, REQUESTS, STEPS, THREAD_KINDS, knownInvariantIds, type FieldType } from './vocabulary';
import { MATCHER_OPS } from './types';
import { shorthandField } from './parser';

type Json = Record<string, unknown>;

const INT: Json = { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^(0x[0-9a-fA-F]+|[0-9]+)$' }] };

function fieldSchema(type: FieldType, doc: string): Json {
  switch (type) {
    case 'bool':
      return { type: 'boolean', description: doc };
    case 'gpte':
      return { description: doc, oneOf: [{ type: 'null' }, { $ref: '#/definitions/gpte' }] };
    default:
      return { ...INT, description: doc };
  }
}

export function buildSchema(): Json {
  const stepBranches: Json[] = STEPS.map((s) => {
    let args: Json;
    if (s.name === 'wait') args = { $ref: '#/definitions/waitCondition' };
    else if (s.fields.length === 0) args = { oneOf: [{ type: 'null' }, { type: 'object', additionalProperties: false }, { const: true }] };
    else {
      const props: Json = {};
      for (const f of s.fields) props[f.name] = fieldSchema(f.type, f.doc);
      const obj: Json = { type: 'object', properties: props, additionalProperties: false };
      const req = s.fields.filter((f) => f.required).map((f) => f.name);
      if (req.length) obj.required = req;
      const single = shorthandField(s);
      args = single ? { oneOf: [obj, fieldSchema(single.type, single.doc)] } : obj;
      if (!req.length && !single) args = { oneOf: [obj, { type: 'null' }] };
    }
    return {
      type: 'object',
      description: `${s.name} (${s.kernel}): ${s.doc}`,
      required: [s.name],
      properties: { [s.name]: args, label: { type: 'string', description: 'label for assertions (expect.at[].after)' } },
      additionalProperties: false,
    };
  });
  const expect: Json = {
    type: 'object',
    additionalProperties: false,
    properties: {
      violations: { description: 'invariant ids that must appear; [] or none = no violation allowed', oneOf: [{ const: 'none' }, { type: 'array', items: { $ref: '#/definitions/invariantId' } }] },
      absent: { type: 'array', items: { $ref: '#/definitions/invariantId' }, description: 'ids that must not appear' },
      allowExtra: { type: 'boolean', description: 'other violations than the listed ones are tolerated' },
      at: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['assert'],
          properties: {
            after: { description: "'end', a step/slice label, a slice index, or 'step:N'", oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] },
            assert: { type: 'object', description: 'state path -> expected value or { eq|ne|gt|ge|lt|le|contains|notContains|length|exists|in: value }', additionalProperties: true },
          },
        },
      },
    },
  };
  const sliceUntil: Json = {
    anyOf: [
      { enum: ['done', 'op'] },
      { type: 'string', minLength: 1, description: "a preemption point: 'function:point' or just 'point'" },
      { type: 'integer', minimum: 1 },
      { type: 'object', additionalProperties: false, required: ['steps'], properties: { steps: { type: 'integer', minimum: 1 } } },
      { type: 'object', additionalProperties: false, required: ['point'], properties: { point: { type: 'string' }, occurrence: { type: 'integer', minimum: 1 } } },
    ],
  };
  const slices: Json = {
    type: 'array',
    items: {
      oneOf: [
        { type: 'string', description: 'thread name: one atomic step' },
        { type: 'object', additionalProperties: false, required: ['thread'], properties: { thread: { type: 'string' }, until: sliceUntil, label: { type: 'string' } } },
      ],
    },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://kvm-mmu-lab.invalid/schemas/kvmmmu-scenario.schema.json',
    title: 'KVM MMU Lab scenario',
    description: 'A runnable KVM x86 MMU race story: VM, threads with steps, schedule, expectations. See docs/scenario-format.md.',
    type: 'object',
    additionalProperties: false,
    required: ['scenario', 'vm', 'threads'],
    properties: {
      scenario: { type: 'string', description: 'short kebab-case name' },
      description: { type: 'string' },
      vm: {
        type: 'object',
        additionalProperties: false,
        required: ['era', 'mmu', 'memslots'],
        properties: {
          era: { enum: [...ERAS], description: 'kernel era profile (quote it: "3.10")' },
          mmu: { enum: [...MMU_KINDS] },
          vcpus: { type: 'integer', minimum: 1, maximum: 64 },
          memslots: { type: 'array', minItems: 1, items: { $ref: '#/definitions/memslot' } },
          guestPageTables: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['gfn', 'level'],
              properties: { gfn: INT, level: { type: 'integer', minimum: 1, maximum: 5 }, entries: { type: 'array', items: { $ref: '#/definitions/gptEntry' } } },
            },
          },
          guestCr3: { type: 'array', items: INT },
          guestModeBits: { type: 'object', additionalProperties: false, properties: Object.fromEntries(['cr0_wp', 'cr4_pae', 'cr4_pge', 'efer_nx', 'cr4_smep', 'cr4_smap'].map((b) => [b, { type: 'boolean' }])) },
          maxMmuPages: { type: 'integer', minimum: 1 },
          hashBuckets: { type: 'integer', minimum: 1 },
          hostBacking: { enum: ['all', 'none'] },
        },
      },
      bug: { description: 'bug variant (the buggy historical algorithm); omit or none for the fix', oneOf: [{ enum: [...BUG_IDS] }, { const: 'none' }, { type: 'null' }] },
      threads: {
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: '^[A-Za-z_][\\w.-]*$' },
        additionalProperties: {
          oneOf: [
            { $ref: '#/definitions/steps' },
            { type: 'string', description: 'a single step' },
            { type: 'object', additionalProperties: false, required: ['steps'], properties: { kind: { enum: [...THREAD_KINDS] }, vcpu: { type: 'integer', minimum: 0 }, steps: { $ref: '#/definitions/steps' } } },
          ],
        },
      },
      schedule: {
        oneOf: [
          { enum: ['sequential', 'round-robin'] },
          slices,
          { type: 'object', additionalProperties: false, required: ['slices'], properties: { slices, finish: { type: 'boolean' } } },
          {
            type: 'object',
            additionalProperties: false,
            required: ['open'],
            properties: { open: { oneOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, properties: { threads: { type: 'array', items: { type: 'string' } }, maxPreemptions: { type: 'integer', minimum: 0 }, maxDepth: { type: 'integer', minimum: 1 } } }] } },
          },
        ],
      },
      expect,
      variants: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          properties: { bug: { oneOf: [{ enum: [...BUG_IDS] }, { const: 'none' }, { type: 'null' }] }, era: { enum: [...ERAS] }, description: { type: 'string' }, expect },
        },
      },
    },
    definitions: {
      invariantId: { enum: knownInvariantIds() },
      memslot: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'baseGfn', 'npages', 'hva'],
        properties: { id: { type: 'integer', minimum: 0 }, baseGfn: INT, npages: { type: 'integer', minimum: 1 }, hva: INT, flags: { type: 'array', items: { enum: ['dirty-log', 'readonly'] } } },
      },
      gpte: {
        type: 'object',
        additionalProperties: false,
        required: ['gfn'],
        properties: { gfn: INT, present: { type: 'boolean' }, writable: { type: 'boolean' }, user: { type: 'boolean' }, huge: { type: 'boolean' } },
      },
      gptEntry: {
        type: 'object',
        additionalProperties: false,
        required: ['index', 'gfn'],
        properties: { index: { type: 'integer', minimum: 0, maximum: 511 }, gfn: INT, present: { type: 'boolean' }, writable: { type: 'boolean' }, user: { type: 'boolean' }, huge: { type: 'boolean' } },
      },
      waitCondition: {
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['requestServiced'], properties: { requestServiced: { enum: [...REQUESTS] }, vcpu: { type: 'integer', minimum: 0 } } },
          { type: 'object', additionalProperties: false, required: ['threadDone'], properties: { threadDone: { type: 'string' } } },
          { type: 'object', additionalProperties: false, required: ['point', 'thread'], properties: { point: { type: 'string' }, thread: { type: 'string' } } },
        ],
      },
      step: { oneOf: [{ enum: STEPS.map((s) => s.name) }, ...stepBranches] },
      steps: { type: 'array', items: { $ref: '#/definitions/step' } },
      matcherOps: { enum: [...MATCHER_OPS] },
    },
  };
}
