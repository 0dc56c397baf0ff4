// The RuntimeDefault seccomp profile: what containerd (and so the kubelet's
// RuntimeDefault) lets a container call. Everything not allowed fails with
// EPERM. On top of the syscalls every container may make: a few by
// architecture, more for each capability the container holds (mount with
// CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE, ...), socket(2) for every
// address family but AF_ALG and AF_VSOCK, personality(2) for the harmless
// personas only, and - without CAP_SYS_ADMIN - clone(2) without namespace
// flags and clone3(2) answered with ENOSYS so that libcs fall back to clone.
//
// Names the host's libseccomp does not know are skipped by crun and runc,
// so the lists hold newer syscalls too.
import type { OciSeccomp, SeccompRule } from './types.js';

const words = (s: string) => s.trim().split(/\s+/);

/** Allowed for every container, by what they are for. */
const everyone: Record<string, string> = {
  files: `access chdir chmod chown chown32 close close_range copy_file_range creat dup dup2 dup3 faccessat faccessat2
    fadvise64 fadvise64_64 fallocate fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync
    flock fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futimesat getcwd getdents getdents64
    lchown lchown32 link linkat _llseek lseek lstat lstat64 mkdir mkdirat mknod mknodat name_to_handle_at newfstatat
    open openat openat2 pipe pipe2 pread64 preadv preadv2 pwrite64 pwritev pwritev2 read readahead readlink readlinkat
    readv rename renameat renameat2 rmdir sendfile sendfile64 splice stat stat64 statfs statfs64 statx symlink
    symlinkat sync sync_file_range syncfs tee truncate truncate64 umask unlink unlinkat utime utimensat
    utimensat_time64 utimes vmsplice write writev cachestat listmount statmount`,
  xattrs: `fgetxattr flistxattr fremovexattr fsetxattr getxattr getxattrat lgetxattr listxattr listxattrat llistxattr
    lremovexattr lsetxattr removexattr removexattrat setxattr setxattrat`,
  events: `epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
    eventfd eventfd2 fanotify_mark inotify_add_watch inotify_init inotify_init1 inotify_rm_watch poll ppoll
    ppoll_time64 pselect6 pselect6_time64 select _newselect signalfd signalfd4 timerfd_create timerfd_gettime
    timerfd_gettime64 timerfd_settime timerfd_settime64`,
  io: `io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit ioctl ioprio_get
    ioprio_set`,
  memory: `brk madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mlock mlock2 mlockall mmap mmap2
    mprotect mremap mseal msync munlock munlockall munmap pkey_alloc pkey_free pkey_mprotect process_mrelease
    remap_file_pages`,
  processes: `capget capset execve execveat exit exit_group fork getcpu get_robust_list getpgid getpgrp getpid
    getppid getpriority getrandom getrlimit getrusage getsid get_thread_area gettid landlock_add_rule
    landlock_create_ruleset landlock_restrict_self lsm_get_self_attr lsm_list_modules lsm_set_self_attr pidfd_open
    pidfd_send_signal prctl prlimit64 restart_syscall rseq seccomp setpgid setpriority setrlimit set_robust_list setsid
    set_thread_area set_tid_address sysinfo times ugetrlimit uname uretprobe vfork wait4 waitid waitpid`,
  scheduling: `sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
    sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
    sched_setparam sched_setscheduler sched_yield`,
  credentials: `getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getresgid getresgid32
    getresuid getresuid32 getuid getuid32 setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups
    setgroups32 setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setuid setuid32`,
  signals: `alarm kill pause rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
    rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack sigprocmask sigreturn tgkill tkill`,
  time: `adjtimex clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
    clock_nanosleep clock_nanosleep_time64 getitimer gettimeofday nanosleep setitimer time timer_create timer_delete
    timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64`,
  futexes: 'futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake',
  sockets: `accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg
    recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socketcall socketpair`,
  ipc: `ipc mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
    mq_unlink msgctl msgget msgrcv msgsnd semctl semget semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget`,
  // Allowed since Linux 4.8, where ptrace no longer bypasses seccomp.
  tracing: 'process_vm_readv process_vm_writev ptrace',
};

/** Node's process.arch → its seccomp architecture, the 32-bit ABIs its kernel also runs, and its own syscalls. */
const architectures: Record<string, { native: string; compat: string[]; syscalls: string }> = {
  x64: { native: 'SCMP_ARCH_X86_64', compat: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: 'arch_prctl modify_ldt' },
  ia32: { native: 'SCMP_ARCH_X86', compat: [], syscalls: 'modify_ldt' },
  arm64: { native: 'SCMP_ARCH_AARCH64', compat: ['SCMP_ARCH_ARM'], syscalls: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls' },
  arm: { native: 'SCMP_ARCH_ARM', compat: [], syscalls: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls' },
  s390x: { native: 'SCMP_ARCH_S390X', compat: ['SCMP_ARCH_S390'], syscalls: 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr' },
  ppc64: { native: 'SCMP_ARCH_PPC64LE', compat: [], syscalls: 'sync_file_range2 swapcontext' },
  riscv64: { native: 'SCMP_ARCH_RISCV64', compat: [], syscalls: 'riscv_flush_icache riscv_hwprobe' },
  loong64: { native: 'SCMP_ARCH_LOONGARCH64', compat: [], syscalls: '' },
};

/** The syscalls a capability brings with it. */
const byCapability: Record<string, string> = {
  CAP_DAC_READ_SEARCH: 'open_by_handle_at',
  CAP_SYS_ADMIN: `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr
    move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2
    unshare`,
  CAP_SYS_BOOT: 'reboot',
  CAP_SYS_CHROOT: 'chroot',
  CAP_SYS_MODULE: 'delete_module init_module finit_module',
  CAP_SYS_PACCT: 'acct',
  CAP_SYS_PTRACE: 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace',
  CAP_SYS_RAWIO: 'iopl ioperm',
  CAP_SYS_TIME: 'settimeofday stime clock_settime clock_settime64',
  CAP_SYS_TTY_CONFIG: 'vhangup',
  CAP_SYS_NICE: 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node',
  CAP_SYSLOG: 'syslog',
  CAP_BPF: 'bpf',
  CAP_PERFMON: 'perf_event_open',
};

const AF_ALG = 38;
const AF_VSOCK = 40;
/** PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const ENOSYS = 38;

const allow = (names: string[], args?: SeccompRule['args']): SeccompRule => ({ names, action: 'SCMP_ACT_ALLOW', ...(args ? { args } : {}) });

/**
 * The RuntimeDefault profile for a container whose bounding set is
 * `capabilities`, on the architecture `arch` (Node's process.arch). With
 * `compat` false only the native ABI is allowed (32-bit programs are
 * killed): a filter a third the size, that the runtime compiles in a
 * fraction of the time.
 */
export function runtimeDefaultProfile(capabilities: readonly string[], arch: string = process.arch, compat = true): OciSeccomp {
  const a = architectures[arch] ?? { native: '', compat: [], syscalls: '' };
  const arches = a.native ? [a.native, ...(compat ? a.compat : [])] : [];
  const rules: SeccompRule[] = [allow(Object.values(everyone).flatMap(words))];
  if (a.syscalls) rules.push(allow(words(a.syscalls)));
  // One condition per rule: conditions on the same argument in one rule are ORed by the runtimes.
  rules.push(
    allow(['socket'], [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }]),
    allow(['socket'], [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }]),
    allow(['socket'], [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }]),
    ...PERSONALITIES.map((value) => allow(['personality'], [{ index: 0, value, op: 'SCMP_CMP_EQ' }])),
  );
  for (const cap of capabilities) if (byCapability[cap]) rules.push(allow(words(byCapability[cap])));
  if (!capabilities.includes('CAP_SYS_ADMIN')) {
    // s390 passes clone's flags second.
    const index = arch === 's390x' ? 1 : 0;
    rules.push(allow(['clone'], [{ index, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]));
    rules.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: arches, syscalls: rules };
}
