/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * MMU entry points used by the rest of x86 KVM, and guest PTE bits.
 */
#ifndef __KVM_X86_MMU_H
#define __KVM_X86_MMU_H

#include <linux/kvm_host.h>

#define PT64_PT_BITS		9
#define PT64_ENT_PER_PAGE	(1 << PT64_PT_BITS)
#define PT32_PT_BITS		10
#define PT32_ENT_PER_PAGE	(1 << PT32_PT_BITS)

#define PT_PRESENT_MASK		(1ULL << 0)
#define PT_WRITABLE_MASK	(1ULL << 1)
#define PT_USER_MASK		(1ULL << 2)
#define PT_PWT_MASK		(1ULL << 3)
#define PT_PCD_MASK		(1ULL << 4)
#define PT_ACCESSED_MASK	(1ULL << 5)
#define PT_DIRTY_MASK		(1ULL << 6)
#define PT_PAGE_SIZE_MASK	(1ULL << 7)
#define PT_PAT_MASK		(1ULL << 7)
#define PT_GLOBAL_MASK		(1ULL << 8)
#define PT64_NX_SHIFT		63
#define PT64_NX_MASK		(1ULL << PT64_NX_SHIFT)

#define PT64_ROOT_5LEVEL	5
#define PT64_ROOT_4LEVEL	4
#define PT32_ROOT_LEVEL		2
#define PT32E_ROOT_LEVEL	3

/* CR4 bits that change the MMU role; toggling PGE only needs a guest TLB flush. */
#define KVM_MMU_CR4_ROLE_BITS	(X86_CR4_PSE | X86_CR4_PAE | X86_CR4_LA57 | \
				 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE)
#define KVM_MMU_CR0_ROLE_BITS	(X86_CR0_PG | X86_CR0_WP)

extern bool tdp_enabled;
extern bool tdp_mmu_enabled;

void kvm_init_mmu(struct kvm_vcpu *vcpu);
void kvm_mmu_reset_context(struct kvm_vcpu *vcpu);
int kvm_mmu_load(struct kvm_vcpu *vcpu);
void kvm_mmu_unload(struct kvm_vcpu *vcpu);
void kvm_mmu_free_obsolete_roots(struct kvm_vcpu *vcpu);
void kvm_mmu_sync_roots(struct kvm_vcpu *vcpu);
void kvm_mmu_sync_prev_roots(struct kvm_vcpu *vcpu);
void kvm_mmu_track_write(struct kvm_vcpu *vcpu, gpa_t gpa, const u8 *new, int bytes);

/*
 * Called before every guest entry: drop obsolete roots if a fast zap asked for it, then make sure
 * the vCPU has a valid root loaded.
 */
static inline int kvm_mmu_reload(struct kvm_vcpu *vcpu)
{
	if (kvm_check_request(KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, vcpu))
		kvm_mmu_free_obsolete_roots(vcpu);

	if (likely(vcpu->arch.mmu->root.hpa != INVALID_PAGE))
		return 0;

	return kvm_mmu_load(vcpu);
}

static inline bool is_tdp_mmu_enabled(void)
{
	return tdp_mmu_enabled;
}

static inline unsigned long kvm_mmu_available_pages_hint(struct kvm *kvm)
{
	/* informative only: the real accounting lives in kvm_mmu_available_pages() */
	return kvm->arch.n_max_mmu_pages - kvm->arch.n_used_mmu_pages;
}

static inline gfn_t kvm_mmu_max_gfn(void)
{
	return (1ULL << (kvm_host.maxphyaddr - PAGE_SHIFT)) - 1;
}

#endif /* __KVM_X86_MMU_H */
