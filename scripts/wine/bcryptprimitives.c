/*
 * A stand-in for bcryptprimitives.dll, for running footprint.exe under Wine 8 only
 * (scripts/windows-check.sh). Rust's standard library imports ProcessPrng from this DLL
 * and calls it at start-up (to seed HashMap keys); Wine 8's DLL does not export it, so the
 * loader refuses the executable. This one exports ProcessPrng and nothing else, filling the
 * buffer from advapi32's SystemFunction036 (RtlGenRandom), which Wine has. A real Windows
 * (10 or later) has ProcessPrng itself: never ship this DLL.
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* advapi32's export, declared here rather than through <ntsecapi.h>'s RtlGenRandom macro. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng has no failure to report (it always returns TRUE on Windows); a failure of the
 * generator underneath ends the process rather than hand back an unfilled buffer. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            ExitProcess(0xC0000001u); /* STATUS_UNSUCCESSFUL */
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
