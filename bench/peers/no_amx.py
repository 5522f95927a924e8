#!/usr/bin/env python3
"""no_amx.py - run a command as on a CPU without AMX, to compare peers at AVX-512 VNNI.

Linux hands out AMX tile state only to a process that asks for it with
arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA). Every AMX user (ONNX Runtime's
MLAS, oneDNN, edgeq's `amx` level) asks before its first tile instruction and keeps
its AVX-512 kernels when the request fails. This module installs a seccomp filter that
makes exactly that request fail with EPERM, then runs the command; the filter is
inherited by the command's threads and children, and nothing else changes.

So on an AMX machine, `compare.py --no-amx` measures edgeq and ONNX Runtime as they
would run on the same core without AMX (a Zen 4/5 or an Ice Lake Xeon has AVX-512 VNNI
and no AMX), instead of edgeq at `--isa avx512vnni` against an ONNX Runtime that still
uses AMX tiles.

Usage: no_amx.py COMMAND [ARG...]     (or `preexec` as a subprocess preexec_fn)
Linux x86-64 only; on anything else it exits with status 2 (preexec raises OSError).
"""
import ctypes
import errno
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
AUDIT_ARCH_X86_64 = 0xC000003E
NR_ARCH_PRCTL = 158           # x86-64 system call number of arch_prctl
ARCH_REQ_XCOMP_PERM = 0x1023  # <asm/prctl.h>
XFEATURE_XTILEDATA = 18

# classic BPF opcodes
BPF_LD_W_ABS = 0x20           # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15              # BPF_JMP | BPF_JEQ | BPF_K
BPF_RET_K = 0x06              # BPF_RET | BPF_K

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
OFF_NR, OFF_ARCH, OFF_ARG0, OFF_ARG1 = 0, 4, 16, 24   # low words (little endian)


def _filter():
    """The BPF program: arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) -> EPERM."""
    deny = SECCOMP_RET_ERRNO | errno.EPERM
    prog = [
        (BPF_LD_W_ABS, 0, 0, OFF_ARCH),
        (BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),       # another ABI: allow
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        (BPF_LD_W_ABS, 0, 0, OFF_NR),
        (BPF_JEQ_K, 0, 5, NR_ARCH_PRCTL),           # not arch_prctl: allow
        (BPF_LD_W_ABS, 0, 0, OFF_ARG0),
        (BPF_JEQ_K, 0, 3, ARCH_REQ_XCOMP_PERM),
        (BPF_LD_W_ABS, 0, 0, OFF_ARG1),
        (BPF_JEQ_K, 0, 1, XFEATURE_XTILEDATA),
        (BPF_RET_K, 0, 0, deny),
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog), len(prog)


def preexec():
    """Install the filter in this process (for subprocess's preexec_fn)."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise OSError("no_amx: Linux x86-64 only")
    libc = ctypes.CDLL(None, use_errno=True)
    code, count = _filter()
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(count, ctypes.addressof(buf))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_amx: prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_amx: prctl(PR_SET_SECCOMP)")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    try:
        preexec()
    except OSError as e:
        print(e, file=sys.stderr)
        return 2
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        print(f"no_amx: cannot run {argv[0]}: {e.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
