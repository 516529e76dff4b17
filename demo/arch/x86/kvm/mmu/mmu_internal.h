/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * The shadow page header and the page-fault descriptor shared by the shadow MMU and the TDP MMU.
 */
#ifndef __KVM_X86_MMU_INTERNAL_H
#define __KVM_X86_MMU_INTERNAL_H

#include <asm/kvm_host.h>

#define KVM_MMU_WARN_ON(x)	WARN_ON_ONCE(x)

/* Extra rmap flag bits kept in the low bits of kvm_rmap_head.val. */
#define KVM_RMAP_MANY		BIT(0)
#define KVM_RMAP_LOCKED		BIT(1)

struct kvm_mmu_page {
	/* on active_mmu_pages (shadow MMU) or tdp_mmu_roots (TDP roots) */
	struct list_head link;
	struct hlist_node hash_link;

	bool tdp_mmu_page;
	bool unsync;
	union {
		/* shadow MMU: generation at creation time; mismatch means obsolete */
		u8 mmu_valid_gen;
		/* TDP MMU: root was invalidated and still owes its zap */
		bool tdp_mmu_scheduled_root_to_zap;
	};
	/* exists only because the NX hugepage mitigation refused a huge mapping */
	bool nx_huge_page_disallowed;
	bool has_mapped_host_mmio;

	union kvm_mmu_page_role role;
	gfn_t gfn;

	u64 *spt;
	/* per-SPTE gfn and access for indirect pages */
	u64 *shadowed_translation;

	union {
		int root_count;
		refcount_t tdp_mmu_root_count;
	};
	unsigned int unsync_children;
	union {
		struct kvm_rmap_head parent_ptes;
		tdp_ptep_t ptep;
	};
	DECLARE_BITMAP(unsync_child_bitmap, 512);

	struct list_head possible_nx_huge_page_link;
	atomic_t write_flooding_count;
	void *external_spt;
	struct rcu_head rcu_head;
};

extern struct kmem_cache *mmu_page_header_cache;

static inline int kvm_mmu_role_as_id(union kvm_mmu_page_role role)
{
	return role.smm ? 1 : 0;
}

static inline int kvm_mmu_page_as_id(struct kvm_mmu_page *sp)
{
	return kvm_mmu_role_as_id(sp->role);
}

static inline bool is_tdp_mmu_page(struct kvm_mmu_page *sp)
{
	return IS_ENABLED(CONFIG_X86_64) && sp->tdp_mmu_page;
}

static inline bool is_mirror_sp(const struct kvm_mmu_page *sp)
{
	return sp->role.is_mirror;
}

/* Everything a fault handler learns about one fault, filled in stages. */
struct kvm_page_fault {
	const gpa_t addr;
	const u64 error_code;
	const bool prefetch;
	const bool exec;
	const bool write;
	const bool present;
	const bool rsvd;
	const bool user;
	const bool is_tdp;
	const bool is_private;
	bool nx_huge_page_workaround_enabled;
	bool huge_page_disallowed;
	u8 max_level;
	u8 req_level;
	u8 goal_level;
	gfn_t gfn;
	struct kvm_memory_slot *slot;
	unsigned long mmu_seq;
	kvm_pfn_t pfn;
	struct page *refcounted_page;
	bool map_writable;
	bool write_fault_to_shadow_pgtable;
};

/* Return values of the fault handlers. */
enum {
	RET_PF_CONTINUE = 0,
	RET_PF_RETRY,
	RET_PF_EMULATE,
	RET_PF_WRITE_PROTECTED,
	RET_PF_INVALID,
	RET_PF_FIXED,
	RET_PF_SPURIOUS,
};

int kvm_tdp_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
int mmu_try_to_unsync_pages(struct kvm *kvm, const struct kvm_memory_slot *slot,
			    gfn_t gfn, bool synchronizing, bool prefetch);
void kvm_mmu_gfn_disallow_lpage(const struct kvm_memory_slot *slot, gfn_t gfn);
void kvm_mmu_gfn_allow_lpage(const struct kvm_memory_slot *slot, gfn_t gfn);
void track_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp, enum kvm_mmu_type type);
void untrack_possible_nx_huge_page(struct kvm *kvm, struct kvm_mmu_page *sp, enum kvm_mmu_type type);

#endif /* __KVM_X86_MMU_INTERNAL_H */
