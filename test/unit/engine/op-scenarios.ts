// Scenarios for the exact effect-sequence tests: each drives one operation after some set-up and
// names the thread/op whose effects are compared.
import type { Op, ThreadSpec, VmConfig } from '../../../src/engine';
import { vm, shadowVm, hvaOf, T2A, T2B, EMPTY } from './helpers';

export interface OpScenario {
  name: string;
  cfg: VmConfig;
  threads: ThreadSpec[];
  /** effects of this thread's op number `op` are compared */
  thread: string;
  op: number;
}

const G = 0x1234;
const v = (ops: Op[], id = 'vcpu0', n = 0): ThreadSpec => ({ id, kind: 'vcpu', vcpu: n, ops });
const t = (id: string, kind: ThreadSpec['kind'], ops: Op[]): ThreadSpec => ({ id, kind, ops });

export const OP_SCENARIOS: OpScenario[] = [
  { name: 'TDP MMU fault (6.19 kvm_tdp_mmu_page_fault)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G, write: true }])], thread: 'vcpu0', op: 0 },
  { name: 'TDP MMU fault (5.15 direct_page_fault, read lock)', cfg: vm('5.15', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }])], thread: 'vcpu0', op: 0 },
  { name: 'shadow MMU direct fault (3.10 __direct_map, rmap_add)', cfg: vm('3.10', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }])], thread: 'vcpu0', op: 0 },
  { name: 'second fault in the same table reuses pages (6.19 direct_map)', cfg: vm('6.19', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }, { op: 'page_fault', gfn: G + 1, write: true }])], thread: 'vcpu0', op: 1 },
  { name: 'shadow paging fault marks a guest table unsync (2.6.35)', cfg: shadowVm('2.6.35'), threads: [v([{ op: 'page_fault', gva: 0, write: true }])], thread: 'vcpu0', op: 0 },
  { name: 'rmap grows into a pte_list_desc chain (two gvas map one gfn, 5.15)', cfg: vm('5.15', 'shadow', { guestPageTables: [{ gfn: 0x1010, level: 1, entries: [{ index: 0, gfn: 0x1050 }, { index: 1, gfn: 0x1050 }, { index: 2, gfn: 0x1050 }] }], guestCr3: [0x1010] }), threads: [v([{ op: 'page_fault', gva: 0 }, { op: 'page_fault', gva: 1 }, { op: 'page_fault', gva: 2 }])], thread: 'vcpu0', op: 2 },
  { name: 'fast zap (3.11 kvm_mmu_invalidate_zap_all_pages, reload request)', cfg: vm('3.11', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'zap_all_fast' }])], thread: 'ioctl', op: 0 },
  { name: 'fast zap (6.19, TDP roots invalidated and zapped)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'zap_all_fast' }])], thread: 'ioctl', op: 0 },
  { name: 'fast zap (5.15, gifted root reference, zap invalidated roots)', cfg: vm('5.15', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'zap_all_fast' }])], thread: 'ioctl', op: 0 },
  { name: 'async root zap worker (5.18 tdp_mmu_zap_root_work)', cfg: vm('5.18', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'zap_all_fast' }])], thread: 'tdp_mmu_zap_wq', op: 0 },
  { name: 'free obsolete roots on entry (5.18 KVM_REQ_MMU_FREE_OBSOLETE_ROOTS)', cfg: vm('5.18', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'zap_all_fast' }]), v([{ op: 'enter_guest' }], 'vcpu0b', 0)], thread: 'vcpu0b', op: 0 },
  { name: 'slow zap all (3.10 kvm_mmu_zap_all)', cfg: vm('3.10', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }, { op: 'exit_guest' }]), t('ioctl', 'ioctl', [{ op: 'zap_all' }])], thread: 'ioctl', op: 0 },
  { name: 'change_mmu_pages zaps the oldest pages (5.15 kvm_mmu_zap_oldest_mmu_pages)', cfg: shadowVm('5.15'), threads: [v([{ op: 'page_fault', gva: 0 }, { op: 'load_cr3', gfn: EMPTY }]), t('ioctl', 'ioctl', [{ op: 'change_mmu_pages', pages: 0 }])], thread: 'ioctl', op: 0 },
  { name: 'unprotect page with prepare/commit (3.10)', cfg: shadowVm('3.10'), threads: [v([{ op: 'page_fault', gva: 0, write: true }]), t('ioctl', 'ioctl', [{ op: 'unprotect_page', gfn: T2A }])], thread: 'ioctl', op: 0 },
  { name: 'CR3 load syncs unsync pages (6.19 fast_pgd_switch + kvm_mmu_sync_roots)', cfg: shadowVm('6.19'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'guest_pt_write', gfn: 0x1011, index: 1, value: null }, { op: 'load_cr3', gfn: T2B }, { op: 'load_cr3', gfn: T2A }, { op: 'enter_guest' }])], thread: 'vcpu0', op: 4 },
  { name: 'guest page table write is emulated (5.15 kvm_mmu_pte_write)', cfg: shadowVm('5.15'), threads: [v([{ op: 'page_fault', gva: 0 }, { op: 'guest_pt_write', gfn: T2A, index: 1, value: { gfn: 0x1011 } }])], thread: 'vcpu0', op: 1 },
  { name: 'notifier range start/end (6.19 kvm_mmu_invalidate_begin/end)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('mmu_notifier', 'notifier', [{ op: 'host_unmap', hva: hvaOf(G) }])], thread: 'mmu_notifier', op: 0 },
  { name: 'notifier unmap through the rmap (3.10 kvm_unmap_rmapp)', cfg: vm('3.10', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }]), t('mmu_notifier', 'notifier', [{ op: 'host_unmap', hva: hvaOf(G), npages: 2 }])], thread: 'mmu_notifier', op: 0 },
  { name: 'clear_flush_young flushes when young (5.15)', cfg: vm('5.15', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }]), t('reclaim', 'reclaim', [{ op: 'clear_flush_young', hva: hvaOf(G) }])], thread: 'reclaim', op: 0 },
  { name: 'lockless aging without a flush (6.19 kvm_age_gfn)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('reclaim', 'reclaim', [{ op: 'clear_flush_young', hva: hvaOf(G) }])], thread: 'reclaim', op: 0 },
  { name: 'test_young does not clear (6.19)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('reclaim', 'reclaim', [{ op: 'test_young', hva: hvaOf(G) }])], thread: 'reclaim', op: 0 },
  { name: 'fast-only aging skips a multi-entry rmap (6.19 nested)', cfg: vm('6.19', 'nested', { vcpus: 2 }), threads: [v([{ op: 'enter_guest_mode', l2: true }, { op: 'page_fault', gfn: G }]), v([{ op: 'enter_guest_mode', l2: true }, { op: 'load_cr3', gfn: 1 }, { op: 'set_cr0', bits: { cr0_wp: false } }, { op: 'page_fault', gfn: G }], 'vcpu1', 1), t('reclaim', 'reclaim', [{ op: 'clear_young', hva: hvaOf(G), fastOnly: true }])], thread: 'reclaim', op: 0 },
  { name: 'guest access fills the TLB and sets Accessed/Dirty (6.19)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }, { op: 'guest_access', gfn: G, write: true }])], thread: 'vcpu0', op: 1 },
  { name: 'swap out: unmap, then the page is freed (6.19)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('reclaim', 'reclaim', [{ op: 'swap_out', hva: hvaOf(G) }])], thread: 'reclaim', op: 0 },
  { name: 'memslot delete flushes the slot with the fast zap (5.15)', cfg: vm('5.15', 'direct-shadow'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'memslot_delete', id: 0 }])], thread: 'ioctl', op: 0 },
  { name: 'zap_gfn_range (6.19 kvm_zap_gfn_range)', cfg: vm('6.19', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('ioctl', 'ioctl', [{ op: 'zap_gfn_range', start: G, end: G + 1 }])], thread: 'ioctl', op: 0 },
  { name: 'gup race retry (2.6.27 mmu_notifier_retry)', cfg: vm('2.6.27', 'tdp'), threads: [v([{ op: 'page_fault', gfn: G }]), t('mmu_notifier', 'notifier', [{ op: 'host_unmap', hva: hvaOf(G) }])], thread: 'vcpu0', op: 0 },
  // sync re-write-protects: the synced page's gfn (T1 maps itself writable at gva 0) loses W, one flush per batch
  { name: 'guest TLB flush syncs and re-write-protects (2.6.35 mmu_sync_children, rmap_write_protect)', cfg: shadowVm('2.6.35'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'tlb_flush_guest' }])], thread: 'vcpu0', op: 1 },
  { name: 'guest TLB flush syncs and re-write-protects (3.10 __kvm_sync_page)', cfg: shadowVm('3.10'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'tlb_flush_guest' }])], thread: 'vcpu0', op: 1 },
  { name: 'guest TLB flush syncs and re-write-protects (5.15 kvm_mmu_slot_gfn_write_protect, kvm_mmu_remote_flush_or_zap)', cfg: shadowVm('5.15'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'tlb_flush_guest' }])], thread: 'vcpu0', op: 1 },
  { name: 'guest TLB flush syncs and re-write-protects (6.19 kvm_vcpu_write_protect_gfn)', cfg: shadowVm('6.19'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'tlb_flush_guest' }])], thread: 'vcpu0', op: 1 },
  { name: 'sync with nothing writable left: no write-protect flush (6.19, invlpg dropped the leaf)', cfg: shadowVm('6.19'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'invlpg', gva: 0 }, { op: 'tlb_flush_guest' }])], thread: 'vcpu0', op: 2 },
  { name: 'sync that also drops a stale SPTE: write-protect flush, then the sync flush (5.18)', cfg: shadowVm('5.18'), threads: [v([{ op: 'page_fault', gva: 0, write: true }, { op: 'page_fault', gva: 1 }, { op: 'guest_pt_write', gfn: 0x1011, index: 1, value: null }, { op: 'tlb_flush_guest' }])], thread: 'vcpu0', op: 3 },
];
