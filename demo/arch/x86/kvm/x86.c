// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * The few x86.c entry points that appear in MMU call stacks: guest entry servicing MMU requests,
 * CR4 handling, and the memslot / nr_mmu_pages ioctls.
 */
#include <linux/kvm_host.h>
#include "mmu.h"

/* Service pending requests, make sure a root is loaded, then enter the guest. */
static int vcpu_enter_guest(struct kvm_vcpu *vcpu)
{
	int r;

	if (kvm_request_pending(vcpu)) {
		if (kvm_check_request(KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, vcpu))
			kvm_mmu_free_obsolete_roots(vcpu);
		if (kvm_check_request(KVM_REQ_TLB_FLUSH, vcpu))
			kvm_vcpu_flush_tlb_all(vcpu);
		if (kvm_check_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu))
			kvm_vcpu_flush_tlb_current(vcpu);
		if (kvm_check_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu))
			kvm_vcpu_flush_tlb_guest(vcpu);
		if (kvm_check_request(KVM_REQ_MMU_SYNC, vcpu))
			kvm_mmu_sync_roots(vcpu);
		if (kvm_check_request(KVM_REQ_LOAD_MMU_PGD, vcpu))
			kvm_mmu_load_pgd(vcpu);
	}

	r = kvm_mmu_reload(vcpu);
	if (unlikely(r))
		goto cancel_injection;

	vcpu->mode = IN_GUEST_MODE;
	/* order the mode store before reading requests again: pairs with kvm_make_all_cpus_request */
	smp_mb__after_srcu_read_unlock();
	if (kvm_vcpu_exit_request(vcpu))
		goto cancel_injection;
	kvm_x86_call(vcpu_run)(vcpu, run_flags);
	vcpu->mode = OUTSIDE_GUEST_MODE;
	return 1;

cancel_injection:
	vcpu->mode = OUTSIDE_GUEST_MODE;
	return r;
}

void kvm_post_set_cr4(struct kvm_vcpu *vcpu, unsigned long old_cr4, unsigned long cr4)
{
	/* role bits changed: new MMU context; only PGE changed: just flush the guest TLB */
	if ((cr4 ^ old_cr4) & KVM_MMU_CR4_ROLE_BITS)
		kvm_mmu_reset_context(vcpu);
	else if ((cr4 ^ old_cr4) & X86_CR4_PGE)
		kvm_make_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu);
}

int kvm_set_cr4(struct kvm_vcpu *vcpu, unsigned long cr4)
{
	unsigned long old_cr4 = kvm_read_cr4(vcpu);

	if (!kvm_is_valid_cr4(vcpu, cr4))
		return 1;
	kvm_x86_call(set_cr4)(vcpu, cr4);
	kvm_post_set_cr4(vcpu, old_cr4, cr4);
	return 0;
}

static int kvm_vm_ioctl_set_nr_mmu_pages(struct kvm *kvm, unsigned long kvm_nr_mmu_pages)
{
	if (kvm_nr_mmu_pages < KVM_MIN_ALLOC_MMU_PAGES)
		return -EINVAL;
	mutex_lock(&kvm->slots_lock);
	kvm_mmu_change_mmu_pages(kvm, kvm_nr_mmu_pages);
	kvm->arch.n_requested_mmu_pages = kvm_nr_mmu_pages;
	mutex_unlock(&kvm->slots_lock);
	return 0;
}

void kvm_arch_commit_memory_region(struct kvm *kvm, struct kvm_memory_slot *old,
				   const struct kvm_memory_slot *new, enum kvm_mr_change change)
{
	/* without an explicit KVM_SET_NR_MMU_PAGES, the limit follows guest memory size */
	if (!kvm->arch.n_requested_mmu_pages && (change == KVM_MR_CREATE || change == KVM_MR_DELETE))
		kvm_mmu_change_mmu_pages(kvm, kvm_mmu_calculate_default_mmu_pages(kvm));
}

int kvm_set_cr0(struct kvm_vcpu *vcpu, unsigned long cr0)
{
	unsigned long old_cr0 = kvm_read_cr0(vcpu);

	kvm_x86_call(set_cr0)(vcpu, cr0);
	/* WP and PG are part of the MMU role */
	if ((cr0 ^ old_cr0) & KVM_MMU_CR0_ROLE_BITS)
		kvm_mmu_reset_context(vcpu);
	return 0;
}

int kvm_set_cr3(struct kvm_vcpu *vcpu, unsigned long cr3)
{
	bool skip_tlb_flush = false;

	if (cr3 != kvm_read_cr3(vcpu))
		kvm_mmu_new_pgd(vcpu, cr3);
	vcpu->arch.cr3 = cr3;
	if (!skip_tlb_flush)
		kvm_invalidate_pcid(vcpu, 0);
	return 0;
}

static void kvm_vcpu_flush_tlb_guest(struct kvm_vcpu *vcpu)
{
	/* with shadow paging, a guest TLB flush must also resync unsync shadow pages */
	if (!tdp_enabled)
		kvm_mmu_sync_roots(vcpu);
	kvm_x86_call(flush_tlb_guest)(vcpu);
	++vcpu->stat.tlb_flush;
}
