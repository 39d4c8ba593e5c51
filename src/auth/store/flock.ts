import koffi from "koffi";
import { constants } from "node:os";

/**
 * A non-blocking exclusive lock on an open file, the lock Rust's `File::try_lock` takes and so the
 * one Codex takes: `flock(fd, LOCK_EX|LOCK_NB)` on Linux and macOS, `LockFileEx(EXCLUSIVE |
 * FAIL_IMMEDIATELY)` over the whole file on Windows. Node has no flock; koffi (an FFI with prebuilt
 * binaries for every platform Node runs on, no compiler at install) calls the C library directly.
 * fcntl-style locks (what fs-native-extensions and others take on Linux) do not exclude flock ones.
 *
 * Imported only by the lock, which the store loads on its first write.
 */
type TryLock = (fd: number) => boolean;

let tryLock: TryLock | null = null;

/** True when the lock was granted; false when another open file holds it; throws on any other failure. */
export function tryLockExclusive(fd: number): boolean {
  tryLock ??= process.platform === "win32" ? windowsTryLock() : posixTryLock();
  return tryLock(fd);
}

function posixTryLock(): TryLock {
  // The process itself: libc is linked into node, whatever its file name (glibc, musl, libSystem).
  const flock = koffi.load(null).func("int flock(int fd, int operation)") as (fd: number, operation: number) => number;
  const LOCK_EX = 2;
  const LOCK_NB = 4;
  return (fd) => {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const errno = koffi.errno();
    if (errno === constants.errno.EWOULDBLOCK || errno === constants.errno.EAGAIN) return false;
    if (errno === constants.errno.EINTR) return false;
    throw systemError("flock", errno);
  };
}

function windowsTryLock(): TryLock {
  const kernel32 = koffi.load("kernel32.dll");
  const ucrt = koffi.load("ucrtbase.dll");
  const getOsfHandle = ucrt.func("intptr_t _get_osfhandle(int fd)") as (fd: number) => number | bigint;
  koffi.struct("I12A_OVERLAPPED", { Internal: "uintptr_t", InternalHigh: "uintptr_t", Offset: "uint32_t", OffsetHigh: "uint32_t", hEvent: "void *" });
  const lockFileEx = kernel32.func("bool __stdcall LockFileEx(intptr_t hFile, uint32_t flags, uint32_t reserved, uint32_t lowBytes, uint32_t highBytes, _Inout_ I12A_OVERLAPPED *overlapped)") as (
    handle: number | bigint,
    flags: number,
    reserved: number,
    low: number,
    high: number,
    overlapped: Record<string, unknown>,
  ) => boolean;
  const getLastError = kernel32.func("uint32_t __stdcall GetLastError()") as () => number;
  const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
  const LOCKFILE_EXCLUSIVE_LOCK = 0x2;
  const ERROR_LOCK_VIOLATION = 33;
  const ERROR_IO_PENDING = 997;
  return (fd) => {
    const handle = getOsfHandle(fd);
    const overlapped = { Internal: 0, InternalHigh: 0, Offset: 0, OffsetHigh: 0, hEvent: null };
    if (lockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 0xffffffff, 0xffffffff, overlapped)) return true;
    const error = getLastError();
    if (error === ERROR_LOCK_VIOLATION || error === ERROR_IO_PENDING) return false;
    throw Object.assign(new Error(`LockFileEx failed (Windows error ${error})`), { code: `WIN${error}` });
  };
}

function systemError(call: string, errno: number): Error {
  const name = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
  return Object.assign(new Error(`${call} failed (${name})`), { code: name, errno });
}
