/* LD_PRELOAD: make CPUID report no AVX-512 (an AVX2-only x86-64), via Linux CPUID faulting.
 * arch_prctl(ARCH_SET_CPUID, 0) makes every CPUID in this process raise SIGSEGV; the handler runs the
 * real CPUID (faulting off for that instant), clears the AVX-512 (and AMX, AVX-VNNI) bits, and steps
 * over the 2-byte instruction. xgetbv is untouched: code that asks CPUID first (MLAS, oneDNN, MKL)
 * then takes its AVX2 paths. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#define ARCH_SET_CPUID 0x1012
static volatile long hits;
static int set_cpuid(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }
static void handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    greg_t *g = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) { signal(SIGSEGV, SIG_DFL); return; }
    uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX], a, b, c, d;
    set_cpuid(1);
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
    set_cpuid(0);
    if (leaf == 7 && sub == 0) {
        b &= ~((1u<<16)|(1u<<17)|(1u<<21)|(1u<<26)|(1u<<27)|(1u<<28)|(1u<<30)|(1u<<31));
        c &= ~((1u<<1)|(1u<<6)|(1u<<11)|(1u<<12)|(1u<<14));
        d &= ~((1u<<2)|(1u<<3)|(1u<<8)|(1u<<22)|(1u<<23)|(1u<<24)|(1u<<25));
    } else if (leaf == 7 && sub == 1) {
        a &= ~((1u<<4)|(1u<<5)|(1u<<23));  /* AVX-VNNI, AVX512_BF16, AVX-IFMA */
    } else if (leaf == 0xd && sub == 0) {
        a &= ~0xe0u;  /* XSAVE components 5-7 (opmask, ZMM) not offered */
    }
    g[REG_RAX] = a; g[REG_RBX] = b; g[REG_RCX] = c; g[REG_RDX] = d;
    g[REG_RIP] += 2;
    hits++;
}
__attribute__((constructor)) static void init(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler; sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    if (set_cpuid(0) != 0) { perror("cpuid_avx2: ARCH_SET_CPUID"); _exit(3); }
    if (getenv("CPUID_AVX2_VERBOSE")) fprintf(stderr, "cpuid_avx2: CPUID faulting on, AVX-512 hidden\n");
}
__attribute__((destructor)) static void fini(void) {
    if (getenv("CPUID_AVX2_VERBOSE")) fprintf(stderr, "cpuid_avx2: %ld CPUID calls answered\n", hits);
}
