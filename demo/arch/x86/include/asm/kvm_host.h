/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * x86 declarations used by the MMU: arch requests, the page role, vCPU root state, per-VM MMU
 * lists and counters, memslot rmaps and statistics.
 */
#ifndef _ASM_X86_KVM_HOST_H
#define _ASM_X86_KVM_HOST_H

#include <linux/kvm_host.h>

/* x86 requests used by the MMU (arch bits start at KVM_REQUEST_ARCH_BASE). */
#define KVM_REQ_MIGRATE_TIMER		KVM_ARCH_REQ(0)
#define KVM_REQ_MMU_SYNC		KVM_ARCH_REQ(2)
#define KVM_REQ_LOAD_MMU_PGD		KVM_ARCH_REQ(10)
#define KVM_REQ_TLB_FLUSH_CURRENT	KVM_ARCH_REQ(26)
#define KVM_REQ_TLB_FLUSH_GUEST \
	KVM_ARCH_REQ_FLAGS(27, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
#define KVM_REQ_MMU_FREE_OBSOLETE_ROOTS \
	KVM_ARCH_REQ_FLAGS(31, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)

#define KVM_NR_PAGE_SIZES		3	/* 4K, 2M, 1G */
#define KVM_HPAGE_GFN_SHIFT(x)		(((x) - 1) * 9)
#define KVM_PAGES_PER_HPAGE(x)		(1UL << KVM_HPAGE_GFN_SHIFT(x))
#define KVM_MIN_FREE_MMU_PAGES		5
#define KVM_REFILL_PAGES		25
#define KVM_NUM_MMU_PAGES		(1 << 12)
#define KVM_MMU_NUM_PREV_ROOTS		3

#define KVM_MMU_ROOT_CURRENT		BIT(0)
#define KVM_MMU_ROOT_PREVIOUS(i)	BIT(1 + (i))
#define KVM_MMU_ROOTS_ALL		(BIT(1 + KVM_MMU_NUM_PREV_ROOTS) - 1)

#define INVALID_PAGE			(~(hpa_t)0)
#define VALID_PAGE(x)			((x) != INVALID_PAGE)

/*
 * The role is half of a shadow page's key (the other half is the gfn): two pages are
 * interchangeable only if role.word is equal.
 */
union kvm_mmu_page_role {
	u32 word;
	struct {
		unsigned level:4;
		unsigned has_4_byte_gpte:1;
		unsigned quadrant:2;
		unsigned direct:1;
		unsigned access:3;
		unsigned invalid:1;
		unsigned efer_nx:1;
		unsigned cr0_wp:1;
		unsigned smep_andnot_wp:1;
		unsigned smap_andnot_wp:1;
		unsigned ad_disabled:1;
		unsigned guest_mode:1;
		unsigned passthrough:1;
		unsigned is_mirror:1;
		unsigned :4;
		unsigned smm:8;
	};
};

/* Guest paging-mode bits that select how guest PTEs are interpreted. */
union kvm_mmu_extended_role {
	u32 word;
	struct {
		unsigned int valid:1;
		unsigned int execonly:1;
		unsigned int cr4_pse:1;
		unsigned int cr4_pke:1;
		unsigned int cr4_smap:1;
		unsigned int cr4_smep:1;
		unsigned int cr4_la57:1;
		unsigned int efer_lma:1;
	};
};

union kvm_cpu_role {
	u64 as_u64;
	struct {
		union kvm_mmu_page_role base;
		union kvm_mmu_extended_role ext;
	};
};

/* One word per gfn and level: 0, a single sptep, or a pte_list_desc chain (bit 0 set). */
struct kvm_rmap_head {
	atomic_long_t val;
};

struct kvm_mmu_root_info {
	gpa_t pgd;
	hpa_t hpa;
};

struct kvm_mmu {
	unsigned long (*get_guest_pgd)(struct kvm_vcpu *vcpu);
	int (*page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
	int (*sync_spte)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
	struct kvm_mmu_root_info root;
	hpa_t mirror_root_hpa;
	union kvm_cpu_role cpu_role;
	union kvm_mmu_page_role root_role;
	u32 pkru_mask;
	struct kvm_mmu_root_info prev_roots[KVM_MMU_NUM_PREV_ROOTS];
	u64 *pae_root;
	u64 *pml4_root;
	u64 *pml5_root;
	u64 pdptrs[4];
};

struct kvm_lpage_info {
	int disallow_lpage;
};

struct kvm_arch_memory_slot {
	struct kvm_rmap_head *rmap[KVM_NR_PAGE_SIZES];
	struct kvm_lpage_info *lpage_info[KVM_NR_PAGE_SIZES - 1];
	unsigned short *gfn_write_track;
};

struct kvm_vcpu_arch {
	unsigned long cr0;
	unsigned long cr3;
	unsigned long cr4;
	u64 efer;
	/* current MMU context: &root_mmu, or &guest_mmu while L2 runs on shadowed NPT/EPT */
	struct kvm_mmu *mmu;
	struct kvm_mmu root_mmu;
	struct kvm_mmu guest_mmu;
	struct kvm_mmu nested_mmu;
	struct kvm_mmu *walk_mmu;
	struct kvm_mmu_memory_cache mmu_pte_list_desc_cache;
	struct kvm_mmu_memory_cache mmu_shadow_page_cache;
	struct kvm_mmu_memory_cache mmu_page_header_cache;
	u64 last_retry_eip;
	u64 last_retry_addr;
};

struct kvm_arch {
	unsigned long n_used_mmu_pages;
	unsigned long n_requested_mmu_pages;
	unsigned long n_max_mmu_pages;
	unsigned int indirect_shadow_pages;
	/* flipped by the fast zap; pages with the other value are obsolete */
	u8 mmu_valid_gen;
	u8 vm_type;
	bool has_private_mem;
	/* allocated only once the shadow MMU is needed */
	struct hlist_head *mmu_page_hash;
	struct list_head active_mmu_pages;
	struct list_head possible_nx_huge_pages[KVM_NR_MMU_TYPES];
	/* set when a shadow root exists, which makes rmaps mandatory */
	bool shadow_root_allocated;
	u64 disabled_quirks;
	bool tdp_mmu_enabled;
	struct list_head tdp_mmu_roots;
	atomic64_t tdp_mmu_pages;
	/* writers of tdp_mmu_roots, nested inside mmu_lock */
	spinlock_t tdp_mmu_pages_lock;
	/* serialises marking pages unsync while mmu_lock is held for read */
	spinlock_t mmu_unsync_pages_lock;
	struct kvm_mmu_memory_cache split_shadow_page_cache;
	struct kvm_mmu_memory_cache split_page_header_cache;
};

struct kvm_vm_stat {
	struct kvm_vm_stat_generic generic;
	u64 mmu_shadow_zapped;
	u64 mmu_pte_write;
	u64 mmu_pde_zapped;
	u64 mmu_flooded;
	u64 mmu_recycled;
	u64 mmu_cache_miss;
	u64 mmu_unsync;
	u64 pages_4k;
	u64 pages_2m;
	u64 pages_1g;
	u64 nx_lpage_splits;
	u64 max_mmu_page_hash_collisions;
	u64 max_mmu_rmap_size;
};

struct kvm_vcpu_stat {
	u64 pf_taken;
	u64 pf_fixed;
	u64 pf_emulate;
	u64 pf_spurious;
	u64 pf_fast;
	u64 pf_mmio_spte_created;
	u64 pf_guest;
	u64 tlb_flush;
	u64 invlpg;
	u64 exits;
};

int kvm_mmu_load(struct kvm_vcpu *vcpu);
void kvm_mmu_unload(struct kvm_vcpu *vcpu);
void kvm_mmu_free_obsolete_roots(struct kvm_vcpu *vcpu);
void kvm_mmu_free_roots(struct kvm *kvm, struct kvm_mmu *mmu, ulong roots_to_free);
void kvm_mmu_new_pgd(struct kvm_vcpu *vcpu, gpa_t new_pgd);
void kvm_mmu_zap_all(struct kvm *kvm);
void kvm_mmu_change_mmu_pages(struct kvm *kvm, unsigned long kvm_nr_mmu_pages);
void kvm_zap_gfn_range(struct kvm *kvm, gfn_t gfn_start, gfn_t gfn_end);

static inline bool kvm_memslots_have_rmaps(struct kvm *kvm)
{
	return !tdp_mmu_enabled || kvm_shadow_root_allocated(kvm);
}

static inline bool kvm_shadow_root_allocated(struct kvm *kvm)
{
	/* pairs with the release store in mmu_first_shadow_root_alloc() */
	return smp_load_acquire(&kvm->arch.shadow_root_allocated);
}

#endif /* _ASM_X86_KVM_HOST_H */
